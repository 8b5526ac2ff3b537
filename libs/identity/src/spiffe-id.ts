// SPIFFE workload identities as Istio uses them: `spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>`
// (reference §3.1), the wire defaults WDS leaves out, and the principal form AuthorizationPolicy matches on.

import { fail, ok, type Result } from './identity-error';

/** A workload identity. Istio derives it from the pod's namespace and Kubernetes service account. */
export interface Identity {
  readonly trustDomain: string;
  readonly namespace: string;
  readonly serviceAccount: string;
}

export const SPIFFE_SCHEME = 'spiffe://';
/** WDS sends `trust_domain: ""` for this value (istiod `pickTrustDomain`); consumers fill it back in. */
export const DEFAULT_TRUST_DOMAIN = 'cluster.local';
/** WDS sends `service_account: ""` for this value. */
export const DEFAULT_SERVICE_ACCOUNT = 'default';

const NAMESPACE_SEGMENT = 'ns';
const SERVICE_ACCOUNT_SEGMENT = 'sa';
const SEGMENT_COUNT = 5;
// SPIFFE ID spec §2: path segments use letters, digits, '.', '-', '_'. Istio's own parser accepts any text, but
// every identity istiod mints comes from Kubernetes names, which fit this set; anything else is a typo or an attack.
const SEGMENT_CHARACTERS = /^[A-Za-z0-9._-]+$/;
const FORMAT = 'spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>';

/**
 * Parse `spiffe://<td>/ns/<ns>/sa/<sa>` with the same shape rules as ztunnel's `Identity::from_str` and istiod's
 * `spiffe.ParseIdentity` (exactly five path parts, literal `ns` and `sa`), and additionally reject empty or
 * malformed parts. Never throws.
 */
export function parseSpiffeId(uri: string): Result<Identity> {
  if (!uri.startsWith(SPIFFE_SCHEME)) {
    const hint = uri.toLowerCase().startsWith(SPIFFE_SCHEME)
      ? 'the scheme must be lowercase "spiffe://"'
      : uri.includes('://')
        ? undefined
        : 'an AuthorizationPolicy principal omits "spiffe://"; use parsePrincipal for that form';
    return invalid(uri, `it does not start with "${SPIFFE_SCHEME}"`, hint);
  }
  const parts = uri.slice(SPIFFE_SCHEME.length).split('/');
  if (parts.length !== SEGMENT_COUNT) {
    const what = parts.length < SEGMENT_COUNT ? 'too few' : 'too many';
    return invalid(uri, `it has ${what} path segments (${parts.length - 1}; want exactly 4: ns/<ns>/sa/<sa>)`);
  }
  const [trustDomain = '', nsLiteral, namespace = '', saLiteral, serviceAccount = ''] = parts;
  if (nsLiteral !== NAMESPACE_SEGMENT) return invalid(uri, `segment 2 is "${nsLiteral}", want "ns"`);
  if (saLiteral !== SERVICE_ACCOUNT_SEGMENT) return invalid(uri, `segment 4 is "${saLiteral}", want "sa"`);
  for (const [name, value] of [
    ['trust domain', trustDomain],
    ['namespace', namespace],
    ['service account', serviceAccount],
  ] as const) {
    const problem = segmentProblem(value);
    if (problem !== undefined) return invalid(uri, `the ${name} ${problem}`);
  }
  return ok({ trustDomain, namespace, serviceAccount });
}

/** `spiffe://<td>/ns/<ns>/sa/<sa>`, the URI SAN of a workload certificate. */
export function formatSpiffeId(identity: Identity): string {
  return `${SPIFFE_SCHEME}${formatPrincipal(identity)}`;
}

/**
 * The identity of a workload as WDS describes it: an empty trust domain means `cluster.local` and an empty service
 * account means `default` (reference §3.1). The namespace is taken as given.
 */
export function identityFromWorkload(trustDomain: string, namespace: string, serviceAccount: string): Identity {
  return {
    trustDomain: trustDomain === '' ? DEFAULT_TRUST_DOMAIN : trustDomain,
    namespace,
    serviceAccount: serviceAccount === '' ? DEFAULT_SERVICE_ACCOUNT : serviceAccount,
  };
}

/** `<td>/ns/<ns>/sa/<sa>`: the form of `source.principals` in an AuthorizationPolicy (the SPIFFE ID minus scheme). */
export function formatPrincipal(identity: Identity): string {
  const { trustDomain, namespace, serviceAccount } = identity;
  return `${trustDomain}/${NAMESPACE_SEGMENT}/${namespace}/${SERVICE_ACCOUNT_SEGMENT}/${serviceAccount}`;
}

/** Parse an exact (wildcard-free) principal `<td>/ns/<ns>/sa/<sa>`. Wildcard matching belongs to the policy lib. */
export function parsePrincipal(principal: string): Result<Identity> {
  if (principal.startsWith(SPIFFE_SCHEME)) {
    return fail(
      'ERR_SPIFFE_ID_INVALID',
      `principal "${principal}" must not start with "${SPIFFE_SCHEME}"`,
      'AuthorizationPolicy principals are written as <trust-domain>/ns/<namespace>/sa/<service-account>',
    );
  }
  const parsed = parseSpiffeId(`${SPIFFE_SCHEME}${principal}`);
  if (parsed.ok) return parsed;
  const message = `principal "${principal}" is not <trust-domain>/ns/<namespace>/sa/<service-account>`;
  return fail('ERR_SPIFFE_ID_INVALID', message, parsed.error.message);
}

/** Field-wise equality; trust domains compare exactly, as ztunnel's `Identity` equality does. */
export function identitiesEqual(a: Identity, b: Identity): boolean {
  return a.trustDomain === b.trustDomain && a.namespace === b.namespace && a.serviceAccount === b.serviceAccount;
}

function segmentProblem(value: string): string | undefined {
  if (value === '') return 'is empty';
  if (value === '.' || value === '..') return `is "${value}", which SPIFFE forbids`;
  if (!SEGMENT_CHARACTERS.test(value)) return `"${value}" has characters outside letters, digits, ".", "-" and "_"`;
  return undefined;
}

function invalid(uri: string, problem: string, hint?: string): Result<never> {
  return fail('ERR_SPIFFE_ID_INVALID', `SPIFFE ID "${uri}" is not ${FORMAT}: ${problem}`, hint);
}
