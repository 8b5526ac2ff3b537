// HTTP path handling for waypoint authorization: the mesh's default BASE normalization and Istio's path forms
// (exact, `prefix*`, `*suffix`, `*`, and the URI templates `{*}` / `{**}` matched like Envoy's uri_template).

import { toStringMatch, matchesString } from './match-core';
import { containsPathTemplate, MATCH_ANY_TEMPLATE, MATCH_ONE_TEMPLATE, pathTemplateProblem } from './policy-field-validation';

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

/** RFC 3986 §5.2.4 remove_dot_segments. */
function removeDotSegments(path: string): string {
  let input = path;
  const output: string[] = [];
  while (input.length > 0) {
    if (input.startsWith('../')) input = input.slice(3);
    else if (input.startsWith('./')) input = input.slice(2);
    else if (input.startsWith('/./')) input = input.slice(2);
    else if (input === '/.') input = '/';
    else if (input.startsWith('/../')) {
      input = input.slice(3);
      output.pop();
    } else if (input === '/..') {
      input = '/';
      output.pop();
    } else if (input === '.' || input === '..') input = '';
    else {
      const next = input.indexOf('/', input.startsWith('/') ? 1 : 0);
      const segment = next < 0 ? input : input.slice(0, next);
      output.push(segment);
      input = input.slice(segment.length);
    }
  }
  return output.join('');
}

/**
 * Istio's default `pathNormalization: BASE` (Envoy `normalize_path`, RFC 3986 normalization):
 * - the query string and fragment are not part of the path that policies match;
 * - percent-encoded unreserved characters (ALPHA, DIGIT, `-`, `.`, `_`, `~`) are decoded, so `%61dmin` is `admin`
 *   and `%2e%2e` is a `..` segment; other escapes (`%2F`, `%20`) stay as they are;
 * - dot segments are removed (`/a/../admin` → `/admin`, `/./x` → `/x`);
 * - slashes are not merged and `%2F` is not decoded (those are the MERGE_SLASHES / DECODE_AND_MERGE_SLASHES options).
 */
export function normalizePathBase(rawPath: string): string {
  let end = rawPath.length;
  for (const stop of ['?', '#']) {
    const at = rawPath.indexOf(stop);
    if (at >= 0 && at < end) end = at;
  }
  const path = rawPath.slice(0, end);
  const decoded = path.replace(/%([0-9A-Fa-f]{2})/g, (escape, hex: string) => {
    const char = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(char) ? char : escape;
  });
  return removeDotSegments(decoded);
}

// Envoy uri_template: `*` (Istio `{*}`) is one or more pchars; `**` (`{**}`) also crosses `/`.
const PCHAR = "a-zA-Z0-9\\-._~%!$&'()+,;:@=";
const ONE_SEGMENT = `[${PCHAR}]+`;
const ANY_SEGMENTS = `[${PCHAR}/]*`;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export interface PathMatcher {
  /** The policy value as written. */
  readonly pattern: string;
  /** Tests a path already normalized with `normalizePathBase`. */
  readonly matches: (normalizedPath: string) => boolean;
}

/**
 * Compiles one `paths` value. Templates become an anchored pattern over `/`-separated segments; other values use
 * Istio's `*` string forms. Returns the validation problem for a malformed template.
 */
export function compilePath(pattern: string): PathMatcher | { readonly problem: string } {
  if (containsPathTemplate(pattern)) {
    const problem = pathTemplateProblem(pattern);
    if (problem !== undefined) return { problem };
    const source = pattern
      .split('/')
      .map((piece) => (piece === MATCH_ONE_TEMPLATE ? ONE_SEGMENT : piece === MATCH_ANY_TEMPLATE ? ANY_SEGMENTS : escapeRegExp(piece)))
      .join('/');
    const regex = new RegExp(`^${source}$`);
    return { pattern, matches: (path) => regex.test(path) };
  }
  const match = toStringMatch(pattern);
  return { pattern, matches: (path) => matchesString(match, path) };
}
