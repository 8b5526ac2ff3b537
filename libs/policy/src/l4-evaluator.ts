// ztunnel's L4 authorization (`DemandProxyState::assert_rbac` and `Authorization::matches` in src/rbac.rs):
// compile the candidate Authorizations once, then evaluate each connection against them (§6.5).

import type { Authorization, AuthorizationMatch } from '@weft/mesh-model';

import { decideAllowDeny, type AuthorizationDecision } from './authorization-decision';
import { canonicalizeIp, cidrContains, compileCidrMatch, parseIpAddress, type CompiledCidr, type IpAddress } from './ip-address';
import {
  evaluatePair,
  identityPrincipal,
  matchesNamespace,
  matchesPrincipal,
  matchesServiceAccount,
  type PairResult,
  type SpiffeIdentity,
} from './match-core';
import { isEmptyMatch } from './ztunnel-conversion';

/** What ztunnel knows about an inbound connection. */
export interface L4Connection {
  readonly srcIp: string;
  readonly dstIp: string;
  /** The target port after service → target translation (a policy port 8000 never matches target port 80). */
  readonly dstPort: number;
  /** The mTLS peer; absent on the plaintext 15006 path. */
  readonly srcIdentity?: SpiffeIdentity;
}

interface CompiledMatch {
  readonly match: AuthorizationMatch;
  readonly empty: boolean;
  readonly sourceIps: readonly CompiledCidr[];
  readonly notSourceIps: readonly CompiledCidr[];
  readonly destinationIps: readonly CompiledCidr[];
  readonly notDestinationIps: readonly CompiledCidr[];
}

export interface CompiledL4Policy {
  readonly key: string;
  readonly action: 'ALLOW' | 'DENY';
  readonly scope: Authorization['scope'];
  readonly dryRun: boolean;
  /** rules → clauses → matches, as in ztunnel's `Vec<Vec<Vec<RbacMatch>>>`. */
  readonly rules: readonly (readonly (readonly CompiledMatch[])[])[];
}

export interface CompiledL4 {
  readonly policies: readonly CompiledL4Policy[];
  /** Values ztunnel would drop while decoding (malformed CIDRs), one line each. */
  readonly warnings: readonly string[];
}

/** An L4 decision carries nothing beyond the shared shape. */
export type L4Decision = AuthorizationDecision;

function compileCidrs(list: AuthorizationMatch['sourceIps'], where: string, warnings: string[]): CompiledCidr[] {
  const out: CompiledCidr[] = [];
  for (const cidr of list) {
    const compiled = compileCidrMatch(cidr);
    if (compiled === undefined) warnings.push(`${where}: dropped malformed CIDR ${cidr.address}/${cidr.prefixLength}`);
    else out.push(compiled);
  }
  return out;
}

/** Compiles the candidate set (caller-selected per §6.5 step 1: namespace ∪ global ∪ workload policies). */
export function compileL4(authorizations: readonly Authorization[]): CompiledL4 {
  const warnings: string[] = [];
  const policies = authorizations.map((auth): CompiledL4Policy => {
    const key = `${auth.namespace}/${auth.name}`;
    return {
      key,
      action: auth.action,
      scope: auth.scope,
      dryRun: auth.dryRun,
      rules: auth.rules.map((rule) =>
        rule.clauses.map((clause) =>
          clause.matches.map((match) => ({
            match,
            empty: isEmptyMatch(match),
            sourceIps: compileCidrs(match.sourceIps, key, warnings),
            notSourceIps: compileCidrs(match.notSourceIps, key, warnings),
            destinationIps: compileCidrs(match.destinationIps, key, warnings),
            notDestinationIps: compileCidrs(match.notDestinationIps, key, warnings),
          })),
        ),
      ),
    };
  });
  return { policies, warnings };
}

interface ConnectionFacts {
  readonly src?: IpAddress;
  readonly dst?: IpAddress;
  readonly port: number;
  readonly identity?: SpiffeIdentity;
  readonly principal?: string;
}

function factsOf(conn: L4Connection): ConnectionFacts {
  const src = parseIpAddress(conn.srcIp);
  const dst = parseIpAddress(conn.dstIp);
  return {
    ...(src === undefined ? {} : { src: canonicalizeIp(src) }),
    ...(dst === undefined ? {} : { dst: canonicalizeIp(dst) }),
    port: conn.dstPort,
    ...(conn.srcIdentity === undefined ? {} : { identity: conn.srcIdentity, principal: identityPrincipal(conn.srcIdentity) }),
  };
}

const inCidr = (ip: IpAddress | undefined) => (cidr: CompiledCidr) => ip !== undefined && cidrContains(cidr, ip);

/** Every populated field pair must pass (ztunnel checks all of them; the first failure is reported). */
function evaluateMatch(m: CompiledMatch, facts: ConnectionFacts): PairResult {
  const pairs: PairResult[] = [
    evaluatePair('destinationIps', m.destinationIps, m.notDestinationIps, inCidr(facts.dst)),
    evaluatePair('sourceIps', m.sourceIps, m.notSourceIps, inCidr(facts.src)),
    evaluatePair('destinationPorts', m.match.destinationPorts, m.match.notDestinationPorts, (p) => p === facts.port),
    evaluatePair('serviceAccounts', m.match.serviceAccounts, m.match.notServiceAccounts, (sa) => matchesServiceAccount(sa, facts.identity)),
    evaluatePair('principals', m.match.principals, m.match.notPrincipals, (p) => matchesPrincipal(p, facts.principal)),
    evaluatePair('namespaces', m.match.namespaces, m.match.notNamespaces, (ns) => matchesNamespace(ns, facts.identity)),
  ];
  return pairs.find((p) => !p.pass) ?? { pass: true, detail: 'all fields passed' };
}

/** ztunnel `Authorization::matches`, writing one trace line per rule and clause. */
function policyMatches(policy: CompiledL4Policy, facts: ConnectionFacts, trace: string[] | undefined): boolean {
  const head = `${policy.key} (${policy.action}, ${policy.scope})`;
  if (policy.rules.length === 0) {
    trace?.push(`${head}: no rules, matches nothing`);
    return false;
  }
  for (const [r, rule] of policy.rules.entries()) {
    let ruleMatch = true;
    for (const [c, clause] of rule.entries()) {
      // Notes are only gathered when a trace is wanted: this runs for every connection ztunnel accepts.
      const notes: string[] | undefined = trace && [];
      let clauseMatch = clause.length === 0;
      for (const [i, m] of clause.entries()) {
        if (m.empty) {
          notes?.push(`match ${i} empty, skipped`);
          continue;
        }
        const result = evaluateMatch(m, facts);
        notes?.push(`match ${i} ${result.pass ? 'matched' : `failed (${result.detail})`}`);
        if (result.pass) {
          clauseMatch = true;
          break;
        }
      }
      trace?.push(`${head} rule ${r} clause ${c}: ${clauseMatch ? 'match' : 'no match'}${notes !== undefined && notes.length > 0 ? ` [${notes.join('; ')}]` : ' [no matches: true]'}`);
      if (!clauseMatch) {
        ruleMatch = false;
        break;
      }
    }
    trace?.push(`${head} rule ${r}: ${ruleMatch ? (rule.length === 0 ? 'match (no clauses)' : 'match') : 'no match'}`);
    if (ruleMatch) return true;
  }
  return false;
}

export interface EvaluateOptions {
  /** Build the explain trace (default true). The data path passes false: the trace is for `authz explain`. */
  readonly explain?: boolean;
}

/** Decides one connection (§6.5 steps 2–6). */
export function evaluateL4(compiled: CompiledL4, conn: L4Connection, options: EvaluateOptions = {}): L4Decision {
  const facts = factsOf(conn);
  const who = facts.principal === undefined ? 'no peer identity' : `peer ${facts.principal}`;
  const trace: string[] | undefined =
    options.explain === false ? undefined : [`connection ${conn.srcIp} -> ${conn.dstIp}:${conn.dstPort}, ${who}`];
  if (facts.src === undefined) trace?.push(`source IP ${conn.srcIp} is not an IP address; IP fields cannot match`);
  if (facts.dst === undefined) trace?.push(`destination IP ${conn.dstIp} is not an IP address; IP fields cannot match`);
  const outcome = decideAllowDeny(compiled.policies, (p) => policyMatches(p, facts, trace), trace);
  return { ...outcome, trace: trace ?? [] };
}
