// Istio HTTPRedirect answered by the waypoint, with the Location Envoy builds (`Http::Utility::newUri` and
// `processRequestHost`): scheme, host, port and path each replaced or kept from the request.

import type { Redirect } from '@weft/mesh-model';
import { authorityPortIndex, type RequestView } from './request-view';

/**
 * Status and absolute Location, as Envoy builds them:
 * - scheme: the redirect's, else the request's;
 * - host: the redirect's authority as written, else the request's authority, dropping its port when the redirect sets
 *   a port, or when the scheme changes and the port was the old scheme's default (`:80` for http, `:443` for https);
 * - port: `:<port>` when the redirect sets one, else nothing beyond what the kept host carries;
 * - path: the redirect's uri with the request's query appended unless the uri has its own query, else the request's
 *   whole :path; a leading "/" is added when missing.
 */
export function redirectResponse(req: RequestView, redirect: Redirect): { readonly status: number; readonly location: string } {
  const scheme = redirect.scheme !== '' ? redirect.scheme : req.scheme;
  const port = redirect.port !== 0 ? `:${redirect.port}` : '';
  const host = redirect.authority !== '' ? redirect.authority : requestHost(req, scheme, port);
  let path = req.path;
  if (redirect.uri !== '') {
    const query = req.path.indexOf('?');
    path = redirect.uri.includes('?') || query === -1 ? redirect.uri : redirect.uri + req.path.slice(query);
  }
  if (!path.startsWith('/')) path = `/${path}`;
  return { status: redirect.responseCode, location: `${scheme}://${host}${port}${path}` };
}

function requestHost(req: RequestView, newScheme: string, newPort: string): string {
  const at = authorityPortIndex(req.authority);
  if (at === -1) return req.authority;
  const requestPort = req.authority.slice(at);
  const defaultPortDropped =
    newScheme !== req.scheme && ((req.scheme === 'https' && requestPort === ':443') || (req.scheme === 'http' && requestPort === ':80'));
  return newPort !== '' || defaultPortDropped ? req.authority.slice(0, at) : req.authority;
}
