// Istio HTTPRewrite applied before forwarding, with Envoy's route semantics: `prefix_rewrite` replaces the part of
// the path the route matched, `regex_rewrite` rewrites every match in the path, and both keep the query string.

import type { PathRewrite, Rewrite, RouteMatch } from '@weft/mesh-model';
import { compileRe2 } from './l7-string-match';
import { pathWithoutQuery, type RequestView } from './request-view';

/**
 * The :path and :authority to send upstream. `match` is the match that selected the rule (undefined: the rule had
 * none). Prefix rewrite, as Envoy's `prefix_rewrite` on the route istiod builds: a prefix match replaces the matched
 * prefix; an exact or regex match replaces the whole path; no uri match is istiod's `prefix: "/"`, so only the
 * leading "/" is replaced (`/v2` + `/foo` → `/v2foo`, Istio's well-known behaviour). The query string is kept in
 * every case. `fullPath` replaces the path and keeps the query (istiod expresses it as a regex rewrite of `/.*`).
 */
export function rewriteRequest(
  req: RequestView,
  rewrite: Rewrite | undefined,
  match: RouteMatch | undefined,
): { readonly path: string; readonly authority: string } {
  const authority = rewrite !== undefined && rewrite.authority !== '' ? rewrite.authority : req.authority;
  const path = rewrite?.path === undefined ? req.path : rewritePath(req.path, rewrite.path, match);
  return { path, authority };
}

function rewritePath(path: string, rewrite: PathRewrite, match: RouteMatch | undefined): string {
  const pathOnly = pathWithoutQuery(path);
  const rest = path.slice(pathOnly.length);
  switch (rewrite.kind) {
    case 'prefix':
      return rewrite.value + path.slice(matchedLength(match, pathOnly));
    case 'fullPath':
      return rewrite.value + rest;
    case 'regex': {
      const re = compileRe2(rewrite.pattern, 'global');
      // An unusable pattern was refused by the control plane; leaving the path alone is Envoy's failed-rewrite outcome.
      return re === undefined ? path : replaceAll(pathOnly, re, rewrite.substitution) + rest;
    }
  }
}

/** How many leading characters of the path the route's path specifier matched. */
function matchedLength(match: RouteMatch | undefined, pathOnly: string): number {
  const uri = match?.uri;
  if (uri === undefined || uri.kind === 'any') return pathOnly.startsWith('/') ? 1 : 0;
  if (uri.kind === 'prefix') return Math.min(uri.value.length, pathOnly.length);
  return pathOnly.length;
}

/** RE2::GlobalReplace: every non-overlapping match replaced; `\0`–`\9` insert groups and `\\` a backslash. */
function replaceAll(input: string, re: RegExp, substitution: string): string {
  let out = '';
  let last = 0;
  for (const m of input.matchAll(re)) {
    const start = m.index ?? 0;
    out += input.slice(last, start) + substitution.replace(/\\([0-9\\])/g, (_, c: string) => (c === '\\' ? '\\' : (m[Number(c)] ?? '')));
    last = start + m[0].length;
  }
  return out + input.slice(last);
}
