// A route's CORS policy applied as Envoy's CORS filter does (it runs after authentication and authorization, before
// fault injection and the router). Only a request with an `Origin` the policy allows is a CORS request: a preflight
// (OPTIONS with `Access-Control-Request-Method`) is answered at once with 200 and the allow headers; any other
// request goes on and its answer gets the allow-origin, credentials and expose headers. A disallowed origin is not an
// error: the request is forwarded untouched (Istio's default `unmatchedPreflights: FORWARD`). Pure.

import type { CorsPolicy } from '@weft/mesh-model';

import { matchesL7String } from './l7-string-match';

export type CorsDecision =
  | { readonly kind: 'none' }
  /** Answer 200 with these headers; nothing goes upstream. */
  | { readonly kind: 'preflight'; readonly headers: Readonly<Record<string, string>> }
  /** Forward, and add these headers to whatever the answer is. */
  | { readonly kind: 'actual'; readonly headers: Readonly<Record<string, string>> };

const NONE: CorsDecision = { kind: 'none' };

const first = (value: string | readonly string[] | undefined): string | undefined => (typeof value === 'string' ? value : value?.[0]);

/** Envoy's isOriginAllowed: a matcher that matches `*` allows every origin. */
function originAllowed(policy: CorsPolicy, origin: string): boolean {
  return policy.allowOrigins.some((match) => matchesL7String(match, '*') || matchesL7String(match, origin));
}

export function decideCors(policy: CorsPolicy | undefined, request: { readonly method: string; readonly headers: Readonly<Record<string, string | readonly string[]>> }): CorsDecision {
  if (policy === undefined) return NONE;
  const origin = first(request.headers['origin']);
  if (origin === undefined || origin === '' || !originAllowed(policy, origin)) return NONE;
  const credentials: Record<string, string> = policy.allowCredentials === true ? { 'access-control-allow-credentials': 'true' } : {};
  const requestedMethod = first(request.headers['access-control-request-method']);
  if (request.method === 'OPTIONS' && requestedMethod !== undefined && requestedMethod !== '') {
    return {
      kind: 'preflight',
      headers: {
        'access-control-allow-origin': origin,
        ...credentials,
        ...(policy.allowMethods.length > 0 ? { 'access-control-allow-methods': policy.allowMethods.join(',') } : {}),
        ...(policy.allowHeaders.length > 0 ? { 'access-control-allow-headers': policy.allowHeaders.join(',') } : {}),
        ...(policy.maxAgeMs !== undefined ? { 'access-control-max-age': String(Math.floor(policy.maxAgeMs / 1000)) } : {}),
      },
    };
  }
  return {
    kind: 'actual',
    headers: {
      'access-control-allow-origin': origin,
      ...credentials,
      ...(policy.exposeHeaders.length > 0 ? { 'access-control-expose-headers': policy.exposeHeaders.join(',') } : {}),
    },
  };
}
