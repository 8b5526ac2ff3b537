// Table tests for rewrites with Envoy's prefix_rewrite / regex_rewrite / host_rewrite_literal semantics.

import type { PathRewrite, RouteMatch } from '@weft/mesh-model';
import type { RequestView } from './request-view';
import { rewriteRequest } from './rewrite-request';

function match(uri: RouteMatch['uri'], ignoreUriCase = false): RouteMatch {
  return { name: '', uri, headers: {}, withoutHeaders: {}, queryParams: {}, ignoreUriCase, port: 0 };
}

function request(path: string, authority = 'reviews:9080'): RequestView {
  return { method: 'GET', path, authority, scheme: 'http', headers: {}, servicePort: 9080 };
}

describe('rewriteRequest: path', () => {
  const cases: [string, string, PathRewrite, RouteMatch | undefined, string][] = [
    ['prefix replaces the matched prefix', '/api/v1/users', { kind: 'prefix', value: '/v2/' }, match({ kind: 'prefix', value: '/api/v1/' }), '/v2/users'],
    ['prefix keeps the query string', '/api/x?a=1', { kind: 'prefix', value: '/b/' }, match({ kind: 'prefix', value: '/api/' }), '/b/x?a=1'],
    ['prefix does not collapse slashes (Envoy)', '/foo/bar', { kind: 'prefix', value: '/' }, match({ kind: 'prefix', value: '/foo' }), '//bar'],
    ['prefix with ignoreUriCase replaces the request’s spelling', '/API/x', { kind: 'prefix', value: '/v2/' }, match({ kind: 'prefix', value: '/api/' }, true), '/v2/x'],
    ['prefix on an exact match replaces the whole path', '/login?next=/', { kind: 'prefix', value: '/auth/login' }, match({ kind: 'exact', value: '/login' }), '/auth/login?next=/'],
    ['prefix on a regex match replaces the whole path', '/v12?q', { kind: 'prefix', value: '/latest' }, match({ kind: 'regex', value: '/v[0-9]+' }), '/latest?q'],
    ['prefix without a uri match replaces only the leading "/"', '/foo', { kind: 'prefix', value: '/v2' }, undefined, '/v2foo'],
    ['prefix with a match lacking uri is istiod’s prefix "/"', '/foo', { kind: 'prefix', value: '/v2/' }, match(undefined), '/v2/foo'],
    ['fullPath replaces the path and keeps the query', '/a/b?x=1', { kind: 'fullPath', value: '/health' }, undefined, '/health?x=1'],
    ['fullPath without query', '/a/b', { kind: 'fullPath', value: '/health' }, match({ kind: 'prefix', value: '/a' }), '/health'],
    [
      'regex with \\1 \\2 substitutions',
      '/service/foo/v1/api?x=1',
      { kind: 'regex', pattern: '^/service/([^/]+)(/.*)$', substitution: '\\2/instance/\\1' },
      undefined,
      '/v1/api/instance/foo?x=1',
    ],
    ['regex replaces every match (RE2::GlobalReplace)', '/a-b-c', { kind: 'regex', pattern: '-', substitution: '/' }, undefined, '/a/b/c'],
    ['regex \\0 is the whole match and \\\\ a backslash', '/ab', { kind: 'regex', pattern: 'b', substitution: '[\\0\\\\]' }, undefined, '/a[b\\]'],
    ['regex does not see the query string', '/a?a=a', { kind: 'regex', pattern: 'a', substitution: 'z' }, undefined, '/z?a=a'],
    ['regex without a match leaves the path', '/x', { kind: 'regex', pattern: 'y', substitution: 'z' }, undefined, '/x'],
    ['an unmatched group inserts nothing', '/a', { kind: 'regex', pattern: '/(x)?a', substitution: '/\\1b' }, undefined, '/b'],
    ['an unusable regex leaves the path', '/a', { kind: 'regex', pattern: '(?<=a)', substitution: 'z' }, undefined, '/a'],
  ];
  it.each(cases)('%s', (_name, path, rewrite, m, expected) => {
    expect(rewriteRequest(request(path), { path: rewrite, authority: '' }, m)).toEqual({ path: expected, authority: 'reviews:9080' });
  });
});

describe('rewriteRequest: authority', () => {
  const cases: [string, { path?: PathRewrite; authority: string } | undefined, { path: string; authority: string }][] = [
    ['no rewrite keeps both', undefined, { path: '/p?q', authority: 'reviews:9080' }],
    ['"" keeps the authority', { authority: '' }, { path: '/p?q', authority: 'reviews:9080' }],
    ['authority rewrite replaces it as written', { authority: 'reviews-v1' }, { path: '/p?q', authority: 'reviews-v1' }],
    ['both at once', { path: { kind: 'fullPath', value: '/x' }, authority: 'r' }, { path: '/x?q', authority: 'r' }],
  ];
  it.each(cases)('%s', (_name, rewrite, expected) => {
    expect(rewriteRequest(request('/p?q'), rewrite, undefined)).toEqual(expected);
  });
});
