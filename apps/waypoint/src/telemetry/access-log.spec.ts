import { accessLogFields, accessLogLine, type AccessLogInput } from './access-log';
import { isErrorResponse, serverSpanAttributes, type SpanAttributesInput } from './span-attributes';

const base: AccessLogInput = {
  startTime: new Date('2026-01-02T03:04:05.006Z'),
  method: 'GET',
  path: '/status/200',
  protocol: 'HTTP/1.1',
  responseCode: 200,
  responseFlags: '-',
  requestBytes: 0,
  responseBytes: 12,
  durationMs: 4.9,
};

describe('accessLogLine', () => {
  it('writes Envoy’s JSON fields, numbers as numbers, unknown values as null', () => {
    expect(JSON.parse(accessLogLine(base))).toEqual({
      start_time: '2026-01-02T03:04:05.006Z',
      route_name: null,
      method: 'GET',
      path: '/status/200',
      protocol: 'HTTP/1.1',
      response_code: 200,
      response_flags: '-',
      response_code_details: null,
      upstream_transport_failure_reason: null,
      bytes_received: 0,
      bytes_sent: 12,
      duration: 4,
      upstream_service_time: null,
      x_forwarded_for: null,
      user_agent: null,
      request_id: null,
      authority: null,
      upstream_host: null,
      upstream_cluster: null,
      downstream_local_address: null,
      downstream_remote_address: null,
      source_principal: null,
      destination_principal: null,
    });
  });

  it.each<[string, Partial<AccessLogInput>, Record<string, unknown>]>([
    [
      'a proxied request carries the upstream and both principals',
      {
        upstreamHost: '10.0.1.1:8080',
        upstreamCluster: 'inbound-vip|8000|http|httpbin.apps.svc.cluster.local',
        upstreamServiceTimeMs: 3.2,
        authority: 'httpbin.apps:8000',
        userAgent: 'curl/8.5.0',
        requestId: 'a1b2',
        forwardedFor: '10.0.0.1',
        downstreamRemoteAddress: '10.0.0.1:51234',
        sourcePrincipal: 'spiffe://cluster.local/ns/default/sa/sleep',
        destinationPrincipal: 'spiffe://cluster.local/ns/apps/sa/httpbin',
      },
      {
        upstream_host: '10.0.1.1:8080',
        upstream_cluster: 'inbound-vip|8000|http|httpbin.apps.svc.cluster.local',
        upstream_service_time: 3,
        authority: 'httpbin.apps:8000',
        user_agent: 'curl/8.5.0',
        request_id: 'a1b2',
        x_forwarded_for: '10.0.0.1',
        downstream_remote_address: '10.0.0.1:51234',
        source_principal: 'spiffe://cluster.local/ns/default/sa/sleep',
        destination_principal: 'spiffe://cluster.local/ns/apps/sa/httpbin',
      },
    ],
    [
      'an RBAC denial: 403 with its details, nothing upstream',
      { responseCode: 403, responseCodeDetails: 'rbac_access_denied_matched_policy[none]' },
      { response_code: 403, response_code_details: 'rbac_access_denied_matched_policy[none]', upstream_host: null },
    ],
    ['no response at all: code 0 and the flag', { responseCode: 0, responseFlags: 'DC', durationMs: -1 }, { response_code: 0, response_flags: 'DC', duration: 0 }],
    ['empty strings read as unknown', { userAgent: '', responseFlags: '' }, { user_agent: null, response_flags: '-' }],
  ])('%s', (_name, overrides, expected) => {
    expect(accessLogFields({ ...base, ...overrides })).toMatchObject(expected);
  });

  it.each<[string, Partial<AccessLogInput>]>([
    ['the minimal line', {}],
    [
      'every field, with quotes, backslashes, control and non-ASCII characters',
      {
        routeName: 'r"1',
        path: '/a\\b\u0001\u2028?q="x"',
        method: 'GÉT',
        responseCodeDetails: 'via_upstream',
        upstreamTransportFailureReason: 'tls\terror',
        upstreamServiceTimeMs: 3.9,
        upstreamHost: '10.0.1.1:8080',
        upstreamCluster: 'inbound-vip|8000|http|httpbin.apps.svc.cluster.local',
        authority: 'httpbin.apps:8000',
        userAgent: 'curl/8.5.0 "quoted"',
        requestId: 'a1b2',
        forwardedFor: '10.0.0.1',
        downstreamLocalAddress: '10.0.0.9:15008',
        downstreamRemoteAddress: '10.0.0.1:51234',
        sourcePrincipal: 'spiffe://cluster.local/ns/default/sa/sleep',
        destinationPrincipal: 'spiffe://cluster.local/ns/apps/sa/httpbin',
      },
    ],
    ['numbers JSON cannot hold', { durationMs: Number.NaN, responseBytes: Infinity, upstreamServiceTimeMs: -5 }],
    ['empty strings', { method: '', path: '', responseFlags: '', userAgent: '' }],
  ])('is JSON.stringify of the fields: %s', (_name, overrides) => {
    const input = { ...base, ...overrides };
    expect(accessLogLine(input)).toBe(JSON.stringify(accessLogFields(input)));
  });

  it('is one line', () => {
    expect(accessLogLine({ ...base, path: '/a\nb' })).not.toContain('\n');
  });
});

describe('serverSpanAttributes', () => {
  const input: SpanAttributesInput = {
    method: 'POST',
    scheme: 'http',
    authority: 'httpbin.apps:8000',
    path: '/post?x=1',
    protocol: 'HTTP/2',
    responseCode: 201,
    responseFlags: '-',
    requestBytes: 5,
    responseBytes: 7,
    proxy: { nodeId: 'waypoint-1', canonicalService: 'waypoint', canonicalRevision: 'latest', namespace: 'apps', meshId: 'cluster.local', clusterId: 'Kubernetes' },
  };

  it('names the tags as Envoy and Istio do, leaving out unknown ones', () => {
    expect(serverSpanAttributes(input)).toEqual({
      component: 'proxy',
      node_id: 'waypoint-1',
      'http.method': 'POST',
      'http.url': 'http://httpbin.apps:8000/post?x=1',
      'http.protocol': 'HTTP/2',
      'http.status_code': 201,
      request_size: 5,
      response_size: 7,
      response_flags: '-',
      'istio.canonical_service': 'waypoint',
      'istio.canonical_revision': 'latest',
      'istio.namespace': 'apps',
      'istio.mesh_id': 'cluster.local',
      'istio.cluster_id': 'Kubernetes',
    });
  });

  it('adds upstream, request id and gRPC status when known', () => {
    expect(
      serverSpanAttributes({ ...input, upstreamCluster: 'c', upstreamHost: '10.0.1.1:8080', requestId: 'r', grpcStatus: 0, userAgent: 'grpc-node' }),
    ).toMatchObject({ upstream_cluster: 'c', 'upstream_cluster.name': 'c', upstream_address: '10.0.1.1:8080', 'guid:x-request-id': 'r', 'grpc.status_code': 0, user_agent: 'grpc-node' });
  });

  it.each<[number, number | undefined, boolean]>([
    [200, undefined, false],
    [404, undefined, false],
    [503, undefined, true],
    [0, undefined, true],
    [200, 0, false],
    [200, 14, true],
  ])('response %d with gRPC status %s is an error: %s', (code, grpc, expected) => {
    expect(isErrorResponse(code, grpc)).toBe(expected);
  });
});
