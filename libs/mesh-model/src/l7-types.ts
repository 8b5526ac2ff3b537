// Domain form of Weft's waypoint resources (protos/weft/l7/v1): the per-service L7 view a waypoint routes with
// (WaypointService, RouteRule …) — decoded and defaulted, durations in milliseconds, enums as string unions,
// oneofs as unions on `kind`. Plain data only; wire types stay in libs/xds. Policy and traffic-policy types live in
// the two files re-exported at the end.

import type { HeaderOperations, L7StringMatch } from './l7-common-types';
import type { Subset, TrafficPolicy } from './l7-traffic-policy-types';

export * from './l7-common-types';
export * from './l7-traffic-policy-types';
export * from './l7-security-types';

/** `ServicePort.Protocol`: UNKNOWN is what Istio sniffs; a Weft waypoint treats it as TCP. */
export type WaypointPortProtocol = 'UNKNOWN' | 'HTTP' | 'HTTP2' | 'GRPC' | 'TCP';

/** One service port and how the waypoint treats its traffic. */
export interface WaypointServicePort {
  readonly name: string;
  readonly port: number;
  /** Container port on the endpoints; 0 = a named port resolved per endpoint from WDS. */
  readonly targetPort: number;
  readonly protocol: WaypointPortProtocol;
}

/** The L7 view of one Service (or ServiceEntry host) bound to a waypoint. Resource name `<namespace>/<hostname>`. */
export interface WaypointService {
  /** FQDN, the same as the WDS Service hostname. */
  readonly hostname: string;
  readonly namespace: string;
  /** Name of the Service or ServiceEntry object. */
  readonly name: string;
  readonly ports: readonly WaypointServicePort[];
  /** Ordered; the first matching rule wins. Empty: forward to this service unchanged. */
  readonly httpRoutes: readonly RouteRule[];
  /** e.g. `VirtualService <ns>/<name>` or `HTTPRoute <ns>/<name>`; "" when there are no routes. Diagnostics only. */
  readonly routeSource: string;
  /** Absent: Istio's defaults. */
  readonly trafficPolicy?: TrafficPolicy;
  readonly subsets: readonly Subset[];
  /** e.g. `DestinationRule <ns>/<name>`; "" when none applies. Diagnostics only. */
  readonly trafficPolicySource: string;
}

/** A service a request can be sent to, from Istio's Destination. */
export interface Destination {
  /** FQDN of the target service. */
  readonly host: string;
  /** Namespace of the Service `host` resolved to; "" when it is not a known Service. */
  readonly serviceNamespace: string;
  /** Service port; 0 keeps the port the request arrived on. */
  readonly port: number;
  /** Subset name from the DestinationRule; "" for every endpoint. */
  readonly subset: string;
}

export interface WeightedDestination {
  readonly destination: Destination;
  /** Relative weight; a single destination with weight 0 still receives all traffic. */
  readonly weight: number;
  readonly requestHeaders?: HeaderOperations;
  readonly responseHeaders?: HeaderOperations;
}

export interface Redirect {
  /** "" keeps the request's path. */
  readonly uri: string;
  /** "" keeps the request's authority. */
  readonly authority: string;
  /** "" keeps the request's scheme. */
  readonly scheme: string;
  /** 0 keeps the request's port. */
  readonly port: number;
  /** 301 unless the source object says otherwise (filled in by the translator). */
  readonly responseCode: number;
}

export interface DirectResponse {
  readonly status: number;
  readonly body: Uint8Array;
}

/** `RouteRule.action`; a rule without one answers 500 (Istio: e.g. HTTPRoute backends all weighted 0). */
export type RouteAction =
  | { readonly kind: 'forward'; readonly destinations: readonly WeightedDestination[] }
  | ({ readonly kind: 'redirect' } & Redirect)
  | ({ readonly kind: 'directResponse' } & DirectResponse);

/** `Rewrite.path`. */
export type PathRewrite =
  /** Replace the prefix the `uri` prefix match matched. */
  | { readonly kind: 'prefix'; readonly value: string }
  | { readonly kind: 'fullPath'; readonly value: string }
  /** RE2 over the whole path; `substitution` may use \1, \2 … */
  | { readonly kind: 'regex'; readonly pattern: string; readonly substitution: string };

export interface Rewrite {
  readonly path?: PathRewrite;
  /** "" keeps the request's authority. */
  readonly authority: string;
}

/** Istio's HTTPRetry plus the defaults istiod adds. */
export interface RetryPolicy {
  /** Retries after the first try; 0 disables retries. */
  readonly attempts: number;
  /** Absent: the route timeout applies to each try. */
  readonly perTryTimeoutMs?: number;
  /** Envoy retry_on tokens. */
  readonly retryOn: readonly string[];
  readonly retriableStatusCodes: readonly number[];
  /** Absent: 25ms. */
  readonly backoffBaseIntervalMs?: number;
  readonly retryRemoteLocalities: boolean;
  readonly ignorePreviousHosts: boolean;
  readonly hostSelectionRetryMaxAttempts: number;
  /** Istio's default policy rather than one the user wrote. */
  readonly isDefault: boolean;
}

export type FaultAbortError = { readonly kind: 'http'; readonly status: number } | { readonly kind: 'grpc'; readonly status: number };

/** Istio's HTTPFaultInjection; the translator has already cleared the route's timeout and retries. */
export interface FaultInjection {
  readonly delay?: { readonly fixedDelayMs: number; readonly percentage: number };
  readonly abort?: { readonly error: FaultAbortError; readonly percentage: number };
}

export interface Mirror {
  readonly destination: Destination;
  /** 0 to 100; Istio's default 100 already filled in. */
  readonly percentage: number;
}

export interface CorsPolicy {
  readonly allowOrigins: readonly L7StringMatch[];
  readonly allowMethods: readonly string[];
  readonly allowHeaders: readonly string[];
  readonly exposeHeaders: readonly string[];
  readonly maxAgeMs?: number;
  /** Absent: no Access-Control-Allow-Credentials header (differs from false). */
  readonly allowCredentials?: boolean;
}

/** Istio's HTTPMatchRequest: every populated field must match. */
export interface RouteMatch {
  readonly name: string;
  readonly uri?: L7StringMatch;
  readonly method?: L7StringMatch;
  readonly authority?: L7StringMatch;
  /** Lower-case header name → required value. */
  readonly headers: Readonly<Record<string, L7StringMatch>>;
  /** Header name → value that must not be present. */
  readonly withoutHeaders: Readonly<Record<string, L7StringMatch>>;
  readonly queryParams: Readonly<Record<string, L7StringMatch>>;
  /** Exact and prefix uri matches only. */
  readonly ignoreUriCase: boolean;
  /** Service port; 0 matches any. */
  readonly port: number;
}

/** One route; evaluated in order, the first whose matches succeed wins. */
export interface RouteRule {
  readonly name: string;
  /** ORed; empty matches every request. */
  readonly matches: readonly RouteMatch[];
  /** Absent: the waypoint answers 500. */
  readonly action?: RouteAction;
  /** Applied before forwarding; ignored for redirect and directResponse. */
  readonly rewrite?: Rewrite;
  /** Whole-request timeout; absent or 0 disables it. */
  readonly timeoutMs?: number;
  /** Absent: no retries. */
  readonly retries?: RetryPolicy;
  readonly fault?: FaultInjection;
  readonly requestHeaders?: HeaderOperations;
  readonly responseHeaders?: HeaderOperations;
  readonly mirrors: readonly Mirror[];
  readonly cors?: CorsPolicy;
}

/** xDS resource name of a WaypointService, `<namespace>/<hostname>` (the same key as the WDS Service). */
export function waypointServiceKey(namespace: string, hostname: string): string {
  return `${namespace}/${hostname}`;
}

/** xDS resource name of an L7Authorization or RequestAuthentication, `<namespace>/<name>`. */
export function l7PolicyKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}
