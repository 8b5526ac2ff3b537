import { compilePath, normalizePathBase } from './path-match';

describe('BASE path normalization (§6.1 "paths are normalized before matching")', () => {
  it.each([
    ['§6.1 BASE removes ".." segments', '/a/../admin', '/admin'],
    ['§6.1 BASE removes "." segments', '/./admin/./x', '/admin/x'],
    ['§6.1 BASE resolves nested ".."', '/a/b/../../admin', '/admin'],
    ['§6.1 BASE cannot climb above the root', '/../../admin', '/admin'],
    ['§6.1 the query string is not part of the path', '/admin?user=me', '/admin'],
    ['§6.1 the fragment is not part of the path', '/admin#top', '/admin'],
    ['§6.1 BASE decodes percent-encoded unreserved characters', '/%61dmin', '/admin'],
    ['§6.1 BASE decodes %2e%2e and then removes the dot segment', '/a/%2e%2e/admin', '/admin'],
    ['§6.1 BASE keeps %2F encoded (DECODE_AND_MERGE_SLASHES does not apply)', '/a%2Fb', '/a%2Fb'],
    ['§6.1 BASE does not merge slashes', '//admin', '//admin'],
  ])('%s', (_rule, raw, normalized) => {
    expect(normalizePathBase(raw)).toBe(normalized);
  });
});

describe('path forms and URI templates (§6.1)', () => {
  it.each([
    ['§6.1 exact path', '/admin', '/admin', true],
    ['§6.1 exact path does not match a sub-path', '/admin', '/admin/x', false],
    ['§6.1 prefix "/api/*"', '/api/*', '/api/v1/items', true],
    ['§6.1 suffix "*.png"', '*.png', '/img/logo.png', true],
    ['§6.1 "*" matches any path', '*', '/anything', true],
    ['§6.1 {*} matches exactly one segment', '/users/{*}/profile', '/users/42/profile', true],
    ['§6.1 {*} does not match two segments', '/users/{*}/profile', '/users/4/2/profile', false],
    ['§6.1 {*} does not match an empty segment', '/users/{*}/profile', '/users//profile', false],
    ['§6.1 {**} matches several segments', '/static/{**}', '/static/css/site.css', true],
    ['§6.1 {**} matches zero segments after its slash', '/static/{**}', '/static/', true],
    ['§6.1 {**} does not match a longer first segment', '/static/{**}', '/staticfiles/x', false],
    ['§6.1 {*} then {**}', '/api/{*}/items/{**}', '/api/v2/items/a/b', true],
    ['§6.1 template literals are literal ("." is not a wildcard)', '/a.b/{*}', '/axb/c', false],
  ])('%s', (_rule, pattern, path, expected) => {
    const matcher = compilePath(pattern);
    expect('matches' in matcher && matcher.matches(path)).toBe(expected);
  });

  it('§6.1 an invalid template is reported, not compiled', () => {
    expect(compilePath('/a/{**}/{*}')).toEqual({ problem: expect.stringContaining('{**} is not the last operator') });
  });
});
