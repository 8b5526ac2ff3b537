// Whether a regular expression from Istio config (StringMatch.regex, HTTPRewrite.uriRegexRewrite) is one the waypoint
// can run. Istio's patterns are RE2; the waypoint runs them as JavaScript RegExp, so a pattern is usable when it
// compiles there and uses nothing RE2 lacks (look-around and back-references, which Envoy would refuse too).

const RE2_FLAG_GROUP = /^\(\?([imsU]+)\)/;
const UNSUPPORTED: readonly [RegExp, string][] = [
  [/\(\?<?[=!]/, 'look-around assertions are not RE2 syntax'],
  [/\\[1-9]|\\k</, 'back-references are not RE2 syntax'],
];

/** The pattern as a JavaScript RegExp source and flags: RE2's `(?P<name>` and a leading `(?i)` flag group translated. */
export function re2ToRegExpSource(pattern: string): { readonly source: string; readonly flags: string } {
  const flagGroup = RE2_FLAG_GROUP.exec(pattern);
  const body = flagGroup === null ? pattern : pattern.slice(flagGroup[0].length);
  // RE2's U (ungreedy) has no JavaScript equivalent and is dropped here; re2PatternProblem refuses it.
  const flags = [...new Set((flagGroup?.[1] ?? '').replace(/U/g, ''))].join('');
  return { source: body.replace(/\(\?P</g, '(?<'), flags };
}

/** Why `pattern` cannot be used, or undefined when it can. */
export function re2PatternProblem(pattern: string): string | undefined {
  for (const [test, text] of UNSUPPORTED) if (test.test(pattern)) return text;
  if (RE2_FLAG_GROUP.exec(pattern)?.[1]?.includes('U') === true) return 'the ungreedy flag (?U) is not supported';
  const { source, flags } = re2ToRegExpSource(pattern);
  try {
    new RegExp(source, flags);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}
