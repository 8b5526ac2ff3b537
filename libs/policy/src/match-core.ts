// The matcher core shared by the L4 (ztunnel) and L7 (waypoint) evaluators: Istio's string forms, SPIFFE identity
// matching (principals, namespaces, service accounts), port parsing and the positive/negative field pair rule.

import type { ServiceAccountMatch, StringMatch } from '@weft/mesh-model';

/** The peer identity taken from a SPIFFE ID `spiffe://<trustDomain>/ns/<namespace>/sa/<serviceAccount>`. */
export interface SpiffeIdentity {
  readonly trustDomain: string;
  readonly namespace: string;
  readonly serviceAccount: string;
}

export const SPIFFE_PREFIX = 'spiffe://';

/**
 * istiod's `stringToMatch`: `*` is presence, a leading `*` a suffix match, a trailing `*` a prefix match, anything
 * else exact. A `*` in the middle is literal.
 */
export function toStringMatch(value: string): StringMatch {
  if (value === '*') return { kind: 'presence' };
  if (value.startsWith('*')) return { kind: 'suffix', value: value.slice(1) };
  if (value.endsWith('*')) return { kind: 'prefix', value: value.slice(0, -1) };
  return { kind: 'exact', value };
}

/** ztunnel's `StringMatch::matches`: presence means a non-empty value; an absent value never matches. */
export function matchesString(match: StringMatch, value: string | undefined): boolean {
  if (value === undefined) return false;
  switch (match.kind) {
    case 'exact':
      return value === match.value;
    case 'prefix':
      return value.startsWith(match.value);
    case 'suffix':
      return value.endsWith(match.value);
    case 'presence':
      return value !== '';
  }
}

/** Case-insensitive variant used for `hosts` (Istio's HostMatcher sets ignore_case). */
export function matchesStringIgnoreCase(match: StringMatch, value: string | undefined): boolean {
  if (value === undefined) return false;
  const lowered = match.kind === 'presence' ? match : { ...match, value: match.value.toLowerCase() };
  return matchesString(lowered, value.toLowerCase());
}

export function describeStringMatch(match: StringMatch): string {
  switch (match.kind) {
    case 'exact':
      return `"${match.value}"`;
    case 'prefix':
      return `"${match.value}*"`;
    case 'suffix':
      return `"*${match.value}"`;
    case 'presence':
      return '"*"';
  }
}

/** The principal ztunnel compares against: the SPIFFE ID without `spiffe://`. */
export function identityPrincipal(identity: SpiffeIdentity): string {
  return `${identity.trustDomain}/ns/${identity.namespace}/sa/${identity.serviceAccount}`;
}

/**
 * A principal as given by a caller (with or without `spiffe://`) reduced to the form policies are written in.
 * Istio prepends `spiffe://` to policy values and ztunnel strips it from the peer ID; both mean the same thing.
 */
export function normalizePrincipal(principal: string | undefined): string | undefined {
  if (principal === undefined || principal === '') return undefined;
  return principal.startsWith(SPIFFE_PREFIX) ? principal.slice(SPIFFE_PREFIX.length) : principal;
}

/** Parses `td/ns/<ns>/sa/<sa>` (with or without `spiffe://`); undefined for other principal shapes. */
export function parsePrincipal(principal: string | undefined): SpiffeIdentity | undefined {
  const bare = normalizePrincipal(principal);
  if (bare === undefined) return undefined;
  const parts = bare.split('/');
  if (parts.length !== 5 || parts[1] !== 'ns' || parts[3] !== 'sa') return undefined;
  const [trustDomain, , namespace, , serviceAccount] = parts;
  if (!trustDomain || !namespace || !serviceAccount) return undefined;
  return { trustDomain, namespace, serviceAccount };
}

/**
 * ztunnel's `matches_principal`: compares against the peer ID without `spiffe://` and fails without a peer
 * identity. A policy value written with `spiffe://` therefore never matches (ztunnel#1901).
 */
export function matchesPrincipal(match: StringMatch, principal: string | undefined): boolean {
  return principal !== undefined && matchesString(match, principal);
}

/** `namespaces` compare against the namespace of the SPIFFE ID; no identity means the empty namespace. */
export function matchesNamespace(match: StringMatch, identity: SpiffeIdentity | undefined): boolean {
  return matchesString(match, identity?.namespace ?? '');
}

/** istiod's `stringToServiceAccountMatch`: `ns/sa`, or a bare `sa` in the policy's own namespace. */
export function toServiceAccountMatch(value: string, policyNamespace: string): ServiceAccountMatch {
  const slash = value.indexOf('/');
  if (slash >= 0) return { namespace: value.slice(0, slash), serviceAccount: value.slice(slash + 1) };
  return { namespace: policyNamespace, serviceAccount: value };
}

/** ztunnel's `ServiceAccountMatch::matches`: namespace and name exactly, trust domain ignored, no identity fails. */
export function matchesServiceAccount(match: ServiceAccountMatch, identity: SpiffeIdentity | undefined): boolean {
  return (
    identity !== undefined &&
    identity.namespace === match.namespace &&
    identity.serviceAccount === match.serviceAccount
  );
}

const DECIMAL = /^[0-9]+$/;

/** Go's `strconv.ParseUint(s, 10, 32)` limited to 65535, as istiod's `stringToPort`/`ValidatePorts` use it. */
export function parsePortValue(text: string): number | undefined {
  if (!DECIMAL.test(text)) return undefined;
  const port = Number(text);
  return port <= 65535 ? port : undefined;
}

/** istiod's `stringToPort`: values that are not ports are dropped silently. */
export function toPorts(values: readonly string[]): number[] {
  const ports: number[] = [];
  for (const value of values) {
    const port = parsePortValue(value);
    if (port !== undefined) ports.push(port);
  }
  return ports;
}

/** Outcome of one positive/negative field pair, with the reason a trace line can print. */
export interface PairResult {
  readonly pass: boolean;
  readonly detail: string;
}

/**
 * The rule ztunnel's `matches_internal` and Envoy's RBAC share: the positive list is empty or any element matches,
 * and the negative list is empty or no element matches.
 */
export function evaluatePair<T>(
  field: string,
  positive: readonly T[],
  negative: readonly T[],
  test: (candidate: T) => boolean,
): PairResult {
  if (positive.length > 0 && !positive.some(test)) {
    return { pass: false, detail: `${field}: none of ${positive.length} value(s) matched` };
  }
  if (negative.length > 0 && negative.some(test)) {
    return { pass: false, detail: `not${field.charAt(0).toUpperCase()}${field.slice(1)}: a value matched` };
  }
  return { pass: true, detail: `${field}: ok` };
}
