// Table tests for route selection: each RouteMatch field as Envoy evaluates istiod's matcher for it, then rule order.

import type { RouteMatch, RouteRule } from '@weft/mesh-model';
import type { RequestView } from './request-view';
import { selectRoute } from './select-route';

function match(fields: Partial<RouteMatch> = {}): RouteMatch {
  return { name: '', headers: {}, withoutHeaders: {}, queryParams: {}, ignoreUriCase: false, port: 0, ...fields };
}

function rule(name: string, matches: RouteMatch[]): RouteRule {
  return { name, matches, mirrors: [] };
}

function request(fields: Partial<RequestView> = {}): RequestView {
  return { method: 'GET', path: '/', authority: 'reviews', scheme: 'http', headers: {}, servicePort: 9080, ...fields };
}

describe('selectRoute: one RouteMatch', () => {
  const cases: [string, Partial<RouteMatch>, Partial<RequestView>, boolean][] = [
    ['an empty match takes everything', {}, { path: '/anything?x=1' }, true],
    ['uri exact compares the path without query', { uri: { kind: 'exact', value: '/a' } }, { path: '/a?b=c' }, true],
    ['uri exact is case-sensitive by default', { uri: { kind: 'exact', value: '/a' } }, { path: '/A' }, false],
    ['uri exact with ignoreUriCase', { uri: { kind: 'exact', value: '/api' }, ignoreUriCase: true }, { path: '/API' }, true],
    ['uri prefix', { uri: { kind: 'prefix', value: '/api/' } }, { path: '/api/v1' }, true],
    ['uri prefix does not see the query string', { uri: { kind: 'prefix', value: '/a?x' } }, { path: '/a?x=1' }, false],
    ['uri prefix with ignoreUriCase', { uri: { kind: 'prefix', value: '/Api' }, ignoreUriCase: true }, { path: '/aPI/x' }, true],
    ['uri regex is a full match', { uri: { kind: 'regex', value: '/v[0-9]+' } }, { path: '/v12' }, true],
    ['uri regex does not match a substring', { uri: { kind: 'regex', value: '/v[0-9]+' } }, { path: '/v12/x' }, false],
    ['uri regex ignores ignoreUriCase', { uri: { kind: 'regex', value: '/a' }, ignoreUriCase: true }, { path: '/A' }, false],
    ['uri regex with an RE2 (?i) flag', { uri: { kind: 'regex', value: '(?i)/a' } }, { path: '/A' }, true],
    ['uri regex with a fragment in the path', { uri: { kind: 'regex', value: '/a' } }, { path: '/a#frag' }, true],
    ['an unusable regex never matches', { uri: { kind: 'regex', value: '(?=x)' } }, { path: 'x' }, false],
    ['method exact', { method: { kind: 'exact', value: 'POST' } }, { method: 'POST' }, true],
    ['method exact is case-sensitive', { method: { kind: 'exact', value: 'post' } }, { method: 'POST' }, false],
    ['authority exact as sent', { authority: { kind: 'exact', value: 'reviews:9080' } }, { authority: 'reviews:9080' }, true],
    ['authority exact without the port the client sent', { authority: { kind: 'exact', value: 'reviews' } }, { authority: 'reviews:9080' }, true],
    ['authority with a port does not match a portless request', { authority: { kind: 'exact', value: 'reviews:9080' } }, { authority: 'reviews' }, false],
    ['authority of an IPv6 literal with port', { authority: { kind: 'exact', value: '[fd00::1]' } }, { authority: '[fd00::1]:80' }, true],
    ['authority prefix', { authority: { kind: 'prefix', value: 'rev' } }, { authority: 'reviews.default' }, true],
    ['authority regex', { authority: { kind: 'regex', value: 'reviews\\..*' } }, { authority: 'reviews.default.svc:9080' }, true],
    ['header exact', { headers: { 'x-user': { kind: 'exact', value: 'jason' } } }, { headers: { 'x-user': 'jason' } }, true],
    ['header exact mismatch', { headers: { 'x-user': { kind: 'exact', value: 'jason' } } }, { headers: { 'x-user': 'bob' } }, false],
    ['header absent', { headers: { 'x-user': { kind: 'exact', value: 'jason' } } }, {}, false],
    ['header any = present', { headers: { 'x-user': { kind: 'any' } } }, { headers: { 'x-user': '' } }, true],
    ['header any when absent', { headers: { 'x-user': { kind: 'any' } } }, {}, false],
    ['header values are joined with ","', { headers: { 'x-v': { kind: 'exact', value: 'a,b' } } }, { headers: { 'x-v': ['a', 'b'] } }, true],
    ['header regex full match', { headers: { 'x-v': { kind: 'regex', value: 'v[12]' } } }, { headers: { 'x-v': 'v2' } }, true],
    ['header prefix', { headers: { cookie: { kind: 'prefix', value: 'user=' } } }, { headers: { cookie: 'user=a' } }, true],
    ['every header must match', { headers: { a: { kind: 'any' }, b: { kind: 'any' } } }, { headers: { a: '1' } }, false],
    ['pseudo-header :method', { headers: { ':method': { kind: 'exact', value: 'GET' } } }, {}, true],
    ['withoutHeaders: absent header passes', { withoutHeaders: { 'x-debug': { kind: 'exact', value: '1' } } }, {}, true],
    ['withoutHeaders: other value passes', { withoutHeaders: { 'x-debug': { kind: 'exact', value: '1' } } }, { headers: { 'x-debug': '0' } }, true],
    ['withoutHeaders: matching value fails', { withoutHeaders: { 'x-debug': { kind: 'exact', value: '1' } } }, { headers: { 'x-debug': '1' } }, false],
    ['withoutHeaders any: presence fails', { withoutHeaders: { 'x-debug': { kind: 'any' } } }, { headers: { 'x-debug': '' } }, false],
    ['query param exact', { queryParams: { v: { kind: 'exact', value: '2' } } }, { path: '/p?a=1&v=2' }, true],
    ['query param: the first occurrence wins', { queryParams: { v: { kind: 'exact', value: '2' } } }, { path: '/p?v=1&v=2' }, false],
    ['query param is not percent-decoded', { queryParams: { q: { kind: 'exact', value: 'a b' } } }, { path: '/p?q=a%20b' }, false],
    ['query param without "=" has the value ""', { queryParams: { debug: { kind: 'exact', value: '' } } }, { path: '/p?debug' }, true],
    ['query param any = present', { queryParams: { debug: { kind: 'any' } } }, { path: '/p?debug=1' }, true],
    ['query param absent', { queryParams: { debug: { kind: 'any' } } }, { path: '/p' }, false],
    ['query param regex', { queryParams: { id: { kind: 'regex', value: '[0-9]+' } } }, { path: '/p?id=42' }, true],
    ['port 0 matches any port', { port: 0 }, { servicePort: 8080 }, true],
    ['port must equal the service port', { port: 9080 }, { servicePort: 8080 }, false],
    ['port equal', { port: 9080 }, { servicePort: 9080 }, true],
    ['all fields are ANDed', { uri: { kind: 'prefix', value: '/a' }, method: { kind: 'exact', value: 'POST' } }, { path: '/a', method: 'GET' }, false],
  ];
  it.each(cases)('%s', (_name, fields, req, expected) => {
    const m = match(fields);
    expect(selectRoute([rule('r', [m])], request(req))?.match === m).toBe(expected);
  });
});

describe('selectRoute: rule order', () => {
  const api = match({ uri: { kind: 'prefix', value: '/api' } });
  const post = match({ method: { kind: 'exact', value: 'POST' } });
  const routes = [rule('api-or-post', [api, post]), rule('catch-all', [])];
  const cases: [string, readonly RouteRule[], Partial<RequestView>, { index: number; match: RouteMatch | undefined } | undefined][] = [
    ['the first matching rule wins, with the match that succeeded', routes, { path: '/api/x' }, { index: 0, match: api }],
    ['matches are ORed', routes, { path: '/x', method: 'POST' }, { index: 0, match: post }],
    ['a rule without matches takes the rest, with no match', routes, { path: '/x' }, { index: 1, match: undefined }],
    ['no rule matches: no route', [rule('api', [api])], { path: '/x' }, undefined],
    ['no rules: no route', [], {}, undefined],
  ];
  it.each(cases)('%s', (_name, rules, req, expected) => {
    const selected = selectRoute(rules, request(req));
    expect(selected === undefined ? undefined : { index: selected.index, match: selected.match }).toEqual(expected);
    if (selected !== undefined) expect(selected.rule).toBe(rules[selected.index]);
  });
});
