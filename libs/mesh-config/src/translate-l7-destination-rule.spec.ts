// DestinationRule → TrafficPolicy and Subsets, which rule applies to a bound service, and the port protocols of the
// WaypointService (Istio's appProtocol / port-name rules).
import type { KubeObject } from './kube-object';
import { pod, service } from '../test/translation/kube-builders';
import { codes, enrolledMesh, httpService, istioObject, translateL7, waypointService } from '../test/translation/l7-harness';
import { translateMesh } from './translate-mesh';
import { subsetWorkloadUids } from './translate-l7-destination-rule';
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
      { name: 'v1', labels: { version: 'v1' }, workloadUids: [] },
      { name: 'v2', labels: { version: 'v2' }, trafficPolicy: { loadBalancer: { kind: 'simple', simple: 'RANDOM' }, portLevel: [] }, workloadUids: [] },
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

describe('subset membership (workloadUids)', () => {
  const ports = [{ name: 'http', port: 80 }];
  const reviews = service('reviews', { clusterIP: '10.96.0.1', selector: { app: 'reviews' }, ports });
  const v2 = istioObject('DestinationRule', 'reviews', { host: 'reviews', subsets: [{ name: 'v2', labels: { version: 'v2' } }] });
  const uidsOf = (objects: readonly KubeObject[], name = 'v2'): readonly string[] | undefined =>
    waypointService(translateL7(objects), 'reviews').subsets.find((s) => s.name === name)?.workloadUids;

  it.each<[string, KubeObject, string[]]>([
    ['pod labels contain the subset labels (and more)', pod('r-v2', { labels: { app: 'reviews', version: 'v2', team: 'x' } }), ['Kubernetes//Pod/default/r-v2']],
    ['pod labels differ in value', pod('r-v1', { labels: { app: 'reviews', version: 'v1' } }), []],
    ['pod lacks the subset label', pod('r', { labels: { app: 'reviews' } }), []],
    ['pod in another namespace', pod('r-v2', { namespace: 'other', labels: { app: 'reviews', version: 'v2' } }), []],
    ['pod not selected by the service', pod('ratings-v2', { labels: { app: 'ratings', version: 'v2' } }), []],
    ['terminal pod (no Workload is published)', pod('r-v2', { labels: { app: 'reviews', version: 'v2' } }, { phase: 'Succeeded' }), []],
    ['pod without an IP (no Workload is published)', pod('r-v2', { labels: { app: 'reviews', version: 'v2' } }, { ip: null }), []],
  ])('%s', (_, p, expected) => {
    expect(uidsOf([reviews, v2, p])).toEqual(expected);
  });

  it('lists the uids sorted, exactly as the published Workloads', () => {
    const pods = ['r-c', 'r-a', 'r-b'].map((name, i) => pod(name, { labels: { app: 'reviews', version: 'v2' } }, { ip: `10.0.0.${i + 10}` }));
    const objects = [reviews, v2, ...pods];
    expect(uidsOf(objects)).toEqual(['Kubernetes//Pod/default/r-a', 'Kubernetes//Pod/default/r-b', 'Kubernetes//Pod/default/r-c']);
    const published = translateMesh({ objects: [...enrolledMesh(), ...objects] }).workloads.map((w) => w.uid);
    expect(published).toEqual(expect.arrayContaining(uidsOf(objects) ?? ['missing']));
  });

  it('a subset without labels has every endpoint of the service', () => {
    const all = istioObject('DestinationRule', 'reviews', { host: 'reviews', subsets: [{ name: 'all' }] });
    const objects = [reviews, all, pod('r-1', { labels: { app: 'reviews' } }, { ip: '10.0.0.11' }), pod('x', { labels: { app: 'other' } }, { ip: '10.0.0.12' })];
    expect(uidsOf(objects, 'all')).toEqual(['Kubernetes//Pod/default/r-1']);
  });

  it('a selector-less Service has the pods its EndpointSlices target', () => {
    const manual = service('reviews', { clusterIP: '10.96.0.1', ports });
    const slice: KubeObject = {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'reviews-abc', namespace: 'default', labels: { 'kubernetes.io/service-name': 'reviews' } },
      endpoints: [{ addresses: ['10.0.0.11'], targetRef: { kind: 'Pod', name: 'r-in', namespace: 'default' } }],
    };
    const objects = [manual, v2, slice, pod('r-in', { labels: { version: 'v2' } }, { ip: '10.0.0.11' }), pod('r-out', { labels: { version: 'v2' } }, { ip: '10.0.0.12' })];
    expect(uidsOf(objects)).toEqual(['Kubernetes//Pod/default/r-in']);
  });

  it('a ServiceEntry has the pods its workloadSelector matches', () => {
    const se = istioObject('ServiceEntry', 'reviews-se', {
      hosts: ['reviews.example.com'],
      addresses: ['240.240.0.1'],
      ports: [{ number: 80, name: 'http', protocol: 'HTTP' }],
      resolution: 'STATIC',
      workloadSelector: { labels: { app: 'reviews' } },
    });
    const dr = istioObject('DestinationRule', 'reviews-se', { host: 'reviews.example.com', subsets: [{ name: 'v2', labels: { version: 'v2' } }] });
    const objects = [se, dr, pod('r-v2', { labels: { app: 'reviews', version: 'v2' } }, { ip: '10.0.0.11' }), pod('o-v2', { labels: { app: 'other', version: 'v2' } }, { ip: '10.0.0.12' })];
    const entry = translateL7(objects).waypointServices.find((w) => w.hostname === 'reviews.example.com');
    expect(entry?.subsets).toEqual([{ name: 'v2', labels: { version: 'v2' }, workloadUids: ['Kubernetes//Pod/default/r-v2'] }]);
  });

  it('subsetWorkloadUids keeps each uid once, sorted', () => {
    const endpoints = [
      { uid: 'c//Pod/ns/b', labels: { v: '2' } },
      { uid: 'c//Pod/ns/a', labels: { v: '2' } },
      { uid: 'c//Pod/ns/b', labels: { v: '2' } },
      { uid: 'c//Pod/ns/z', labels: { v: '1' } },
    ];
    expect(subsetWorkloadUids({ v: '2' }, endpoints)).toEqual(['c//Pod/ns/a', 'c//Pod/ns/b']);
    expect(subsetWorkloadUids({}, endpoints)).toEqual(['c//Pod/ns/a', 'c//Pod/ns/b', 'c//Pod/ns/z']);
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
