// Converts an AuthorizationPolicy into ztunnel's L4 `istio.security.Authorization`, exactly as istiod's ambient
// controller does (pilot/pkg/serviceregistry/ambient/authorization.go: convertAuthorizationPolicy, handleRule).

import {
  DEFAULT_TRUST_DOMAIN,
  EMPTY_MATCH,
  type Authorization,
  type AuthorizationClause,
  type AuthorizationMatch,
  type AuthorizationRule,
  type AuthorizationScope,
} from '@weft/mesh-model';

import { actionOf, isDryRun, policyKey, targetRefsOf, type AuthorizationPolicy, type Condition, type Operation, type Rule, type Source } from './authorization-policy';
import { toCidrMatch } from './ip-address';
import { toPorts, toServiceAccountMatch, toStringMatch } from './match-core';
import { L4_WHEN_KEYS } from './policy-field-validation';
import { objectLabel, type PolicyWarning } from './policy-diagnostics';

export interface ZtunnelConversionOptions {
  /** Mesh root namespace; a selector-less policy there is mesh-wide (GLOBAL). */
  readonly rootNamespace?: string;
  /** istiod's AMBIENT_ENABLE_DRY_RUN_AUTHORIZATION_POLICY (default false: dry-run policies are not sent). */
  readonly enableDryRun?: boolean;
}

export interface ZtunnelConversion {
  /** Absent when ztunnel gets nothing: targetRef'd (waypoint-only), CUSTOM/AUDIT, or dry-run while unsupported. */
  readonly authorization?: Authorization;
  /** istiod's status messages (reason UnsupportedValue), with its exact wording. */
  readonly messages: readonly PolicyWarning[];
}

export const DEFAULT_ROOT_NAMESPACE = 'istio-system';

// istiod's status texts, copied verbatim so `kubectl describe` output matches Istio.
const HTTP_RULE_PREFIX = 'ztunnel does not support HTTP attributes (found: %s). In ambient mode you must use a waypoint proxy to enforce HTTP rules. ';
export const HTTP_ALLOW_RULE_TEXT =
  'Within an ALLOW policy, rules matching HTTP attributes are omitted. This will be more restrictive than requested.';
export const HTTP_DENY_MIXED_TEXT =
  'DENY policy with HTTP attributes is enforced without the HTTP rules. This will be more restrictive than requested.';
export const HTTP_DENY_NO_EFFECT_TEXT =
  'After omitting unsupported HTTP attributes, this DENY policy has no enforceable rules at ztunnel and will have no ' +
  'effect. Deploy a waypoint proxy and use a targetRef to enforce this policy.';

const HTTP_OPERATION_FIELDS: readonly (keyof Operation)[] = ['hosts', 'notHosts', 'methods', 'notMethods', 'paths', 'notPaths'];
// trustDomains are reported like HTTP attributes by current istiod: a Match has no trust-domain field, and folding
// them into principals would widen the source.
const HTTP_SOURCE_FIELDS: readonly (keyof Source)[] = [
  'remoteIpBlocks',
  'notRemoteIpBlocks',
  'requestPrincipals',
  'notRequestPrincipals',
  'trustDomains',
  'notTrustDomains',
];

/** Names of the fields and `when` keys of one rule that ztunnel cannot enforce (istiod httpOperations/httpSources). */
export function httpAttributesOf(rule: Rule): string[] {
  const found = new Set<string>();
  for (const { operation } of rule.to ?? []) {
    for (const field of HTTP_OPERATION_FIELDS) if ((operation[field]?.length ?? 0) > 0) found.add(field);
  }
  for (const { source } of rule.from ?? []) {
    for (const field of HTTP_SOURCE_FIELDS) if ((source[field]?.length ?? 0) > 0) found.add(field);
  }
  for (const condition of rule.when ?? []) if (!L4_WHEN_KEYS.includes(condition.key)) found.add(condition.key);
  return [...found].sort();
}

/** True when a Match has no field populated; ztunnel skips such a Match (it matches nothing). */
export function isEmptyMatch(match: AuthorizationMatch): boolean {
  return (Object.keys(EMPTY_MATCH) as (keyof AuthorizationMatch)[]).every((field) => match[field].length === 0);
}

/**
 * istiod `hasEffectiveRules`: some rule can fire at ztunnel — it has no clauses (match-all), or every clause has a
 * non-empty Match.
 */
export function hasEffectiveRules(rules: readonly AuthorizationRule[]): boolean {
  return rules.some((rule) => rule.clauses.every((clause) => clause.matches.some((m) => !isEmptyMatch(m))));
}

function fromWhen<T>(condition: Condition, key: string, negate: boolean, convert: (values: readonly string[]) => T[]): T[] {
  if (condition.key !== key) return [];
  return convert((negate ? condition.notValues : condition.values) ?? []);
}

const toStringMatches = (values: readonly string[]) => values.map(toStringMatch);
const toCidrMatches = (values: readonly string[]) =>
  values.map(toCidrMatch).filter((m): m is NonNullable<typeof m> => m !== undefined);

/** A `when` condition as one Match; an L7 key yields an empty Match (which ztunnel skips). */
function conditionMatch(condition: Condition): AuthorizationMatch {
  return {
    ...EMPTY_MATCH,
    namespaces: fromWhen(condition, 'source.namespace', false, toStringMatches),
    principals: fromWhen(condition, 'source.principal', false, toStringMatches),
    sourceIps: fromWhen(condition, 'source.ip', false, toCidrMatches),
    destinationPorts: fromWhen(condition, 'destination.port', false, toPorts),
    destinationIps: fromWhen(condition, 'destination.ip', false, toCidrMatches),
    notNamespaces: fromWhen(condition, 'source.namespace', true, toStringMatches),
    notPrincipals: fromWhen(condition, 'source.principal', true, toStringMatches),
    notSourceIps: fromWhen(condition, 'source.ip', true, toCidrMatches),
    notDestinationPorts: fromWhen(condition, 'destination.port', true, toPorts),
    notDestinationIps: fromWhen(condition, 'destination.ip', true, toCidrMatches),
  };
}

function sourceMatch(source: Source, policyNamespace: string): AuthorizationMatch {
  return {
    ...EMPTY_MATCH,
    sourceIps: toCidrMatches(source.ipBlocks ?? []),
    notSourceIps: toCidrMatches(source.notIpBlocks ?? []),
    namespaces: toStringMatches(source.namespaces ?? []),
    notNamespaces: toStringMatches(source.notNamespaces ?? []),
    serviceAccounts: (source.serviceAccounts ?? []).map((v) => toServiceAccountMatch(v, policyNamespace)),
    notServiceAccounts: (source.notServiceAccounts ?? []).map((v) => toServiceAccountMatch(v, policyNamespace)),
    principals: toStringMatches(source.principals ?? []),
    notPrincipals: toStringMatches(source.notPrincipals ?? []),
  };
}

/**
 * istiod `handleRule`: one clause for all `to` operations (ports only), one for all `from` sources, one per `when`
 * condition, AND'ed. ALLOW + any HTTP attribute drops the rule (undefined); DENY keeps it with the HTTP parts gone.
 */
function convertRule(action: 'ALLOW' | 'DENY', rule: Rule, policyNamespace: string): AuthorizationRule | undefined {
  const clauses: AuthorizationClause[] = [];
  const to = rule.to ?? [];
  if (to.length > 0) {
    clauses.push({
      matches: to.map(({ operation }) => ({
        ...EMPTY_MATCH,
        destinationPorts: toPorts(operation.ports ?? []),
        notDestinationPorts: toPorts(operation.notPorts ?? []),
      })),
    });
  }
  const from = rule.from ?? [];
  if (from.length > 0) clauses.push({ matches: from.map(({ source }) => sourceMatch(source, policyNamespace)) });
  for (const condition of rule.when ?? []) clauses.push({ matches: [conditionMatch(condition)] });
  if (action === 'ALLOW' && httpAttributesOf(rule).length > 0) return undefined;
  return { clauses };
}

function scopeOf(policy: AuthorizationPolicy, rootNamespace: string): AuthorizationScope {
  if (policy.spec.selector !== undefined) return 'WORKLOAD_SELECTOR';
  return policy.metadata.namespace === rootNamespace ? 'GLOBAL' : 'NAMESPACE';
}

/** istiod `convertAuthorizationPolicy`. */
export function toZtunnelAuthorization(policy: AuthorizationPolicy, options: ZtunnelConversionOptions = {}): ZtunnelConversion {
  const rootNamespace = options.rootNamespace ?? DEFAULT_ROOT_NAMESPACE;
  const object = objectLabel('AuthorizationPolicy', policy.metadata.namespace, policy.metadata.name);
  const dryRun = isDryRun(policy);
  // The dry-run check comes first in istiod, so it also reports targetRef'd policies.
  if (dryRun && options.enableDryRun !== true) {
    const message =
      `found policy "${policyKey(policy)}" using dry-run annotation, but support for ambient dry-run ` +
      `authorizationPolicies isn't enabled`;
    return { messages: [{ code: 'WARN_ZTUNNEL_DRY_RUN_DISABLED', object, field: 'metadata.annotations', message }] };
  }
  if (targetRefsOf(policy.spec).length > 0) return { messages: [] };
  const action = actionOf(policy);
  if (action !== 'ALLOW' && action !== 'DENY') {
    const message = `ztunnel does not support the ${action} action`;
    return { messages: [{ code: 'WARN_ZTUNNEL_UNSUPPORTED_ACTION', object, field: 'spec.action', message }] };
  }
  const rules: AuthorizationRule[] = [];
  const found = new Set<string>();
  const rulesWithHttp: number[] = [];
  (policy.spec.rules ?? []).forEach((rule, i) => {
    const converted = convertRule(action, rule, policy.metadata.namespace);
    if (converted !== undefined) rules.push(converted);
    const http = httpAttributesOf(rule);
    if (http.length > 0) rulesWithHttp.push(i);
    http.forEach((f) => found.add(f));
  });
  const authorization: Authorization = {
    name: policy.metadata.name,
    namespace: policy.metadata.namespace,
    scope: scopeOf(policy, rootNamespace),
    action,
    rules,
    dryRun,
  };
  if (found.size === 0) return { authorization, messages: [] };
  let boilerplate = HTTP_ALLOW_RULE_TEXT;
  if (action === 'DENY') boilerplate = hasEffectiveRules(rules) ? HTTP_DENY_MIXED_TEXT : HTTP_DENY_NO_EFFECT_TEXT;
  const message = HTTP_RULE_PREFIX.replace('%s', [...found].sort().join(', ')) + boilerplate;
  const field = rulesWithHttp.length === 1 ? `spec.rules[${rulesWithHttp[0]}]` : 'spec.rules';
  return { authorization, messages: [{ code: 'WARN_ZTUNNEL_HTTP_ATTRIBUTES', object, field, message }] };
}

export interface WaypointIdentity {
  readonly namespace: string;
  readonly name: string;
  /** Service accounts of the waypoint's pods. */
  readonly serviceAccounts: readonly string[];
  readonly trustDomain?: string;
}

/**
 * §6.7: with PILOT_AUTO_ALLOW_WAYPOINT_POLICY istiod adds `<ns>/istio_allow_waypoint_<ns>_<name>`, an ALLOW for
 * the waypoint's identities, to every workload bound to the waypoint. Undefined when the waypoint has no SA.
 */
export function implicitWaypointAuthorization(waypoint: WaypointIdentity): Authorization | undefined {
  if (waypoint.serviceAccounts.length === 0) return undefined;
  const trustDomain = waypoint.trustDomain ?? DEFAULT_TRUST_DOMAIN;
  const principals = waypoint.serviceAccounts.map((sa) => ({
    kind: 'exact' as const,
    value: `${trustDomain}/ns/${waypoint.namespace}/sa/${sa}`,
  }));
  return {
    name: `istio_allow_waypoint_${waypoint.namespace}_${waypoint.name}`,
    namespace: waypoint.namespace,
    scope: 'WORKLOAD_SELECTOR',
    action: 'ALLOW',
    rules: [{ clauses: [{ matches: [{ ...EMPTY_MATCH, principals }] }] }],
    dryRun: false,
  };
}
