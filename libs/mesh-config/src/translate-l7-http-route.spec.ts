// HTTPRoute → RouteRules (istiod conversion.go): attachment through a Service parentRef, matches and their
// precedence, filters, weighted backends, timeouts and retry, and the HTTPRoute-over-VirtualService choice.
import type { RouteRule } from '@weft/mesh-model';

import { codes, httpService, istioObject, translateL7, waypointService } from '../test/translation/l7-harness';
import { ISTIO_DEFAULT_RETRY_POLICY } from './translate-l7-retries';

const PARENT = { group: '', kind: 'Service', name: 'httpbin' };
const BACKEND = { name: 'httpbin', port: 80 };
const HOST = 'httpbin.default.svc.cluster.local';

function route(rules: unknown[], extra: Record<string, unknown> = {}, name = 'r') {
  return istioObject('HTTPRoute', name, { parentRefs: [PARENT], rules, ...extra });
}

function rulesOf(rules: unknown[], extra: Record<string, unknown> = {}, objects = [httpService('httpbin')]): { rules: readonly RouteRule[]; messages: string[] } {
  const result = translateL7([...objects, route(rules, extra)]);
  return { rules: waypointService(result, 'httpbin').httpRoutes, messages: codes(result) };
}

describe('attachment', () => {
  it.each([
    ['group "" and kind Service', PARENT, true],
    ['group core', { ...PARENT, group: 'core' }, true],
    ['a Gateway parent', { name: 'httpbin' }, false],
    ['another Service', { ...PARENT, name: 'other' }, false],
  ])('%s', (_, parent, applies) => {
    const result = translateL7([httpService('httpbin'), istioObject('HTTPRoute', 'r', { parentRefs: [parent], rules: [{ backendRefs: [BACKEND] }] })]);
    expect(waypointService(result, 'httpbin').routeSource).toBe(applies ? 'HTTPRoute default/r' : '');
  });

  it('reports a Service parentRef without group (the API server defaults it to the Gateway group)', () => {
    const result = translateL7([httpService('httpbin'), istioObject('HTTPRoute', 'r', { parentRefs: [{ kind: 'Service', name: 'httpbin' }], rules: [] })]);
    expect(waypointService(result, 'httpbin').routeSource).toBe('');
    expect(codes(result)).toEqual(['HTTPRoute default/r spec.parentRefs[0].group WARN_L7_HTTPROUTE_PARENT_GROUP']);
  });

  it('does not apply a consumer route from another namespace, and says so', () => {
    const result = translateL7([
      httpService('httpbin'),
      istioObject('HTTPRoute', 'r', { parentRefs: [{ ...PARENT, namespace: 'default' }], rules: [{ backendRefs: [BACKEND] }] }, { namespace: 'client' }),
    ]);
    expect(waypointService(result, 'httpbin').routeSource).toBe('');
    expect(codes(result)).toEqual(['HTTPRoute client/r spec.parentRefs[0] WARN_L7_HTTPROUTE_CONSUMER_ROUTE']);
  });

  it('prefers the HTTPRoute over a VirtualService for the same service and names both', () => {
    const result = translateL7([
      httpService('httpbin'),
      route([{ backendRefs: [BACKEND] }]),
      istioObject('VirtualService', 'vs', { hosts: ['httpbin'], http: [{ route: [{ destination: { host: 'httpbin' } }] }] }),
    ]);
    expect(waypointService(result, 'httpbin').routeSource).toBe('HTTPRoute default/r');
    expect(result.messages).toEqual([expect.objectContaining({ object: 'VirtualService default/vs', code: 'WARN_L7_VS_SHADOWED_BY_HTTPROUTE', message: expect.stringContaining('HTTPRoute default/r') })]);
  });
});

describe('matches', () => {
  it('splits a PathPrefix into exact and prefix-with-slash (segment semantics), keeps the parentRef port', () => {
    const result = translateL7([httpService('httpbin'), istioObject('HTTPRoute', 'r', { parentRefs: [{ ...PARENT, port: 80 }], rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/api/' } }], backendRefs: [BACKEND] }] })]);
    expect(waypointService(result, 'httpbin').httpRoutes[0]?.matches.map((m) => [m.uri, m.port])).toEqual([
      [{ kind: 'exact', value: '/api' }, 80],
      [{ kind: 'prefix', value: '/api/' }, 80],
    ]);
  });

  it('converts Exact, RegularExpression, headers (lower case, first wins), query params and method', () => {
    const match = {
      path: { type: 'RegularExpression', value: '/v[0-9]+/.*' },
      headers: [{ name: 'X-A', value: '1' }, { name: 'x-a', value: '2' }, { type: 'RegularExpression', name: 'x-b', value: 'b.*' }],
      queryParams: [{ name: 'Q', value: 'v' }],
      method: 'POST',
    };
    const { rules } = rulesOf([{ matches: [match, { path: { type: 'Exact', value: '/exact' } }], backendRefs: [BACKEND] }]);
    expect(rules.flatMap((r) => r.matches)).toEqual([
      { name: '', uri: { kind: 'exact', value: '/exact' }, headers: {}, withoutHeaders: {}, queryParams: {}, ignoreUriCase: false, port: 0 },
      {
        name: '',
        uri: { kind: 'regex', value: '/v[0-9]+/.*' },
        method: { kind: 'exact', value: 'POST' },
        headers: { 'x-a': { kind: 'exact', value: '1' }, 'x-b': { kind: 'regex', value: 'b.*' } },
        withoutHeaders: {},
        queryParams: { Q: { kind: 'exact', value: 'v' } },
        ignoreUriCase: false,
        port: 0,
      },
    ]);
  });

  it('orders rules across routes by Gateway API precedence: exact, longest prefix, method, headers, then age', () => {
    const rule = (name: string, match: unknown) => ({ name, matches: [match], backendRefs: [BACKEND] });
    const older = istioObject('HTTPRoute', 'b-older', {
      parentRefs: [PARENT],
      rules: [rule('prefix-short', { path: { type: 'PathPrefix', value: '/a' } }), rule('prefix-short-method', { path: { type: 'PathPrefix', value: '/a' }, method: 'GET' })],
    }, { creationTimestamp: '2020-01-01T00:00:00Z' });
    const newer = istioObject('HTTPRoute', 'a-newer', {
      parentRefs: [PARENT],
      rules: [
        rule('catch-all', {}),
        rule('prefix-long', { path: { type: 'PathPrefix', value: '/a/b' } }),
        rule('exact', { path: { type: 'Exact', value: '/z' } }),
        rule('prefix-short-header', { path: { type: 'PathPrefix', value: '/a' }, headers: [{ name: 'h', value: 'v' }] }),
        rule('prefix-short-newer', { path: { type: 'PathPrefix', value: '/a' } }),
      ],
    }, { creationTimestamp: '2024-01-01T00:00:00Z' });
    const result = translateL7([httpService('httpbin'), older, newer]);
    expect(waypointService(result, 'httpbin').httpRoutes.map((r) => r.name)).toEqual([
      'exact',
      'prefix-long',
      'prefix-short-method',
      'prefix-short-header',
      'prefix-short',
      'prefix-short-newer',
      'catch-all',
    ]);
    expect(waypointService(result, 'httpbin').routeSource).toBe('HTTPRoute default/a-newer, HTTPRoute default/b-older');
  });

  it('leaves out a rule with a regex that does not compile', () => {
    const { rules, messages } = rulesOf([{ matches: [{ path: { type: 'RegularExpression', value: '(' } }], backendRefs: [BACKEND] }]);
    expect(rules).toEqual([]);
    expect(messages).toEqual(['HTTPRoute default/r spec.rules[0].matches[0].path.value WARN_L7_REGEX_INVALID']);
  });
});

describe('backends, timeouts and retry', () => {
  it('forwards by weight (default 1), drops zero-weight backends, finds the service namespace', () => {
    const { rules } = rulesOf([{ backendRefs: [BACKEND, { name: 'httpbin', port: 80, weight: 0 }, { name: 'other', namespace: 'default', port: 8080, weight: 3 }] }]);
    expect(rules[0]?.action).toEqual({
      kind: 'forward',
      destinations: [
        { destination: { host: HOST, serviceNamespace: 'default', port: 80, subset: '' }, weight: 1 },
        { destination: { host: 'other.default.svc.cluster.local', serviceNamespace: '', port: 8080, subset: '' }, weight: 3 },
      ],
    });
  });

  it.each([
    ['all weights 0', [{ ...BACKEND, weight: 0 }]],
    ['no backendRefs', []],
  ])('leaves no action (a 500) for %s', (_, backendRefs) => {
    expect(rulesOf([{ backendRefs }]).rules[0]?.action).toBeUndefined();
  });

  it('reports unsupported backend kinds, Services that do not exist and cross-namespace refs', () => {
    const { messages } = rulesOf([{ backendRefs: [{ group: 'example.com', kind: 'Bucket', name: 'b' }, { name: 'x', namespace: 'other', port: 80 }] }]);
    expect(messages).toEqual([
      'HTTPRoute default/r spec.rules[0].backendRefs[0].kind WARN_L7_HTTPROUTE_BACKEND_UNSUPPORTED',
      'HTTPRoute default/r spec.rules[0].backendRefs[1].name WARN_L7_HTTPROUTE_BACKEND_NOT_FOUND',
      'HTTPRoute default/r spec.rules[0].backendRefs[1].namespace WARN_L7_HTTPROUTE_CROSS_NAMESPACE',
    ]);
  });

  it.each([
    ['request timeout, default retries', { timeouts: { request: '5s' } }, 5000, ISTIO_DEFAULT_RETRY_POLICY],
    ['backendRequest without retry is the route timeout', { timeouts: { backendRequest: '2s' } }, 2000, ISTIO_DEFAULT_RETRY_POLICY],
    [
      'retry with codes and backoff; backendRequest is the per-try timeout',
      { timeouts: { request: '10s', backendRequest: '2s' }, retry: { attempts: 3, codes: [500, 502], backoff: '50ms' } },
      10_000,
      {
        ...ISTIO_DEFAULT_RETRY_POLICY,
        attempts: 3,
        retryOn: ['connect-failure', 'refused-stream', 'unavailable', 'cancelled', 'retriable-status-codes'],
        retriableStatusCodes: [500, 502],
        perTryTimeoutMs: 2000,
        backoffBaseIntervalMs: 50,
        isDefault: false,
      },
    ],
    [
      'retry without codes has no status-code token',
      { retry: {} },
      undefined,
      { ...ISTIO_DEFAULT_RETRY_POLICY, retryOn: ['connect-failure', 'refused-stream', 'unavailable', 'cancelled'], retriableStatusCodes: [], isDefault: false },
    ],
    ['retry attempts 0 disables retries', { retry: { attempts: 0 } }, undefined, undefined],
  ])('%s', (_, fields, timeoutMs, retries) => {
    const rule = rulesOf([{ backendRefs: [BACKEND], ...fields }]).rules[0];
    expect(rule?.timeoutMs).toBe(timeoutMs);
    expect(rule?.retries).toEqual(retries);
  });
});

describe('filters', () => {
  it('converts header modifiers, URL rewrite, mirror and CORS, and per-backend header modifiers', () => {
    const filters = [
      { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'X-Set', value: 'a' }], add: [{ name: 'x-add', value: 'b' }], remove: ['x-remove'] } },
      { type: 'ResponseHeaderModifier', responseHeaderModifier: { remove: ['server'] } },
      { type: 'URLRewrite', urlRewrite: { hostname: 'internal', path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/v2' } } },
      { type: 'RequestMirror', requestMirror: { backendRef: { name: 'shadow', port: 80 }, percent: 10 } },
      { type: 'RequestMirror', requestMirror: { backendRef: { name: 'shadow2', port: 80 }, fraction: { numerator: 1, denominator: 4 } } },
      { type: 'CORS', cors: { allowOrigins: ['https://a.example', 'https://*.b.example'], allowMethods: ['GET'], maxAge: 60, allowCredentials: true } },
    ];
    const backend = { ...BACKEND, filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-backend', value: '1' }] } }] };
    const rule = rulesOf([{ filters, backendRefs: [backend] }]).rules[0];
    expect(rule).toMatchObject({
      requestHeaders: { set: { 'x-set': 'a' }, add: { 'x-add': 'b' }, remove: ['x-remove'] },
      responseHeaders: { set: {}, add: {}, remove: ['server'] },
      rewrite: { path: { kind: 'prefix', value: '/v2' }, authority: 'internal' },
      mirrors: [
        { destination: { host: 'shadow.default.svc.cluster.local', port: 80 }, percentage: 10 },
        { destination: { host: 'shadow2.default.svc.cluster.local', port: 80 }, percentage: 25 },
      ],
      cors: {
        allowOrigins: [{ kind: 'exact', value: 'https://a.example' }, { kind: 'regex', value: 'https://.*\\.b\\.example' }],
        allowMethods: ['GET'],
        maxAgeMs: 60_000,
        allowCredentials: true,
      },
      action: { kind: 'forward', destinations: [{ requestHeaders: { set: { 'x-backend': '1' }, add: {}, remove: [] } }] },
    });
  });

  it('redirects with Gateway API’s default 302, and leaves out a prefix-replacing redirect', () => {
    const { rules, messages } = rulesOf([
      { filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', hostname: 'new', port: 443, path: { type: 'ReplaceFullPath', replaceFullPath: '/x' } } }] },
      { filters: [{ type: 'RequestRedirect', requestRedirect: { statusCode: 301, path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/x' } } }] },
    ]);
    expect(rules.map((r) => r.action)).toEqual([{ kind: 'redirect', uri: '/x', authority: 'new', scheme: 'https', port: 443, responseCode: 302 }]);
    expect(messages).toEqual(['HTTPRoute default/r spec.rules[1].filters[0].requestRedirect.path WARN_L7_HTTPROUTE_FIELD_IGNORED']);
  });

  it('leaves out a rule with an unsupported filter, and reports ignored hostnames', () => {
    const { rules, messages } = rulesOf([{ filters: [{ type: 'ExtensionRef' }], backendRefs: [BACKEND] }], { hostnames: ['httpbin.example'] });
    expect(rules).toEqual([]);
    expect(messages).toEqual([
      'HTTPRoute default/r spec.hostnames WARN_L7_HTTPROUTE_FIELD_IGNORED',
      'HTTPRoute default/r spec.rules[0].filters[0].type WARN_L7_HTTPROUTE_FILTER_UNSUPPORTED',
    ]);
  });
});
