// Route selection for a waypoint service (reference §7.4): rules top-down, the first rule with a succeeding match
// wins; a rule's matches are ORed and the fields of one match ANDed, each evaluated as the Envoy matcher istiod
// builds from it (path specifier, `:method`/`:authority` header matchers, headers, inverted headers, query params).

import type { L7StringMatch, RouteMatch, RouteRule } from '@weft/mesh-model';
import { matchesL7String } from './l7-string-match';
import { authorityPortIndex, headerValue, pathWithoutQuery, queryParameters, type RequestView } from './request-view';

export interface SelectedRoute {
  readonly rule: RouteRule;
  readonly index: number;
  /** the match that succeeded; undefined when the rule has no matches */
  readonly match: RouteMatch | undefined;
}

/** The first rule whose matches succeed (a rule without matches takes every request), or undefined: no route (NR). */
export function selectRoute(routes: readonly RouteRule[], req: RequestView): SelectedRoute | undefined {
  const query = lazy(() => queryParameters(req.path));
  for (const [index, rule] of routes.entries()) {
    if (rule.matches.length === 0) return { rule, index, match: undefined };
    const match = rule.matches.find((m) => matchesRequest(m, req, query));
    if (match !== undefined) return { rule, index, match };
  }
  return undefined;
}

function matchesRequest(m: RouteMatch, req: RequestView, query: () => ReadonlyMap<string, string>): boolean {
  if (m.port !== 0 && m.port !== req.servicePort) return false;
  // Envoy's path matchers compare the path without query and fragment.
  if (m.uri !== undefined && !matchesL7String(m.uri, pathWithoutQuery(req.path), m.ignoreUriCase)) return false;
  if (m.method !== undefined && !matchesL7String(m.method, req.method)) return false;
  if (m.authority !== undefined && !matchesAuthority(m.authority, req.authority)) return false;
  for (const [name, want] of Object.entries(m.headers)) {
    const value = headerValue(req, name);
    if (value === undefined || !matchesL7String(want, value)) return false;
  }
  // Istio emits withoutHeaders as `invert_match` header matchers: an absent header satisfies them.
  for (const [name, unwanted] of Object.entries(m.withoutHeaders)) {
    const value = headerValue(req, name);
    if (value !== undefined && matchesL7String(unwanted, value)) return false;
  }
  for (const [name, want] of Object.entries(m.queryParams)) {
    const value = query().get(name);
    if (value === undefined || !matchesL7String(want, value)) return false;
  }
  return true;
}

/**
 * The authority as sent, or failing that its host without the port: clients send `reviews` as well as
 * `reviews:9080`, and Envoy's virtual-host lookup accepts both forms (istiod lists each domain with and without port).
 */
function matchesAuthority(want: L7StringMatch, authority: string): boolean {
  if (matchesL7String(want, authority)) return true;
  const port = authorityPortIndex(authority);
  return port !== -1 && matchesL7String(want, authority.slice(0, port));
}

function lazy<T>(compute: () => T): () => T {
  let cached: { readonly value: T } | undefined;
  return () => (cached ??= { value: compute() }).value;
}
