// @weft/policy: Istio authorization for Weft — AuthorizationPolicy and PeerAuthentication models and parsers, the
// istiod conversion to ztunnel's L4 form, and pure L4 (ztunnel) and L7 (waypoint) evaluators sharing one matcher core.

export {
  AUTHORIZATION_POLICY_ACTIONS,
  AUTHORIZATION_POLICY_API_VERSIONS,
  DRY_RUN_ANNOTATION,
  actionOf,
  isDryRun,
  isZtunnelBound,
  parseGoBool,
  policyKey,
  targetRefsOf,
  type AuthorizationPolicy,
  type AuthorizationPolicyAction,
  type AuthorizationPolicySpec,
  type Condition,
  type ObjectMeta,
  type Operation,
  type PolicyTargetReference,
  type Rule,
  type Source,
  type WorkloadSelector,
} from './authorization-policy';
export { parseAuthorizationPolicy, type ParseOptions } from './authorization-policy-parser';
export {
  MTLS_MODES,
  parsePeerAuthentication,
  type MtlsMode,
  type MutualTls,
  type PeerAuthentication,
  type PeerAuthenticationParseOptions,
  type PeerAuthenticationSpec,
} from './peer-authentication';
export {
  objectLabel,
  type ParseResult,
  type PolicyDiagnostic,
  type PolicyDiagnosticCode,
  type PolicyErrorCode,
  type PolicyWarning,
  type PolicyWarningCode,
} from './policy-diagnostics';
export {
  DEFAULT_ROOT_NAMESPACE,
  HTTP_ALLOW_RULE_TEXT,
  HTTP_DENY_MIXED_TEXT,
  HTTP_DENY_NO_EFFECT_TEXT,
  hasEffectiveRules,
  httpAttributesOf,
  implicitWaypointAuthorization,
  isEmptyMatch,
  toZtunnelAuthorization,
  type WaypointIdentity,
  type ZtunnelConversion,
  type ZtunnelConversionOptions,
} from './ztunnel-conversion';
export {
  STATIC_STRICT_POLICY_NAME,
  convertPortLevelPeerAuthentication,
  convertedPeerAuthenticationName,
  effectiveMtlsMode,
  peerAuthenticationLevels,
  peerAuthenticationPolicyKeys,
  staticStrictAuthorization,
  type EffectiveMtlsMode,
  type PeerAuthenticationLevels,
  type WorkloadRef,
} from './peer-authentication-conversion';
export {
  REASON_NONE_ALLOWED,
  REASON_NO_ALLOW_POLICIES,
  explicitlyDeniedReason,
  type AuthorizationDecision,
  type DryRunOutcome,
} from './authorization-decision';
export {
  compileL4,
  evaluateL4,
  type CompiledL4,
  type CompiledL4Policy,
  type EvaluateOptions,
  type L4Connection,
  type L4Decision,
} from './l4-evaluator';
export { compileL7, evaluateL7, type CompiledL7, type CompiledL7Policy, type CustomCheck, type L7Decision } from './l7-evaluator';
export type { L7Request } from './l7-request-match';
export {
  SPIFFE_PREFIX,
  identityPrincipal,
  matchesString,
  parsePrincipal,
  toStringMatch,
  type SpiffeIdentity,
} from './match-core';
export { cidrContains, formatIpAddress, parseCidr, parseIpAddress, type CompiledCidr, type IpAddress } from './ip-address';
export { normalizePathBase } from './path-match';
export { L4_WHEN_KEYS } from './policy-field-validation';
