// VirtualService → RouteRules: host selection, matches, destinations and weights, Istio's retry defaults, fault
// injection, redirect/direct response/rewrite/mirror/CORS, and what is reported and left out.
import type { RouteRule } from '@weft/mesh-model';

import { codes, httpService, istioObject, translateL7, waypointService } from '../test/translation/l7-harness';
import { ISTIO_DEFAULT_RETRY_POLICY } from './translate-l7-retries';

const HOST = 'reviews.default.svc.cluster.local';

function routesOf(http: unknown[], extra: Record<string, unknown> = {}, objects = [httpService('reviews')]): { rules: readonly RouteRule[]; messages: string[] } {
  const result = translateL7([...objects, istioObject('VirtualService', 'reviews', { hosts: ['reviews'], http, ...extra })]);
  return { rules: waypointService(result, 'reviews').httpRoutes, messages: codes(result) };
}

const forward = (host = 'reviews') => ({ route: [{ destination: { host } }] });

describe('which VirtualService a bound service uses', () => {
  it.each([
    ['a short name in the VirtualService namespace', ['reviews'], 'default', true],
    ['the FQDN', [HOST], 'other', true],
    ['a wildcard', ['*.default.svc.cluster.local'], 'other', true],
    ['a short name resolved in another namespace', ['reviews'], 'other', false],
    ['name.namespace (Istio takes it as fully qualified)', ['reviews.default'], 'default', false],
  ])('%s', (_, hosts, ns, applies) => {
    const result = translateL7([httpService('reviews'), istioObject('VirtualService', 'vs', { hosts, http: [forward(HOST)] }, { namespace: ns })]);
    expect(waypointService(result, 'reviews').routeSource).toBe(applies ? `VirtualService ${ns}/vs` : '');
  });

  it('reports name.namespace hosts that look like the service but do not select it', () => {
    const result = translateL7([httpService('reviews'), istioObject('VirtualService', 'vs', { hosts: ['reviews.default.svc'], http: [forward()] })]);
    expect(codes(result)).toContain('VirtualService default/vs spec.hosts[0] WARN_L7_VS_HOST_NOT_FQDN');
  });

  it('ignores VirtualServices bound only to gateways, and those not exported to the waypoint namespace', () => {
    const result = translateL7([
      httpService('reviews'),
      istioObject('VirtualService', 'ingress', { hosts: [HOST], gateways: ['istio-system/ingress'], http: [forward()] }),
      istioObject('VirtualService', 'private', { hosts: [HOST], exportTo: ['.'], http: [forward()] }, { namespace: 'other' }),
    ]);
    expect(waypointService(result, 'reviews').routeSource).toBe('');
  });

  it('uses the exact host before a wildcard, then the oldest, and reports the others', () => {
    const result = translateL7([
      httpService('reviews'),
      istioObject('VirtualService', 'wild', { hosts: ['*.svc.cluster.local'], http: [forward()] }, { creationTimestamp: '2020-01-01T00:00:00Z' }),
      istioObject('VirtualService', 'newer', { hosts: ['reviews'], http: [forward()] }, { creationTimestamp: '2024-01-01T00:00:00Z' }),
      istioObject('VirtualService', 'older', { hosts: ['reviews'], http: [forward()] }, { creationTimestamp: '2023-01-01T00:00:00Z' }),
    ]);
    expect(waypointService(result, 'reviews').routeSource).toBe('VirtualService default/older');
    expect(codes(result)).toEqual(expect.arrayContaining(['VirtualService default/newer spec.hosts WARN_L7_VS_CONFLICT', 'VirtualService default/wild spec.hosts WARN_L7_VS_CONFLICT']));
  });
});

describe('matches', () => {
  it('keeps every supported field, lower-cases header names, in rule order', () => {
    const match = {
      name: 'jason',
      uri: { prefix: '/api' },
      method: { exact: 'GET' },
      authority: { regex: 'reviews.*' },
      headers: { 'End-User': { exact: 'jason' }, 'x-present': {} },
      withoutHeaders: { 'x-debug': { prefix: '1' } },
      queryParams: { v: { regex: '[12]' } },
      ignoreUriCase: true,
      port: 80,
    };
    const { rules } = routesOf([{ name: 'first', match: [match], ...forward() }, { name: 'second', ...forward() }]);
    expect(rules.map((r) => r.name)).toEqual(['first', 'second']);
    expect(rules[0]?.matches).toEqual([
      {
        name: 'jason',
        uri: { kind: 'prefix', value: '/api' },
        method: { kind: 'exact', value: 'GET' },
        authority: { kind: 'regex', value: 'reviews.*' },
        headers: { 'end-user': { kind: 'exact', value: 'jason' }, 'x-present': { kind: 'any' } },
        withoutHeaders: { 'x-debug': { kind: 'prefix', value: '1' } },
        queryParams: { v: { kind: 'regex', value: '[12]' } },
        ignoreUriCase: true,
        port: 80,
      },
    ]);
  });

  it.each([
    ['a regex that does not compile', { uri: { regex: '(' } }, 'spec.http[0].match[0].uri WARN_L7_REGEX_INVALID'],
    ['a look-ahead regex', { headers: { a: { regex: 'x(?=y)' } } }, 'spec.http[0].match[0].headers.a WARN_L7_REGEX_INVALID'],
  ])('leaves the rule out for %s', (_, match, message) => {
    const { rules, messages } = routesOf([{ match: [match], ...forward() }, forward()]);
    expect(rules).toHaveLength(1);
    expect(messages).toContain(`VirtualService default/reviews ${message}`);
  });

  it.each(['sourceLabels', 'sourceNamespace', 'scheme'])('drops a match on %s (not supported by waypoints) and reports it', (key) => {
    const value = key === 'sourceLabels' ? { app: 'a' } : key === 'scheme' ? { exact: 'http' } : 'ns';
    const { rules, messages } = routesOf([{ match: [{ [key]: value }, { uri: { exact: '/a' } }], ...forward() }]);
    expect(rules[0]?.matches.map((m) => m.uri)).toEqual([{ kind: 'exact', value: '/a' }]);
    expect(messages).toContain(`VirtualService default/reviews spec.http[0].match[0].${key} WARN_L7_VS_MATCH_UNSUPPORTED`);
  });

  it('leaves out a rule whose every match is for a gateway', () => {
    expect(routesOf([{ match: [{ gateways: ['ingress'] }], ...forward() }]).rules).toEqual([]);
  });
});

describe('destinations', () => {
  it('gives a lone destination weight 100, resolves short names and finds the service namespace', () => {
    const { rules } = routesOf([{ route: [{ destination: { host: 'reviews', port: { number: 9080 } }, headers: { request: { set: { a: 'b' } } } }] }]);
    expect(rules[0]?.action).toEqual({
      kind: 'forward',
      destinations: [{ destination: { host: HOST, serviceNamespace: 'default', port: 9080, subset: '' }, weight: 100, requestHeaders: { set: { a: 'b' }, add: {}, remove: [] } }],
    });
  });

  it('keeps weights and subsets, and reports a subset no DestinationRule defines', () => {
    const dr = istioObject('DestinationRule', 'reviews', { host: 'reviews', subsets: [{ name: 'v1', labels: { version: 'v1' } }] });
    const http = [{ route: [{ destination: { host: 'reviews', subset: 'v1' }, weight: 90 }, { destination: { host: 'reviews', subset: 'v2' }, weight: 10 }] }];
    const { rules, messages } = routesOf(http, {}, [httpService('reviews'), dr]);
    const action = rules[0]?.action;
    expect(action?.kind === 'forward' && action.destinations.map((d) => [d.destination.subset, d.weight])).toEqual([['v1', 90], ['v2', 10]]);
    expect(messages).toEqual(['VirtualService default/reviews spec.http[0].route[1].destination.subset WARN_L7_SUBSET_NOT_FOUND']);
  });

  it('names an external host with no service namespace', () => {
    const { rules } = routesOf([forward('api.example.com')]);
    expect(rules[0]?.action).toMatchObject({ destinations: [{ destination: { host: 'api.example.com', serviceNamespace: '' } }] });
  });
});

describe('retries and timeouts', () => {
  it('fills in Istio’s default retry policy when none is written, marked is_default', () => {
    expect(routesOf([forward()]).rules[0]?.retries).toEqual(ISTIO_DEFAULT_RETRY_POLICY);
    expect(ISTIO_DEFAULT_RETRY_POLICY).toMatchObject({ attempts: 2, retriableStatusCodes: [503], ignorePreviousHosts: true, hostSelectionRetryMaxAttempts: 5, isDefault: true });
  });

  it.each([
    ['attempts 0 disables retries', { attempts: 0 }, undefined],
    ['no attempts disables retries (istiod ConvertPolicy)', { perTryTimeout: '1s' }, undefined],
    [
      'a written policy lays over the default; codes in retryOn become status codes',
      { attempts: 4, retryOn: '5xx, 429,gateway-error', perTryTimeout: '1.5s', backoff: '100ms', retryRemoteLocalities: true, retryIgnorePreviousHosts: false },
      {
        attempts: 4,
        retryOn: ['5xx', 'gateway-error', 'retriable-status-codes'],
        retriableStatusCodes: [429],
        perTryTimeoutMs: 1500,
        backoffBaseIntervalMs: 100,
        retryRemoteLocalities: true,
        ignorePreviousHosts: false,
        hostSelectionRetryMaxAttempts: 5,
        isDefault: false,
      },
    ],
    ['attempts only keeps the default retryOn', { attempts: 5 }, { ...ISTIO_DEFAULT_RETRY_POLICY, attempts: 5, isDefault: false }],
  ])('%s', (_, retries, expected) => {
    expect(routesOf([{ ...forward(), retries }]).rules[0]?.retries).toEqual(expected);
  });

  it('converts the timeout to milliseconds', () => {
    expect(routesOf([{ ...forward(), timeout: '1m30s' }]).rules[0]?.timeoutMs).toBe(90_000);
  });
});

describe('fault injection', () => {
  it('clears the timeout and retries, as Istio does, and says so', () => {
    const { rules, messages } = routesOf([
      { ...forward(), timeout: '2s', retries: { attempts: 3 }, fault: { delay: { fixedDelay: '5s', percentage: { value: 10 } }, abort: { httpStatus: 503, percentage: { value: 1.5 } } } },
    ]);
    expect(rules[0]).toMatchObject({ fault: { delay: { fixedDelayMs: 5000, percentage: 10 }, abort: { error: { kind: 'http', status: 503 }, percentage: 1.5 } } });
    expect(rules[0]?.timeoutMs).toBeUndefined();
    expect(rules[0]?.retries).toBeUndefined();
    expect(messages).toContain('VirtualService default/reviews spec.http[0].fault WARN_L7_VS_FAULT_DISABLES');
  });

  it('maps a gRPC status name to its code and the deprecated percent to a percentage', () => {
    const { rules } = routesOf([{ ...forward(), fault: { abort: { grpcStatus: 'UNAVAILABLE', percentage: { value: 100 } }, delay: { fixedDelay: '1s', percent: 20 } } }]);
    expect(rules[0]?.fault).toEqual({ delay: { fixedDelayMs: 1000, percentage: 20 }, abort: { error: { kind: 'grpc', status: 14 }, percentage: 100 } });
  });

  it('reports an exponential delay, an http2Error abort and a fault without percentage', () => {
    const { rules, messages } = routesOf([
      { ...forward(), fault: { delay: { exponentialDelay: '1s' }, abort: { http2Error: 'x' } } },
      { ...forward(), fault: { abort: { httpStatus: 500 } } },
    ]);
    expect(rules[0]?.fault).toBeUndefined();
    expect(rules[1]?.fault).toEqual({ abort: { error: { kind: 'http', status: 500 }, percentage: 0 } });
    // Only a timeout or retries the user wrote are worth a message when the fault clears them.
    expect(rules[1]?.retries).toBeUndefined();
    expect(messages).toEqual([
      'VirtualService default/reviews spec.http[0].fault.abort WARN_L7_VS_FIELD_IGNORED',
      'VirtualService default/reviews spec.http[0].fault.delay WARN_L7_VS_FIELD_IGNORED',
      'VirtualService default/reviews spec.http[1].fault.abort.percentage WARN_L7_VS_FAULT_NO_PERCENTAGE',
    ]);
  });
});

describe('other actions and route fields', () => {
  it('redirects with 301 unless a code is written', () => {
    const { rules } = routesOf([{ redirect: { uri: '/v2', authority: 'new' } }, { redirect: { uri: '/x', redirectCode: 308, scheme: 'https', port: 8443 } }]);
    expect(rules.map((r) => r.action)).toEqual([
      { kind: 'redirect', uri: '/v2', authority: 'new', scheme: '', port: 0, responseCode: 301 },
      { kind: 'redirect', uri: '/x', authority: '', scheme: 'https', port: 8443, responseCode: 308 },
    ]);
  });

  it('answers directly with a string or base64 bytes body', () => {
    const { rules } = routesOf([{ directResponse: { status: 503, body: { string: 'down' } } }, { directResponse: { status: 200, body: { bytes: 'AAE=' } } }]);
    expect(rules.map((r) => r.action)).toEqual([
      { kind: 'directResponse', status: 503, body: new TextEncoder().encode('down') },
      { kind: 'directResponse', status: 200, body: new Uint8Array([0, 1]) },
    ]);
  });

  it('rewrites the matched prefix, by regex, and the authority', () => {
    const { rules } = routesOf([
      { ...forward(), rewrite: { uri: '/v1/', authority: 'internal' } },
      { ...forward(), rewrite: { uriRegexRewrite: { match: '^/a/(.*)$', rewrite: '/b/\\1' } } },
    ]);
    expect(rules.map((r) => r.rewrite)).toEqual([
      { path: { kind: 'prefix', value: '/v1/' }, authority: 'internal' },
      { path: { kind: 'regex', pattern: '^/a/(.*)$', substitution: '/b/\\1' }, authority: '' },
    ]);
  });

  it('mirrors (single with percentage, list with Istio’s default 100), route headers and CORS', () => {
    const { rules } = routesOf([
      {
        ...forward(),
        mirror: { host: 'shadow' },
        mirrorPercentage: { value: 5 },
        mirrors: [{ destination: { host: 'shadow2', subset: 'v1', port: { number: 81 } } }],
        headers: { request: { add: { a: '1' } }, response: { remove: ['server'] } },
        corsPolicy: { allowOrigins: [{ exact: 'https://a' }, { regex: 'https://.*\\.b' }], allowMethods: ['GET'], maxAge: '24h', allowCredentials: false },
      },
    ]);
    expect(rules[0]).toMatchObject({
      mirrors: [
        { destination: { host: 'shadow.default.svc.cluster.local', serviceNamespace: '', port: 0, subset: '' }, percentage: 5 },
        { destination: { host: 'shadow2.default.svc.cluster.local', serviceNamespace: '', port: 81, subset: 'v1' }, percentage: 100 },
      ],
      requestHeaders: { set: {}, add: { a: '1' }, remove: [] },
      responseHeaders: { set: {}, add: {}, remove: ['server'] },
      cors: {
        allowOrigins: [{ kind: 'exact', value: 'https://a' }, { kind: 'regex', value: 'https://.*\\.b' }],
        allowMethods: ['GET'],
        allowHeaders: [],
        exposeHeaders: [],
        maxAgeMs: 86_400_000,
        allowCredentials: false,
      },
    });
  });

  it('leaves out delegate rules and reports tcp/tls routes', () => {
    const { rules, messages } = routesOf([{ delegate: { name: 'child' } }, forward()], { tcp: [{ route: [{ destination: { host: 'reviews' } }] }] });
    expect(rules).toHaveLength(1);
    expect(messages).toEqual([
      'VirtualService default/reviews spec.http[0].delegate WARN_L7_VS_DELEGATE',
      'VirtualService default/reviews spec.tcp WARN_L7_VS_NON_HTTP_ROUTES',
    ]);
  });
});
