// AuthorizationPolicy and RequestAuthentication as a waypoint enforces them (protos/weft/l7/v1/authorization.proto,
// request_authentication.proto), in domain form. Values stay strings exactly as written in the Kubernetes object, so
// the waypoint's policy library parses them with the same rules as ztunnel's side.

import type { PolicyTargetRef } from './l7-common-types';

export type L7AuthorizationAction = 'ALLOW' | 'DENY' | 'AUDIT' | 'CUSTOM';

/** Rule.From.source; populated fields are ANDed. */
export interface L7Source {
  readonly principals: readonly string[];
  readonly notPrincipals: readonly string[];
  readonly requestPrincipals: readonly string[];
  readonly notRequestPrincipals: readonly string[];
  readonly namespaces: readonly string[];
  readonly notNamespaces: readonly string[];
  readonly serviceAccounts: readonly string[];
  readonly notServiceAccounts: readonly string[];
  readonly ipBlocks: readonly string[];
  readonly notIpBlocks: readonly string[];
  readonly remoteIpBlocks: readonly string[];
  readonly notRemoteIpBlocks: readonly string[];
  readonly trustDomains: readonly string[];
  readonly notTrustDomains: readonly string[];
}

/** Rule.To.operation; populated fields are ANDed. */
export interface L7Operation {
  readonly hosts: readonly string[];
  readonly notHosts: readonly string[];
  readonly ports: readonly string[];
  readonly notPorts: readonly string[];
  readonly methods: readonly string[];
  readonly notMethods: readonly string[];
  readonly paths: readonly string[];
  readonly notPaths: readonly string[];
}

export interface L7Condition {
  readonly key: string;
  readonly values: readonly string[];
  readonly notValues: readonly string[];
}

/** Matches when any `from`, any `to` and every `when` match (an empty list counts as matched). */
export interface L7AuthorizationRule {
  readonly from: readonly L7Source[];
  readonly to: readonly L7Operation[];
  readonly when: readonly L7Condition[];
}

/** One AuthorizationPolicy attached with targetRefs. Resource name `<namespace>/<name>`. */
export interface L7Authorization {
  readonly name: string;
  readonly namespace: string;
  readonly targets: readonly PolicyTargetRef[];
  readonly action: L7AuthorizationAction;
  /** Extension provider for CUSTOM; "" otherwise. */
  readonly provider: string;
  readonly dryRun: boolean;
  /** ORed. None: an ALLOW matches nothing; a rule with no fields matches everything. */
  readonly rules: readonly L7AuthorizationRule[];
}

export interface JwtHeader {
  readonly name: string;
  /** Stripped before parsing, e.g. "Bearer ". */
  readonly prefix: string;
}

export interface ClaimToHeader {
  readonly header: string;
  readonly claim: string;
}

/** How to find and validate one issuer's tokens, from Istio's JWTRule. */
export interface JwtRule {
  readonly issuer: string;
  /** Empty accepts any audience. */
  readonly audiences: readonly string[];
  /** Ignored when `jwks` is set. */
  readonly jwksUri: string;
  /** Inline JWKS JSON; "" for none. */
  readonly jwks: string;
  /** fromHeaders, fromParams and fromCookies all empty: `Authorization: Bearer` and `access_token`. */
  readonly fromHeaders: readonly JwtHeader[];
  readonly fromParams: readonly string[];
  readonly fromCookies: readonly string[];
  /** "" for none. */
  readonly outputPayloadToHeader: string;
  readonly forwardOriginalToken: boolean;
  readonly outputClaimToHeaders: readonly ClaimToHeader[];
  /** JWKS fetch timeout; absent = the implementation default. */
  readonly timeoutMs?: number;
  readonly spaceDelimitedClaims: readonly string[];
}

/** One RequestAuthentication attached with targetRefs. Resource name `<namespace>/<name>`. */
export interface RequestAuthentication {
  readonly name: string;
  readonly namespace: string;
  readonly targets: readonly PolicyTargetRef[];
  readonly jwtRules: readonly JwtRule[];
}
