import { service, workload } from '@weft/testing';
import {
  accessLogBytes,
  connectionCompleteRecord,
  connectionFailedRecord,
  connectionOpenedRecord,
  formatAccessLogLine,
} from './access-log';
import { createTcpMetrics } from './tcp-metrics';
import { TRAFFIC_LABEL_NAMES, trafficLabels, type TrafficEnds } from './traffic-labels';

const client = workload({
  name: 'sleep-7d9f-abc',
  workloadName: 'sleep',
  canonicalName: 'sleep',
  canonicalRevision: 'v1',
  serviceAccount: 'sleep',
  locality: { region: 'us-east', zone: 'us-east-1a', subzone: '' },
});
const server = workload({
  name: 'httpbin-5c6-xyz',
  namespace: 'apps',
  workloadName: 'httpbin',
  canonicalName: 'httpbin',
  canonicalRevision: 'v2',
  serviceAccount: 'httpbin',
  clusterId: 'east',
});
const httpbin = service({ name: 'httpbin', namespace: 'apps' });

const full = {
  reporter: 'source',
  source_workload: 'sleep',
  source_canonical_service: 'sleep',
  source_canonical_revision: 'v1',
  source_workload_namespace: 'default',
  source_principal: 'spiffe://cluster.local/ns/default/sa/sleep',
  source_app: 'sleep',
  source_version: 'v1',
  source_cluster: 'Kubernetes',
  destination_service: 'httpbin.apps.svc.cluster.local',
  destination_service_namespace: 'apps',
  destination_service_name: 'httpbin',
  destination_workload: 'httpbin',
  destination_canonical_service: 'httpbin',
  destination_canonical_revision: 'v2',
  destination_workload_namespace: 'apps',
  destination_principal: 'spiffe://cluster.local/ns/apps/sa/httpbin',
  destination_app: 'httpbin',
  destination_version: 'v2',
  destination_cluster: 'east',
  request_protocol: 'tcp',
  response_flags: '-',
  connection_security_policy: 'mutual_tls',
  source_region: 'us-east',
  source_zone: 'us-east-1a',
  destination_region: 'unknown',
  destination_zone: 'unknown',
};

describe('trafficLabels (reference §8.1)', () => {
  it.each<[string, TrafficEnds, Record<string, string>]>([
    [
      'outbound HBONE to a service: every label known',
      { reporter: 'source', source: client, sourcePrincipal: 'spiffe://cluster.local/ns/default/sa/sleep', destination: server, destinationService: httpbin, securityPolicy: 'mutual_tls' },
      full,
    ],
    [
      'inbound plaintext from an unknown client: source unknown, no principal',
      { reporter: 'destination', destination: server, securityPolicy: 'unknown' },
      {
        ...full,
        reporter: 'destination',
        source_workload: 'unknown',
        source_canonical_service: 'unknown',
        source_canonical_revision: 'unknown',
        source_workload_namespace: 'unknown',
        source_principal: 'unknown',
        source_app: 'unknown',
        source_version: 'unknown',
        source_cluster: 'unknown',
        source_region: 'unknown',
        source_zone: 'unknown',
        destination_service: 'unknown',
        destination_service_namespace: 'unknown',
        destination_service_name: 'unknown',
        connection_security_policy: 'unknown',
      },
    ],
    [
      'a known source on plaintext still has no source_principal',
      { reporter: 'destination', source: client, destination: server, securityPolicy: 'unknown', responseFlags: 'DENY' },
      {
        ...full,
        reporter: 'destination',
        source_principal: 'unknown',
        destination_service: 'unknown',
        destination_service_namespace: 'unknown',
        destination_service_name: 'unknown',
        response_flags: 'DENY',
        connection_security_policy: 'unknown',
      },
    ],
  ])('%s', (_name, ends, expected) => {
    expect(trafficLabels(ends)).toEqual(expected);
  });

  it('uses Istio’s label order', () => {
    const labels = trafficLabels({ reporter: 'source', source: client, securityPolicy: 'mutual_tls' });
    expect(Object.keys(labels)).toEqual([...TRAFFIC_LABEL_NAMES]);
  });

  it('passthrough with neither end known has no locality labels', () => {
    const labels = trafficLabels({ reporter: 'source', securityPolicy: 'unknown' });
    expect(Object.keys(labels)).toEqual(TRAFFIC_LABEL_NAMES.slice(0, 23));
  });
});

describe('createTcpMetrics', () => {
  const labels = trafficLabels({ reporter: 'source', source: client, destination: server, securityPolicy: 'mutual_tls' });

  it('counts opens, closes and bytes per label set and renders Istio’s names', () => {
    const metrics = createTcpMetrics();
    const a = metrics.open(labels);
    const b = metrics.open(labels);
    a.sent(100);
    a.received(40);
    b.sent(1);
    a.close();
    a.close();
    expect([a.bytesSent, a.bytesReceived]).toEqual([100, 40]);
    const values = Object.fromEntries(metrics.families().map((f) => [f.name, f.samples.map((s) => s.value)]));
    expect(values).toEqual({
      istio_tcp_connections_opened_total: [2],
      istio_tcp_connections_closed_total: [1],
      istio_tcp_received_bytes_total: [40],
      istio_tcp_sent_bytes_total: [101],
    });
  });

  it('records the close under the final response flag', () => {
    const metrics = createTcpMetrics();
    metrics.open(labels).close('DENY');
    const closed = metrics.families().find((f) => f.name === 'istio_tcp_connections_closed_total');
    expect(closed?.samples.map((s) => s.labels?.response_flags)).toEqual(['DENY']);
    const opened = metrics.families().find((f) => f.name === 'istio_tcp_connections_opened_total');
    expect(opened?.samples.map((s) => s.labels?.response_flags)).toEqual(['-']);
  });

  it('renders Prometheus text', () => {
    const metrics = createTcpMetrics();
    metrics.open({ reporter: 'destination', request_protocol: 'tcp' });
    expect(metrics.render()).toContain('istio_tcp_connections_opened_total{reporter="destination",request_protocol="tcp"} 1\n');
    expect(metrics.render()).toContain('# TYPE istio_tcp_sent_bytes_total counter\n');
  });
});

describe('access log (reference §8.3)', () => {
  const labels = trafficLabels({
    reporter: 'source',
    source: client,
    sourcePrincipal: 'spiffe://cluster.local/ns/default/sa/sleep',
    destination: server,
    destinationService: httpbin,
    securityPolicy: 'mutual_tls',
  });
  const base = { labels, srcAddr: '10.0.0.1:51234', dstAddr: '10.0.1.1:15008', hboneAddr: '10.0.1.1:8080', srcWorkloadName: client.name, dstWorkloadName: server.name };

  it('connection complete carries every field, bytes un-flipped for the source reporter', () => {
    const record = connectionCompleteRecord({ ...base, sent: 100, received: 7, durationMs: 123.9 });
    expect(record.level).toBe('info');
    expect(record.fields).toEqual({
      'src.addr': '10.0.0.1:51234',
      'src.workload': 'sleep-7d9f-abc',
      'src.namespace': 'default',
      'src.identity': 'spiffe://cluster.local/ns/default/sa/sleep',
      'src.cluster': 'Kubernetes',
      'dst.addr': '10.0.1.1:15008',
      'dst.hbone_addr': '10.0.1.1:8080',
      'dst.service': 'httpbin.apps.svc.cluster.local',
      'dst.workload': 'httpbin-5c6-xyz',
      'dst.namespace': 'apps',
      'dst.identity': 'spiffe://cluster.local/ns/apps/sa/httpbin',
      'dst.cluster': 'east',
      direction: 'outbound',
      bytes_sent: 7,
      bytes_recv: 100,
      duration: '123ms',
    });
  });

  it('a failed connection is logged at error with the error text', () => {
    const record = connectionCompleteRecord({ ...base, sent: 0, received: 0, durationMs: 2, error: 'connection closed due to policy change: allow policies exist, but none allowed' });
    expect(record.level).toBe('error');
    expect(record.fields.error).toBe('connection closed due to policy change: allow policies exist, but none allowed');
  });

  it('plaintext hides identities and unknown values', () => {
    const plain = trafficLabels({ reporter: 'destination', destination: server, securityPolicy: 'unknown' });
    const record = connectionOpenedRecord({ labels: plain, srcAddr: '10.0.9.9:1', dstAddr: '10.0.1.1:8080' });
    expect(record).toEqual({
      level: 'debug',
      message: 'connection opened',
      fields: {
        'src.addr': '10.0.9.9:1',
        'dst.addr': '10.0.1.1:8080',
        'dst.workload': 'httpbin',
        'dst.namespace': 'apps',
        'dst.cluster': 'east',
        direction: 'inbound',
      },
    });
  });

  it.each<['source' | 'destination', { bytes_sent: number; bytes_recv: number }]>([
    ['source', { bytes_sent: 2, bytes_recv: 1 }],
    ['destination', { bytes_sent: 1, bytes_recv: 2 }],
  ])('bytes for reporter %s', (reporter, expected) => {
    expect(accessLogBytes(reporter, 1, 2)).toEqual(expected);
  });

  it('formats one JSON line with scope access', () => {
    const record = connectionFailedRecord({ srcAddr: '10.0.0.1:1', dstAddr: '10.0.1.1:15008', reporter: 'source', error: 'http status: 401' });
    expect(JSON.parse(formatAccessLogLine(record, new Date('2026-01-02T03:04:05.000Z')))).toEqual({
      level: 'warn',
      time: '2026-01-02T03:04:05.000Z',
      scope: 'access',
      message: 'connection failed',
      'src.addr': '10.0.0.1:1',
      'dst.addr': '10.0.1.1:15008',
      direction: 'outbound',
      error: 'http status: 401',
    });
  });
});
