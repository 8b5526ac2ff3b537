// A histogram series accumulated in place: observe() finds the `le` bucket, sample() hands the renderer the
// per-bucket counts, sum and count (Prometheus histogram semantics: a value lands in the first bucket whose upper
// bound is >= it; larger values only count towards `+Inf`).

import type { HistogramValue, MetricSample } from './prometheus-text';

export type MetricsErrorCode = 'ERR_METRICS_INVALID_BUCKETS';

export class MetricsError extends Error {
  override readonly name = 'MetricsError';
  constructor(
    readonly code: MetricsErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Throws `ERR_METRICS_INVALID_BUCKETS` unless `bounds` are finite and strictly increasing (a programming error). */
export function assertBuckets(bounds: readonly number[]): void {
  bounds.forEach((bound, i) => {
    const previous = bounds[i - 1];
    if (!Number.isFinite(bound) || (previous !== undefined && bound <= previous)) {
      throw new MetricsError(
        'ERR_METRICS_INVALID_BUCKETS',
        `histogram bucket bounds must be finite and strictly increasing; got [${bounds.join(', ')}] (+Inf is implicit)`,
      );
    }
  });
}

export class Histogram {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  constructor(readonly bounds: readonly number[]) {
    assertBuckets(bounds);
    this.counts = bounds.map(() => 0);
  }

  observe(value: number): void {
    // A plain loop: this runs several times per request.
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= (bounds[i] ?? Infinity)) {
        this.counts[i] = (this.counts[i] ?? 0) + 1;
        break;
      }
    }
    this.sum += value;
    this.count += 1;
  }

  /** The series as a histogram family's sample under `labels`; a copy, so later observations do not change it. */
  sample(labels?: Readonly<Record<string, string>>): MetricSample {
    const histogram: HistogramValue = { bounds: this.bounds, counts: [...this.counts], sum: this.sum };
    return { ...(labels === undefined ? {} : { labels }), value: this.count, histogram };
  }
}
