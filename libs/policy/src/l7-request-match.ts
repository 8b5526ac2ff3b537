// Per-field request matchers for waypoint (L7) authorization, built the way istiod's authz model generates Envoy RBAC
// matchers (pilot/pkg/security/authz/model/generator.go) and evaluated over one request's facts.

import type { Condition, Operation, Source } from './authorization-policy';
import { canonicalizeIp, cidrContains, parseCidr, parseIpAddress, type IpAddress } from './ip-address';
import {
  matchesNamespace,
  matchesPrincipal,
  matchesServiceAccount,
  matchesString,
  matchesStringIgnoreCase,
  normalizePrincipal,
  parsePortValue,
  parsePrincipal,
  toServiceAccountMatch,
  toStringMatch,
  type SpiffeIdentity,
} from './match-core';
import { compilePath, normalizePathBase } from './path-match';

/** An HTTP request as the waypoint sees it. */
export interface L7Request {
  readonly method: string;
  /** The raw `:path`, query included; matched after BASE normalization. */
  readonly path: string;
  /** `:authority`, compared case-insensitively by `hosts`. */
  readonly host: string;
  /** Port the request targets; `ports`/`notPorts` compare against it (Envoy `destination_port`). */
  readonly port: number;
  /** Lower-cased header names. */
  readonly headers: Readonly<Record<string, string | readonly string[]>>;
  /** Peer IP of the connection (`ipBlocks`, `source.ip`). */
  readonly sourceIp: string;
  /** Original client IP from XFF/PROXY (`remoteIpBlocks`, `remote.ip`). */
  readonly remoteIp: string;
  /** mTLS peer principal, with or without `spiffe://`; absent for plaintext. */
  readonly sourcePrincipal?: string;
  /** Validated JWT principal `<iss>/<sub>`; absent when the request carried no token. */
  readonly requestPrincipal?: string;
  /** Validated JWT payload. */
  readonly claims?: Readonly<Record<string, unknown>>;
  readonly destinationIp: string;
  /** `destination.port`; the same Envoy attribute as `port`, normally the same value. */
  readonly destinationPort: number;
  readonly sni?: string;
  /** Answers of ext-authz providers for matching CUSTOM policies, keyed by `ns/name`. */
  readonly customResults?: ReadonlyMap<string, boolean>;
}

/** What matchers read, derived once per request. */
export interface RequestFacts {
  readonly request: L7Request;
  readonly path: string;
  readonly headers: ReadonlyMap<string, readonly string[]>;
  readonly sourceIp?: IpAddress;
  readonly remoteIp?: IpAddress;
  readonly destinationIp?: IpAddress;
  readonly principal?: string;
  readonly identity?: SpiffeIdentity;
  readonly issuer?: string;
  readonly subject?: string;
}

function ipOf(text: string): IpAddress | undefined {
  const ip = parseIpAddress(text);
  return ip === undefined ? undefined : canonicalizeIp(ip);
}

export function requestFacts(request: L7Request): RequestFacts {
  const headers = new Map<string, readonly string[]>();
  for (const [name, value] of Object.entries(request.headers)) {
    headers.set(name.toLowerCase(), typeof value === 'string' ? [value] : value);
  }
  let issuer: string | undefined;
  let subject: string | undefined;
  if (request.requestPrincipal !== undefined) {
    // Istio splits request principals at the last '/', since issuers are often URLs.
    const at = request.requestPrincipal.lastIndexOf('/');
    issuer = at < 0 ? request.requestPrincipal : request.requestPrincipal.slice(0, at);
    subject = at < 0 ? '' : request.requestPrincipal.slice(at + 1);
  } else if (typeof request.claims?.['iss'] === 'string' && typeof request.claims['sub'] === 'string') {
    issuer = request.claims['iss'];
    subject = request.claims['sub'];
  }
  const principal = normalizePrincipal(request.sourcePrincipal);
  const identity = parsePrincipal(principal);
  return {
    request,
    path: normalizePathBase(request.path),
    headers,
    ...opt('sourceIp', ipOf(request.sourceIp)),
    ...opt('remoteIp', ipOf(request.remoteIp)),
    ...opt('destinationIp', ipOf(request.destinationIp)),
    ...opt('principal', principal),
    ...opt('identity', identity),
    ...opt('issuer', issuer),
    ...opt('subject', subject),
  };
}

function opt<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** One compiled value test. */
export type ValueTest = (facts: RequestFacts) => boolean;

/** A field pair of a source/operation, or one `when` condition: positive any-of, negative none-of. */
export interface FieldMatcher {
  readonly field: string;
  readonly test: ValueTest;
}

export type Compiled<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: string };

const ok = <T>(value: T): Compiled<T> => ({ ok: true, value });

function pair(field: string, negativeField: string, positive: ValueTest[], negative: ValueTest[]): FieldMatcher[] {
  const out: FieldMatcher[] = [];
  if (positive.length > 0) out.push({ field, test: (f) => positive.some((t) => t(f)) });
  if (negative.length > 0) out.push({ field: negativeField, test: (f) => !negative.some((t) => t(f)) });
  return out;
}

const notName = (field: string): string => `not${field.charAt(0).toUpperCase()}${field.slice(1)}`;

/** istio requestPrincipalGenerator: `iss/sub` with `*` forms applied to issuer and subject separately. */
function requestPrincipalTest(value: string): ValueTest {
  const any = (v: string | undefined) => v !== undefined && v !== '';
  const at = value.lastIndexOf('/');
  const iss = at < 0 ? value : value.slice(0, at);
  const sub = at < 0 ? '' : value.slice(at + 1);
  let issTest: (v: string | undefined) => boolean;
  let subTest: (v: string | undefined) => boolean;
  if (value === '*') {
    issTest = any;
    subTest = any;
  } else if (value.startsWith('*')) {
    issTest = at < 0 ? any : iss === '*' ? any : (v) => v !== undefined && v.endsWith(iss.slice(1));
    subTest = at < 0 ? (v) => v !== undefined && v.endsWith(value.slice(1)) : (v) => v === sub;
  } else if (value.endsWith('*')) {
    issTest = at < 0 ? (v) => v !== undefined && v.startsWith(value.slice(0, -1)) : (v) => v === iss;
    subTest = at < 0 ? any : sub === '*' ? any : (v) => v !== undefined && v.startsWith(sub.slice(0, -1));
  } else {
    issTest = (v) => v === iss;
    subTest = (v) => v === sub;
  }
  return (f) => f.issuer !== undefined && issTest(f.issuer) && subTest(f.subject);
}

const cidrTest = (value: string, pick: (f: RequestFacts) => IpAddress | undefined): Compiled<ValueTest> => {
  const cidr = parseCidr(value);
  if (cidr === undefined) return { ok: false, problem: `bad IP or CIDR "${value}"` };
  return ok((f) => {
    const ip = pick(f);
    return ip !== undefined && cidrContains(cidr, ip);
  });
};

function compileAll(values: readonly string[], compile: (v: string) => Compiled<ValueTest>): Compiled<ValueTest[]> {
  const tests: ValueTest[] = [];
  for (const value of values) {
    const compiled = compile(value);
    if (!compiled.ok) return compiled;
    tests.push(compiled.value);
  }
  return ok(tests);
}

function fieldPair(
  [field, negativeField]: readonly [string, string],
  positive: readonly string[] | undefined,
  negative: readonly string[] | undefined,
  compile: (v: string) => Compiled<ValueTest>,
): Compiled<FieldMatcher[]> {
  const p = compileAll(positive ?? [], compile);
  if (!p.ok) return p;
  const n = compileAll(negative ?? [], compile);
  if (!n.ok) return n;
  return ok(pair(field, negativeField, p.value, n.value));
}

type Table = readonly [string, readonly string[] | undefined, readonly string[] | undefined, (v: string) => Compiled<ValueTest>][];

function compileTable(table: Table): Compiled<FieldMatcher[]> {
  const out: FieldMatcher[] = [];
  for (const [field, positive, negative, compile] of table) {
    const compiled = fieldPair([field, notName(field)], positive, negative, compile);
    if (!compiled.ok) return { ok: false, problem: `${field}: ${compiled.problem}` };
    out.push(...compiled.value);
  }
  return ok(out);
}

export function compileSource(source: Source, policyNamespace: string): Compiled<FieldMatcher[]> {
  const strings = (test: (m: ReturnType<typeof toStringMatch>, f: RequestFacts) => boolean) => (v: string) => {
    const m = toStringMatch(v);
    return ok<ValueTest>((f) => test(m, f));
  };
  return compileTable([
    ['principals', source.principals, source.notPrincipals, strings((m, f) => matchesPrincipal(m, f.principal))],
    ['requestPrincipals', source.requestPrincipals, source.notRequestPrincipals, (v) => ok(requestPrincipalTest(v))],
    ['namespaces', source.namespaces, source.notNamespaces, strings((m, f) => matchesNamespace(m, f.identity))],
    ['serviceAccounts', source.serviceAccounts, source.notServiceAccounts, (v) => {
      const sa = toServiceAccountMatch(v, policyNamespace);
      return ok<ValueTest>((f) => matchesServiceAccount(sa, f.identity));
    }],
    ['ipBlocks', source.ipBlocks, source.notIpBlocks, (v) => cidrTest(v, (f) => f.sourceIp)],
    ['remoteIpBlocks', source.remoteIpBlocks, source.notRemoteIpBlocks, (v) => cidrTest(v, (f) => f.remoteIp)],
    ['trustDomains', source.trustDomains, source.notTrustDomains, strings((m, f) => matchesString(m, f.identity?.trustDomain))],
  ]);
}

function portTest(v: string, pick: (f: RequestFacts) => number): Compiled<ValueTest> {
  const port = parsePortValue(v);
  return port === undefined ? { ok: false, problem: `bad port "${v}"` } : ok((f) => pick(f) === port);
}

export function compileOperation(operation: Operation): Compiled<FieldMatcher[]> {
  return compileTable([
    // Envoy HostMatcher: case-insensitive; `*` is a presence check on :authority, which is always present.
    ['hosts', operation.hosts, operation.notHosts, (v) => {
      const m = toStringMatch(v);
      return ok<ValueTest>((f) => m.kind === 'presence' || matchesStringIgnoreCase(m, f.request.host));
    }],
    ['ports', operation.ports, operation.notPorts, (v) => portTest(v, (f) => f.request.port)],
    ['methods', operation.methods, operation.notMethods, (v) => {
      const m = toStringMatch(v);
      return ok<ValueTest>((f) => m.kind === 'presence' || matchesString(m, f.request.method));
    }],
    ['paths', operation.paths, operation.notPaths, (v) => {
      const path = compilePath(v);
      return 'problem' in path ? { ok: false, problem: path.problem } : ok<ValueTest>((f) => path.matches(f.path));
    }],
  ]);
}

/** Istio's `[a][b]` key syntax: `request.auth.claims[a][b]` → ["a", "b"]; `request.headers[x]` → ["x"]. */
export function bracketNames(rest: string): string[] | undefined {
  const names: string[] = [];
  let remaining = rest;
  while (remaining.length > 0) {
    const close = remaining.indexOf(']');
    if (!remaining.startsWith('[') || close < 2) return undefined;
    names.push(remaining.slice(1, close));
    remaining = remaining.slice(close + 1);
  }
  return names.length > 0 ? names : undefined;
}

/** Claim lookup through nested objects; a string or the strings of a list (any element may match). */
function claimValues(claims: Readonly<Record<string, unknown>> | undefined, path: readonly string[]): string[] | undefined {
  let current: unknown = claims;
  for (const name of path) {
    if (typeof current !== 'object' || current === null || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[name];
  }
  if (typeof current === 'string') return [current];
  if (Array.isArray(current)) return current.filter((v): v is string => typeof v === 'string');
  return undefined;
}

const anyString = (pick: (f: RequestFacts) => readonly string[] | undefined) => (v: string) => {
  const m = toStringMatch(v);
  return ok<ValueTest>((f) => (pick(f) ?? []).some((value) => matchesString(m, value)));
};

/** The value test for one `when` key, or the reason it cannot be enforced here. */
function conditionCompiler(key: string, policyNamespace: string): ((v: string) => Compiled<ValueTest>) | string {
  const bracket = (prefix: string) => (key.startsWith(`${prefix}[`) ? bracketNames(key.slice(prefix.length)) : undefined);
  const header = bracket('request.headers');
  if (header !== undefined && header.length === 1) {
    const name = (header[0] ?? '').toLowerCase();
    // Envoy HeaderMatcher: `*` is presence (even an empty value); repeated headers are joined with ','.
    return (v) => {
      const m = toStringMatch(v);
      return ok<ValueTest>((f) => {
        const values = f.headers.get(name);
        return values !== undefined && (m.kind === 'presence' || matchesString(m, values.join(',')));
      });
    };
  }
  const inline = bracket('request.experimental.inline.headers');
  if (inline !== undefined && inline.length === 1) {
    const name = (inline[0] ?? '').toLowerCase();
    // Matches any element of the comma-joined value (istio HeaderMatcherWithRegex).
    return anyString((f) => f.headers.get(name)?.join(',').split(','));
  }
  const claim = bracket('request.auth.claims');
  if (claim !== undefined) return anyString((f) => claimValues(f.request.claims, claim));
  switch (key) {
    case 'request.auth.principal':
      return (v) => ok(requestPrincipalTest(v));
    case 'request.auth.audiences':
      return anyString((f) => claimValues(f.request.claims, ['aud']));
    case 'request.auth.presenter':
      return anyString((f) => claimValues(f.request.claims, ['azp']));
    case 'source.ip':
      return (v) => cidrTest(v, (f) => f.sourceIp);
    case 'remote.ip':
      return (v) => cidrTest(v, (f) => f.remoteIp);
    case 'destination.ip':
      return (v) => cidrTest(v, (f) => f.destinationIp);
    case 'destination.port':
      return (v) => portTest(v, (f) => f.request.destinationPort);
    case 'source.namespace':
      return (v) => { const m = toStringMatch(v); return ok<ValueTest>((f) => matchesNamespace(m, f.identity)); };
    case 'source.principal':
      return (v) => { const m = toStringMatch(v); return ok<ValueTest>((f) => matchesPrincipal(m, f.principal)); };
    case 'source.serviceAccount':
      return (v) => {
        const sa = toServiceAccountMatch(v, policyNamespace);
        return ok<ValueTest>((f) => matchesServiceAccount(sa, f.identity));
      };
    case 'connection.sni':
      return (v) => { const m = toStringMatch(v); return ok<ValueTest>((f) => matchesString(m, f.request.sni)); };
    default:
      return `unsupported when key ${key}`;
  }
}

export function compileCondition(condition: Condition, policyNamespace: string): Compiled<FieldMatcher[]> {
  const compiler = conditionCompiler(condition.key, policyNamespace);
  if (typeof compiler === 'string') return { ok: false, problem: compiler };
  const names = [`${condition.key} values`, `${condition.key} notValues`] as const;
  const compiled = fieldPair(names, condition.values, condition.notValues, compiler);
  if (!compiled.ok) return { ok: false, problem: `${condition.key}: ${compiled.problem}` };
  return compiled;
}
