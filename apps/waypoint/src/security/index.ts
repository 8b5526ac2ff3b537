// The waypoint's request security: which targetRef policies apply to a request, JWT request authentication, and
// L7 authorization. Pure decisions except JWKS fetching, which goes through an injected fetcher.

export { DEFAULT_ROOT_NAMESPACE, WAYPOINT_GATEWAY_CLASS, policiesFor, type PolicyTarget } from './policy-attachment';
export {
  RequestAuthenticator,
  type AuthenticatedRequest,
  type AuthnRequest,
  type AuthnResult,
  type RequestAuthenticatorOptions,
} from './request-authenticator';
export { DEFAULT_JWKS_CACHE_MS, DEFAULT_JWKS_FETCH_TIMEOUT_MS, DEFAULT_JWKS_REFETCH_INTERVAL_MS, type JwksFetcher } from './jwks-cache';
export { JWT_STATUS_TEXT, type JwtFailure } from './jwt-status';
export { L7Authorizer, RBAC_DENIED_BODY, toAuthorizationPolicy, type AuthzInput, type AuthzResult } from './l7-authorizer';
