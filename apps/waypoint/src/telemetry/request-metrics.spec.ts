import { spawnSync } from 'node:child_process';

import { workload } from '@weft/testing';

import { REQUEST_LABEL_NAMES, requestLabels, type RequestRecord } from './request-labels';
import { ISTIO_DEFAULT_BUCKETS, RequestMetrics } from './request-metrics';

// The same two workloads as ztunnel's telemetry spec, so the expected source/destination labels can be compared.
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
const httpbin = { hostname: 'httpbin.apps.svc.cluster.local', namespace: 'apps', name: 'httpbin' };

const ok: RequestRecord = {
  source: client,
  sourcePrincipal: 'spiffe://cluster.local/ns/default/sa/sleep',
  destinationService: httpbin,
  destination: server,
  protocol: 'http',
  responseCode: 200,
  responseFlags: '-',
  durationMs: 7,
  requestBytes: 0,
  responseBytes: 300,
};

/** ztunnel's expected labels for the same ends, minus `request_protocol` and the reporter (telemetry.spec.ts there). */
const full = {
  reporter: 'waypoint',
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
  request_protocol: 'http',
  response_code: '200',
  grpc_response_status: '',
  response_flags: '-',
  connection_security_policy: 'mutual_tls',
  source_region: 'us-east',
  source_zone: 'us-east-1a',
  destination_region: 'unknown',
  destination_zone: 'unknown',
};

describe('requestLabels (reference §8.2)', () => {
  it.each<[string, RequestRecord, Record<string, string>]>([
    ['a request answered by a known endpoint: every label known', ok, full],
    [
      'no route: nothing upstream, response flag NR',
      { ...ok, destinationService: undefined, destination: undefined, responseCode: 404, responseFlags: 'NR' },
      {
        ...full,
        destination_service: 'unknown',
        destination_service_namespace: 'unknown',
        destination_service_name: 'unknown',
        destination_workload: 'unknown',
        destination_canonical_service: 'unknown',
        destination_canonical_revision: 'unknown',
        destination_workload_namespace: 'unknown',
        destination_principal: 'unknown',
        destination_app: 'unknown',
        destination_version: 'unknown',
        destination_cluster: 'unknown',
        response_code: '404',
        response_flags: 'NR',
      },
    ],
    [
      'a peer not in the store keeps its principal; the rest of the source is unknown',
      { ...ok, source: undefined },
      {
        ...full,
        source_workload: 'unknown',
        source_canonical_service: 'unknown',
        source_canonical_revision: 'unknown',
        source_workload_namespace: 'unknown',
        source_app: 'unknown',
        source_version: 'unknown',
        source_cluster: 'unknown',
        source_region: 'unknown',
        source_zone: 'unknown',
      },
    ],
    [
      'gRPC with a status; the proven upstream principal wins over the derived one',
      { ...ok, protocol: 'grpc', grpcStatus: 14, responseCode: 200, destinationPrincipal: 'spiffe://cluster.local/ns/apps/sa/other' },
      { ...full, request_protocol: 'grpc', grpc_response_status: '14', destination_principal: 'spiffe://cluster.local/ns/apps/sa/other' },
    ],
    [
      'no response sent: response_code 0, upstream connect failure',
      { ...ok, responseCode: 0, responseFlags: 'UF' },
      { ...full, response_code: '0', response_flags: 'UF' },
    ],
    ['an empty flag string reads as none', { ...ok, responseFlags: '' }, full],
  ])('%s', (_name, record, expected) => {
    expect(requestLabels(record)).toEqual(expected);
  });

  it('uses ztunnel’s label order with the request labels after request_protocol', () => {
    expect(Object.keys(requestLabels(ok))).toEqual([...REQUEST_LABEL_NAMES]);
  });
});

describe('RequestMetrics', () => {
  it('counts requests per label set and observes duration and sizes in Istio’s buckets', () => {
    const metrics = new RequestMetrics();
    metrics.record(ok);
    metrics.record({ ...ok, durationMs: 30, requestBytes: 2_000, responseBytes: 10 });
    metrics.record({ ...ok, responseCode: 503, responseFlags: 'UH', durationMs: 0.2 });
    const byName = Object.fromEntries(metrics.families().map((f) => [f.name, f]));
    expect(Object.keys(byName)).toEqual(['istio_requests_total', 'istio_request_duration_milliseconds', 'istio_request_bytes', 'istio_response_bytes']);
    expect(byName.istio_requests_total?.type).toBe('counter');
    expect(byName.istio_requests_total?.samples.map((s) => [s.labels?.response_code, s.value])).toEqual([
      ['200', 2],
      ['503', 1],
    ]);
    const duration = byName.istio_request_duration_milliseconds;
    expect(duration?.type).toBe('histogram');
    const first = duration?.samples[0];
    expect(first?.labels).toEqual(full);
    expect(first?.value).toBe(2);
    expect(first?.histogram?.bounds).toEqual(ISTIO_DEFAULT_BUCKETS);
    expect(first?.histogram?.sum).toBe(37);
    // 7 ms lands in le=10, 30 ms in le=50.
    expect(first?.histogram?.counts.slice(0, 6)).toEqual([0, 0, 0, 1, 0, 1]);
    expect(byName.istio_request_bytes?.samples[0]?.histogram?.sum).toBe(2_000);
    expect(duration?.samples[1]?.histogram?.counts[0]).toBe(1); // 0.2 ms: le=0.5
  });

  it('renders Istio’s series names with reporter="waypoint"', () => {
    const metrics = new RequestMetrics();
    metrics.record(ok);
    const text = metrics.render();
    expect(text).toContain('# TYPE istio_request_duration_milliseconds histogram\n');
    expect(text).toMatch(/^istio_request_duration_milliseconds_bucket\{reporter="waypoint",.*,le="10"\} 1$/m);
    expect(text).toMatch(/^istio_request_duration_milliseconds_bucket\{reporter="waypoint",.*,le="\+Inf"\} 1$/m);
    expect(text).toMatch(/^istio_requests_total\{reporter="waypoint",.*response_code="200",grpc_response_status="",.*\} 1$/m);
    expect(text).toMatch(/^istio_response_bytes_sum\{reporter="waypoint",.*\} 300$/m);
  });

  it('passes promtool check metrics, apart from Istio’s millisecond unit', () => {
    const metrics = new RequestMetrics();
    metrics.record(ok);
    metrics.record({ ...ok, protocol: 'grpc', grpcStatus: 0 });
    const result = spawnSync('promtool', ['check', 'metrics'], { input: metrics.render(), encoding: 'utf8', timeout: 20_000 });
    if (result.error !== undefined) throw new Error('promtool is missing: apt-get install prometheus (or bash tools/setup.sh)');
    // 3 = parsed, with lint remarks; the only remark is the unit Istio's metric name fixes.
    expect([result.status, `${result.stdout}${result.stderr}`.trim()]).toEqual([3, 'istio_request_duration_milliseconds use base unit "seconds" instead of "milliseconds"']);
  });
});
