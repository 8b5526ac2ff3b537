// The Kubernetes object `security.istio.io/v1` (and v1beta1) AuthorizationPolicy as users write it
// (istio/api security/v1beta1/authorization_policy.proto), plus small accessors shared by converter and evaluators.

export type AuthorizationPolicyAction = 'ALLOW' | 'DENY' | 'AUDIT' | 'CUSTOM';

export const AUTHORIZATION_POLICY_ACTIONS: readonly AuthorizationPolicyAction[] = ['ALLOW', 'DENY', 'AUDIT', 'CUSTOM'];

export interface ObjectMeta {
  readonly name: string;
  readonly namespace: string;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly labels?: Readonly<Record<string, string>>;
  /** RFC 3339; used where Istio breaks ties by age (oldest wins). */
  readonly creationTimestamp?: string;
}

export interface WorkloadSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
}

/** `istio.type.v1beta1.PolicyTargetReference`. */
export interface PolicyTargetReference {
  readonly group?: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
}

/** `Source`: every populated field must match (AND); values within a field are OR'ed. */
export interface Source {
  readonly principals?: readonly string[];
  readonly notPrincipals?: readonly string[];
  readonly requestPrincipals?: readonly string[];
  readonly notRequestPrincipals?: readonly string[];
  readonly namespaces?: readonly string[];
  readonly notNamespaces?: readonly string[];
  readonly serviceAccounts?: readonly string[];
  readonly notServiceAccounts?: readonly string[];
  readonly ipBlocks?: readonly string[];
  readonly notIpBlocks?: readonly string[];
  readonly remoteIpBlocks?: readonly string[];
  readonly notRemoteIpBlocks?: readonly string[];
  readonly trustDomains?: readonly string[];
  readonly notTrustDomains?: readonly string[];
}

/** `Operation`: every populated field must match (AND). */
export interface Operation {
  readonly hosts?: readonly string[];
  readonly notHosts?: readonly string[];
  readonly ports?: readonly string[];
  readonly notPorts?: readonly string[];
  readonly methods?: readonly string[];
  readonly notMethods?: readonly string[];
  readonly paths?: readonly string[];
  readonly notPaths?: readonly string[];
}

/** `Condition` of a `when` list. */
export interface Condition {
  readonly key: string;
  readonly values?: readonly string[];
  readonly notValues?: readonly string[];
}

/** A rule matches when one `from`, one `to` and every `when` match; an empty rule matches everything. */
export interface Rule {
  readonly from?: readonly { readonly source: Source }[];
  readonly to?: readonly { readonly operation: Operation }[];
  readonly when?: readonly Condition[];
}

export interface AuthorizationPolicySpec {
  readonly selector?: WorkloadSelector;
  /** Hidden/legacy single reference; treated as a one-element `targetRefs`. */
  readonly targetRef?: PolicyTargetReference;
  readonly targetRefs?: readonly PolicyTargetReference[];
  /** Defaults to ALLOW. */
  readonly action?: AuthorizationPolicyAction;
  /** CUSTOM only: the extension provider (mesh config `extensionProviders[].name`). */
  readonly provider?: { readonly name: string };
  /** Absent or empty: the policy matches nothing (for ALLOW: allow-nothing). */
  readonly rules?: readonly Rule[];
}

export interface AuthorizationPolicy {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata: ObjectMeta;
  readonly spec: AuthorizationPolicySpec;
}

export const AUTHORIZATION_POLICY_API_VERSIONS: readonly string[] = [
  'security.istio.io/v1',
  'security.istio.io/v1beta1',
];

/** Annotation that turns a policy into a dry run (istio/api annotation `istio.io/dry-run`). */
export const DRY_RUN_ANNOTATION = 'istio.io/dry-run';

/** `ns/name`, the key Istio and ztunnel use for a policy. */
export function policyKey(policy: { readonly metadata: ObjectMeta }): string {
  return `${policy.metadata.namespace}/${policy.metadata.name}`;
}

/** Go's `strconv.ParseBool`, which istiod applies to the dry-run annotation. */
export function parseGoBool(value: string): boolean | undefined {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(value)) return false;
  return undefined;
}

/** True when `istio.io/dry-run` parses as true (istiod ignores values ParseBool rejects). */
export function isDryRun(policy: { readonly metadata: ObjectMeta }): boolean {
  const value = policy.metadata.annotations?.[DRY_RUN_ANNOTATION];
  return value !== undefined && parseGoBool(value) === true;
}

export function actionOf(policy: AuthorizationPolicy): AuthorizationPolicyAction {
  return policy.spec.action ?? 'ALLOW';
}

/** istio `model.GetTargetRefs`: `targetRefs`, else the legacy `targetRef`, else none. */
export function targetRefsOf(spec: AuthorizationPolicySpec): readonly PolicyTargetReference[] {
  if (spec.targetRefs !== undefined && spec.targetRefs.length > 0) return spec.targetRefs;
  return spec.targetRef !== undefined ? [spec.targetRef] : [];
}

/** Policies without targetRefs are enforced by ztunnel (selector, namespace-wide or mesh-wide); §6.2. */
export function isZtunnelBound(spec: AuthorizationPolicySpec): boolean {
  return targetRefsOf(spec).length === 0;
}
