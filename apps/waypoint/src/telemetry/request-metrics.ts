// The waypoint's four standard request metrics (reference §8.2), one series per label set, rendered with
// @weft/metrics. Recording a request is a map lookup and a few additions; nothing is computed at scrape time but the
// family list. The 29 labels are derived only the first time a combination of inputs is seen.

import type { Workload } from '@weft/mesh-model';
import { Histogram, renderPrometheus, type MetricFamily } from '@weft/metrics';

import { REQUEST_LABEL_NAMES, requestLabels, type RequestLabels, type RequestRecord } from './request-labels';

/** Istio's default buckets (Envoy's default histogram buckets), used for duration and both byte sizes. */
export const ISTIO_DEFAULT_BUCKETS: readonly number[] = Object.freeze([
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000,
]);

interface Series {
  readonly labels: RequestLabels;
  requests: number;
  readonly duration: Histogram;
  readonly requestBytes: Histogram;
  readonly responseBytes: Histogram;
}

function keyOf(labels: RequestLabels): string {
  return REQUEST_LABEL_NAMES.map((n) => labels[n]).join('\u0000');
}

/** How many input combinations are remembered; past it the memo starts over (workload objects change with xDS). */
const MEMO_LIMIT = 4_096;
const ABSENT = '\u0001';
const SEPARATOR = '\u0000';

/** istio_requests_total, istio_request_duration_milliseconds, istio_request_bytes, istio_response_bytes, all `reporter="waypoint"`. */
export class RequestMetrics {
  private readonly series = new Map<string, Series>();
  /** Series by everything `requestLabels` reads, workloads by object identity (they are immutable snapshots). */
  private readonly memo = new Map<string, Series>();
  private readonly workloadIds = new WeakMap<Workload, number>();
  private nextWorkloadId = 1;

  record(r: RequestRecord): void {
    const memoKey = this.inputKey(r);
    let s = this.memo.get(memoKey);
    if (s === undefined) {
      s = this.seriesOf(requestLabels(r));
      if (this.memo.size >= MEMO_LIMIT) this.memo.clear();
      this.memo.set(memoKey, s);
    }
    s.requests += 1;
    s.duration.observe(Math.max(0, r.durationMs));
    s.requestBytes.observe(Math.max(0, r.requestBytes));
    s.responseBytes.observe(Math.max(0, r.responseBytes));
  }

  private seriesOf(labels: RequestLabels): Series {
    const key = keyOf(labels);
    let s = this.series.get(key);
    if (s === undefined) {
      s = {
        labels,
        requests: 0,
        duration: new Histogram(ISTIO_DEFAULT_BUCKETS),
        requestBytes: new Histogram(ISTIO_DEFAULT_BUCKETS),
        responseBytes: new Histogram(ISTIO_DEFAULT_BUCKETS),
      };
      this.series.set(key, s);
    }
    return s;
  }

  private workloadId(workload: Workload | undefined): number | string {
    if (workload === undefined) return ABSENT;
    let id = this.workloadIds.get(workload);
    if (id === undefined) {
      id = this.nextWorkloadId++;
      this.workloadIds.set(workload, id);
    }
    return id;
  }

  /** Every input of `requestLabels`; absent values kept apart from empty strings (they label differently). */
  private inputKey(r: RequestRecord): string {
    const service = r.destinationService;
    const serviceKey = service === undefined ? ABSENT : `${service.hostname}${SEPARATOR}${service.namespace}${SEPARATOR}${service.name}`;
    return (
      `${this.workloadId(r.source)}${SEPARATOR}${r.sourcePrincipal}${SEPARATOR}${this.workloadId(r.destination)}${SEPARATOR}` +
      `${r.destinationPrincipal ?? ABSENT}${SEPARATOR}${serviceKey}${SEPARATOR}${r.protocol}${SEPARATOR}${r.responseCode}${SEPARATOR}` +
      `${r.grpcStatus ?? ABSENT}${SEPARATOR}${r.responseFlags}`
    );
  }

  families(): MetricFamily[] {
    const all = [...this.series.values()];
    const histogram = (name: string, help: string, pick: (s: Series) => Histogram): MetricFamily => ({
      name,
      help,
      type: 'histogram',
      samples: all.map((s) => pick(s).sample(s.labels)),
    });
    return [
      { name: 'istio_requests_total', help: 'The total number of requests', type: 'counter', samples: all.map((s) => ({ labels: s.labels, value: s.requests })) },
      histogram('istio_request_duration_milliseconds', 'Duration of requests in milliseconds', (s) => s.duration),
      histogram('istio_request_bytes', 'Size of requests in bytes', (s) => s.requestBytes),
      histogram('istio_response_bytes', 'Size of responses in bytes', (s) => s.responseBytes),
    ];
  }

  render(): string {
    return renderPrometheus(this.families());
  }
}
