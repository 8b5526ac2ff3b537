// RE2 patterns from Istio config: accepted when JavaScript can run them with RE2's meaning, refused otherwise.
import { re2PatternProblem, re2ToRegExpSource } from './re2-pattern';

describe('re2PatternProblem', () => {
  it.each(['/api/v[0-9]+/.*', '^/(?P<id>[a-z]+)$', '(?i)/Reviews', 'a|b', '.*\\.css', ''])('accepts %s', (pattern) => {
    expect(re2PatternProblem(pattern)).toBeUndefined();
  });

  it.each([
    ['(', 'Invalid regular expression'],
    ['[a-', 'Invalid regular expression'],
    ['a**', 'Invalid regular expression'],
    ['foo(?=bar)', 'look-around'],
    ['(?<!x)y', 'look-around'],
    ['(a)\\1', 'back-references'],
    ['(?U)a+', 'ungreedy'],
  ])('refuses %s', (pattern, problem) => {
    expect(re2PatternProblem(pattern)).toContain(problem);
  });
});

describe('re2ToRegExpSource', () => {
  it('turns a leading flag group into flags and named groups into JavaScript syntax', () => {
    expect(re2ToRegExpSource('(?is)^(?P<v>v[12])$')).toEqual({ source: '^(?<v>v[12])$', flags: 'is' });
  });
});
