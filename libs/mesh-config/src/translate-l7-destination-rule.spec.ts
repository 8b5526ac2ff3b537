// DestinationRule → TrafficPolicy and Subsets, which rule applies to a bound service, and the port protocols of the
// WaypointService (Istio's appProtocol / port-name rules).
import { codes, httpService, istioObject, translateL7, waypointService } from '../test/translation/l7-harness';
import { waypointProtocolOf } from './translate-l7-ports';

function policyOf(spec: Record<string, unknown>, objects = [httpService('reviews')]) {
  const result = translateL7([...objects, istioObject('DestinationRule', 'reviews', { host: 'reviews', ...spec })]);
  return { service: waypointService(result, 'reviews'), messages: codes(result) };
}

describe('traffic policy', () => {
  it('converts load balancer, connection pool, outlier detection and port-level settings', () => {
    const { service } = policyOf({
      trafficPolicy: {
        loadBalancer: { simple: 'ROUND_ROBIN' },
        connectionPool: {
          tcp: { maxConnections: 100, connectTimeout: '30ms', idleTimeout: '1h', maxConnectionDuration: '10m' },
          http: { http1MaxPendingRequests: 1, http2MaxRequests: 1000, maxRequestsPerConnection: 10, maxRetries: 3, idleTimeout: '30s', maxConcurrentStreams: 50 },
        },
        outlierDetection: { consecutive5xxErrors: 0, consecutiveGatewayErrors: 3, interval: '10s', baseEjectionTime: '3m', maxEjectionPercent: 50, minHealthPercent: 20, splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailures: 2 },
        portLevelSettings: [{ port: { number: 80 }, loadBalancer: { consistentHash: { httpCookie: { name: 'u', path: '/', ttl: '0s' }, ringHash: { minimumRingSize: 1024 } } } }],
      },
    });
    expect(service.trafficPolicySource).toBe('DestinationRule default/reviews');
    expect(service.trafficPolicy).toEqual({
      loadBalancer: { kind: 'simple', simple: 'ROUND_ROBIN' },
      connectionPool: {
        tcp: { maxConnections: 100, connectTimeoutMs: 30, idleTimeoutMs: 3_600_000, maxConnectionDurationMs: 600_000 },
        http: { http1MaxPendingRequests: 1, http2MaxRequests: 1000, maxRequestsPerConnection: 10, maxRetries: 3, idleTimeoutMs: 30_000, maxConcurrentStreams: 50 },
      },
      outlierDetection: {
        consecutive5xxErrors: 0,
        consecutiveGatewayErrors: 3,
        intervalMs: 10_000,
        baseEjectionTimeMs: 180_000,
        maxEjectionPercent: 50,
        minHealthPercent: 20,
        splitExternalLocalOriginErrors: true,
        consecutiveLocalOriginFailures: 2,
      },
      portLevel: [{ port: 80, loadBalancer: { kind: 'consistentHash', hashKey: { kind: 'httpCookie', name: 'u', path: '/', ttlMs: 0 }, minimumRingSize: 1024 } }],
    });
  });

  it.each([
    [{ simple: 'LEAST_CONN' }, { kind: 'simple', simple: 'LEAST_REQUEST' }],
    [{ simple: 'PASSTHROUGH' }, { kind: 'simple', simple: 'PASSTHROUGH' }],
    [{ consistentHash: { httpHeaderName: 'x-user' } }, { kind: 'consistentHash', hashKey: { kind: 'httpHeaderName', name: 'x-user' }, minimumRingSize: 0 }],
    [{ consistentHash: { useSourceIp: true, minimumRingSize: 64 } }, { kind: 'consistentHash', hashKey: { kind: 'useSourceIp' }, minimumRingSize: 64 }],
    [{ consistentHash: { httpQueryParameterName: 'u' } }, { kind: 'consistentHash', hashKey: { kind: 'httpQueryParameterName', name: 'u' }, minimumRingSize: 0 }],
  ])('load balancer %j', (loadBalancer, expected) => {
    expect(policyOf({ trafficPolicy: { loadBalancer } }).service.trafficPolicy?.loadBalancer).toEqual(expected);
  });

  it('keeps subsets with their labels and policies', () => {
    const { service } = policyOf({ subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' }, trafficPolicy: { loadBalancer: { simple: 'RANDOM' } } }] });
    expect(service.subsets).toEqual([
      { name: 'v1', labels: { version: 'v1' } },
      { name: 'v2', labels: { version: 'v2' }, trafficPolicy: { loadBalancer: { kind: 'simple', simple: 'RANDOM' }, portLevel: [] } },
    ]);
    expect(service.trafficPolicy).toBeUndefined();
  });

  it('reports what a waypoint does not apply', () => {
    const { messages } = policyOf({
      trafficPolicy: {
        tls: { mode: 'SIMPLE' },
        loadBalancer: { simple: 'RANDOM', localityLbSetting: { enabled: true } },
        connectionPool: { tcp: { tcpKeepalive: { time: '1s' } }, http: { h2UpgradePolicy: 'UPGRADE' } },
      },
    });
    expect(messages).toEqual([
      'DestinationRule default/reviews spec.trafficPolicy.connectionPool.http.h2UpgradePolicy WARN_L7_DR_FIELD_IGNORED',
      'DestinationRule default/reviews spec.trafficPolicy.connectionPool.tcp.tcpKeepalive WARN_L7_DR_FIELD_IGNORED',
      'DestinationRule default/reviews spec.trafficPolicy.loadBalancer.localityLbSetting WARN_L7_DR_FIELD_IGNORED',
      'DestinationRule default/reviews spec.trafficPolicy.tls WARN_L7_DR_FIELD_IGNORED',
    ]);
  });
});

describe('which DestinationRule applies', () => {
  const dr = (name: string, ns: string, host: string, extra: Record<string, unknown> = {}) =>
    istioObject('DestinationRule', name, { host, trafficPolicy: { loadBalancer: { simple: 'RANDOM' } }, ...extra }, { namespace: ns });

  it.each([
    ['the waypoint namespace before the root namespace', [dr('root', 'istio-system', 'reviews.default.svc.cluster.local'), dr('local', 'default', 'reviews')], 'DestinationRule default/local'],
    ['the root namespace when nothing closer exists', [dr('root', 'istio-system', '*.svc.cluster.local')], 'DestinationRule istio-system/root'],
    ['not another namespace’s rule', [dr('elsewhere', 'other', 'reviews.default.svc.cluster.local')], ''],
    ['an exact host before a wildcard', [dr('a-wild', 'default', '*.default.svc.cluster.local'), dr('b-exact', 'default', 'reviews')], 'DestinationRule default/b-exact'],
    ['not one with a workloadSelector', [dr('selected', 'default', 'reviews', { workloadSelector: { matchLabels: { app: 'x' } } })], ''],
  ])('%s', (_, rules, source) => {
    expect(waypointService(translateL7([httpService('reviews'), ...rules]), 'reviews').trafficPolicySource).toBe(source);
  });

  it('reports the rules it did not apply', () => {
    const result = translateL7([httpService('reviews'), dr('a', 'default', 'reviews'), dr('b', 'default', 'reviews'), dr('s', 'default', 'reviews', { workloadSelector: {} })]);
    expect(codes(result)).toEqual([
      'DestinationRule default/b spec.host WARN_L7_DR_CONFLICT',
      'DestinationRule default/s spec.workloadSelector WARN_L7_DR_WORKLOAD_SELECTOR',
    ]);
  });
});

describe('ports', () => {
  it.each([
    ['http', undefined, 'HTTP'],
    ['http-web', undefined, 'HTTP'],
    ['HTTP2', undefined, 'HTTP2'],
    ['grpc', undefined, 'GRPC'],
    ['grpc-web', undefined, 'HTTP'],
    ['tcp-db', undefined, 'TCP'],
    ['https', undefined, 'TCP'],
    ['tls', undefined, 'TCP'],
    ['mongo', undefined, 'TCP'],
    ['redis-cache', undefined, 'TCP'],
    ['mysql', undefined, 'TCP'],
    ['', undefined, 'UNKNOWN'],
    ['web', undefined, 'UNKNOWN'],
    ['httpx', undefined, 'UNKNOWN'],
    ['tcp', 'http', 'HTTP'],
    ['web', 'kubernetes.io/h2c', 'HTTP2'],
    ['web', 'kubernetes.io/ws', 'HTTP'],
    ['http', 'custom.example/proto', 'UNKNOWN'],
  ])('port name %j with appProtocol %j is %s', (name, appProtocol, expected) => {
    expect(waypointProtocolOf(name, appProtocol)).toBe(expected);
  });

  it('lists TCP ports with target ports, and reports UDP ones', () => {
    const ports = [
      { name: 'http', port: 80, targetPort: 8080 },
      { name: 'grpc', port: 9090, targetPort: 'grpc-port' },
      { name: 'dns', port: 53, protocol: 'UDP' },
    ];
    const result = translateL7([httpService('reviews', 'default', ports)]);
    expect(waypointService(result, 'reviews').ports).toEqual([
      { name: 'http', port: 80, targetPort: 8080, protocol: 'HTTP' },
      { name: 'grpc', port: 9090, targetPort: 0, protocol: 'GRPC' },
    ]);
    expect(codes(result)).toEqual(['Service default/reviews spec.ports[2].protocol WARN_L7_PORT_NOT_TCP']);
  });

  it('gives only bound services a WaypointService', () => {
    const result = translateL7([httpService('reviews'), httpService('other', 'unenrolled')]);
    expect(result.waypointServices.map((s) => s.hostname)).toEqual(['reviews.default.svc.cluster.local']);
  });
});
