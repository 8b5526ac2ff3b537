// Table tests for the ways Envoy reads a request: path without query, query parameters, header values, ports.

import { authorityPortIndex, headerValue, pathWithoutQuery, queryParameters, type RequestView } from './request-view';

describe('pathWithoutQuery', () => {
  it.each([
    ['/a', '/a'],
    ['/a?b=c', '/a'],
    ['/a#f', '/a'],
    ['/a?b#f', '/a'],
    ['', ''],
  ])('%s → %s', (path, expected) => {
    expect(pathWithoutQuery(path)).toBe(expected);
  });
});

describe('queryParameters', () => {
  it.each([
    ['/a', {}],
    ['/a?', {}],
    ['/a?x=1&y=2', { x: '1', y: '2' }],
    ['/a?x=1&x=2', { x: '1' }],
    ['/a?flag&x=', { flag: '', x: '' }],
    ['/a?q=a%20b+c', { q: 'a%20b+c' }],
    ['/a?x=1=2', { x: '1=2' }],
    ['/a?x=1#frag', { x: '1' }],
    ['/a?&&x=1', { x: '1' }],
  ])('%s', (path, expected) => {
    expect(Object.fromEntries(queryParameters(path))).toEqual(expected);
  });
});

describe('headerValue', () => {
  const req: RequestView = {
    method: 'PUT',
    path: '/p?q',
    authority: 'svc:80',
    scheme: 'https',
    headers: { one: 'v', many: ['a', 'b'], none: [] },
    servicePort: 80,
  };
  it.each([
    ['one', 'v'],
    ['many', 'a,b'],
    ['none', undefined],
    ['missing', undefined],
    [':method', 'PUT'],
    [':path', '/p?q'],
    [':authority', 'svc:80'],
    [':scheme', 'https'],
  ])('%s', (name, expected) => {
    expect(headerValue(req, name)).toBe(expected);
  });
});

describe('authorityPortIndex', () => {
  it.each([
    ['host', -1],
    ['host:80', 4],
    ['10.0.0.1:8080', 8],
    ['[fd00::1]:80', 9],
    ['[fd00::1]', -1],
    ['fd00::1', -1],
  ])('%s', (authority, expected) => {
    expect(authorityPortIndex(authority)).toBe(expected);
  });
});
