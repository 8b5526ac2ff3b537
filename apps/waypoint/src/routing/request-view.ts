// The read-only view of a downstream request that route decisions take, and the few ways Envoy reads parts of it
// (path without query, raw query parameters, joined header values, host without port).

/** What the routing decisions need from a request; built once per request by the HTTP listener. */
export interface RequestView {
  readonly method: string;
  /** Raw :path including the query string. */
  readonly path: string;
  readonly authority: string;
  readonly scheme: 'http' | 'https';
  /** Lower-case header names. */
  readonly headers: Readonly<Record<string, string | readonly string[]>>;
  /** The service port the request arrived for. */
  readonly servicePort: number;
}

/** The path without query string and fragment: what Envoy's path matchers see (`PathUtil::removeQueryAndFragment`). */
export function pathWithoutQuery(path: string): string {
  const end = path.search(/[?#]/);
  return end === -1 ? path : path.slice(0, end);
}

/**
 * Query parameters as Envoy's route matcher reads them (`Utility::parseQueryString`): split on `&`, a name without
 * `=` has the value "", the first occurrence of a name wins, and nothing is percent-decoded.
 */
export function queryParameters(path: string): ReadonlyMap<string, string> {
  const params = new Map<string, string>();
  const start = path.indexOf('?');
  if (start === -1) return params;
  const hash = path.indexOf('#', start);
  const query = path.slice(start + 1, hash === -1 ? undefined : hash);
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = eq === -1 ? pair : pair.slice(0, eq);
    if (!params.has(name)) params.set(name, eq === -1 ? '' : pair.slice(eq + 1));
  }
  return params;
}

/**
 * A header's value for matching, undefined when absent. Several values are joined with "," as Envoy's
 * `HeaderUtility::getAllOfHeaderAsString` does; pseudo-headers (`:method`, `:path`, `:authority`, `:scheme`) come
 * from the view's fields because Istio turns method and authority matches into header matches on them.
 */
export function headerValue(req: RequestView, name: string): string | undefined {
  switch (name) {
    case ':method':
      return req.method;
    case ':path':
      return req.path;
    case ':authority':
      return req.authority;
    case ':scheme':
      return req.scheme;
  }
  const value = req.headers[name];
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value.length === 0 ? undefined : value.join(',');
}

/**
 * Where an authority's port starts (the index of its ":"), or -1 when it has none. IPv6 literals keep their colons:
 * only a ":" right after the closing "]" starts a port, as in Envoy's `processRequestHost`.
 */
export function authorityPortIndex(authority: string): number {
  if (authority.startsWith('[')) {
    const end = authority.lastIndexOf(']:');
    return end === -1 ? -1 : end + 1;
  }
  const colon = authority.lastIndexOf(':');
  // More than one colon without brackets is not host:port (a bare IPv6 address); leave it whole.
  return colon !== -1 && authority.indexOf(':') === colon ? colon : -1;
}
