// Istio's networking StringMatch (L7StringMatch) evaluated the way Envoy evaluates the matcher istiod emits for it:
// exact and prefix compare code units, regex is an RE2 full match, `any` is presence (decided by the caller).

import { re2PatternProblem, re2ToRegExpSource, type L7StringMatch } from '@weft/mesh-model';

/**
 * Whether `value` (known to be present) satisfies `match`. `ignoreCase` applies to exact and prefix only, like
 * Istio's `ignoreUriCase` (Envoy `case_sensitive: false` does not reach `safe_regex`).
 */
export function matchesL7String(match: L7StringMatch, value: string, ignoreCase = false): boolean {
  switch (match.kind) {
    case 'any':
      return true;
    case 'exact':
      return ignoreCase ? value.toLowerCase() === match.value.toLowerCase() : value === match.value;
    case 'prefix':
      return ignoreCase ? value.toLowerCase().startsWith(match.value.toLowerCase()) : value.startsWith(match.value);
    case 'regex':
      return compileRe2(match.value, 'full')?.test(value) ?? false;
  }
}

/**
 * An RE2 pattern as a RegExp: `full` anchors it to the whole input (Envoy's `safe_regex` uses RE2::FullMatch),
 * `global` finds every match (RE2::GlobalReplace, used by regex rewrites). Undefined for a pattern the waypoint
 * cannot run — the control plane already refuses those, so here it simply never matches. Construction is not
 * memoised: V8 caches compiled RegExp data by source and flags, and a module-level cache would be hidden state.
 */
export function compileRe2(pattern: string, mode: 'full' | 'global'): RegExp | undefined {
  if (re2PatternProblem(pattern) !== undefined) return undefined;
  const { source, flags } = re2ToRegExpSource(pattern);
  return mode === 'full' ? new RegExp(`^(?:${source})$`, flags) : new RegExp(source, `${flags}g`);
}
