// Prometheus text exposition (format 0.0.4), rendered from metric families the components build from the counters
// they already keep. Names are chosen by the caller; Istio's where one exists.

/** The observations of one histogram series, in the buckets the family was declared with. */
export interface HistogramValue {
  /** Upper bounds (`le`), strictly increasing; the `+Inf` bucket is implicit. */
  readonly bounds: readonly number[];
  /**
   * Observations per bucket, not cumulative: `counts[i]` fell in `(bounds[i-1], bounds[i]]`. Observations above the
   * last bound are the sample's `value` minus the sum of these.
   */
  readonly counts: readonly number[];
  /** Sum of all observed values (`_sum`). */
  readonly sum: number;
}

export interface MetricSample {
  readonly labels?: Readonly<Record<string, string>>;
  /** The counter's or gauge's value; for a histogram, the number of observations (`_count`, the `+Inf` bucket). */
  readonly value: number;
  /** Histogram samples only: the bucket counts and sum; absent means every observation is above all bounds. */
  readonly histogram?: HistogramValue;
}

export interface MetricFamily {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly samples: readonly MetricSample[];
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function renderLabels(labels: Readonly<Record<string, string>> | undefined): string {
  const entries = Object.entries(labels ?? {});
  if (entries.length === 0) return '';
  return `{${entries.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
}

/** `le` as Prometheus client libraries print it: shortest float text, `+Inf` for the overflow bucket. */
function formatBound(bound: number): string {
  return bound === Infinity ? '+Inf' : String(bound);
}

/** `_bucket` (cumulative, ending with `+Inf` = count), `_sum` and `_count` lines of one histogram series. */
function histogramLines(name: string, sample: MetricSample): string[] {
  const { bounds = [], counts = [], sum = 0 } = sample.histogram ?? {};
  const lines: string[] = [];
  let cumulative = 0;
  bounds.forEach((bound, i) => {
    cumulative += counts[i] ?? 0;
    lines.push(`${name}_bucket${renderLabels({ ...sample.labels, le: formatBound(bound) })} ${cumulative}`);
  });
  lines.push(`${name}_bucket${renderLabels({ ...sample.labels, le: '+Inf' })} ${sample.value}`);
  lines.push(`${name}_sum${renderLabels(sample.labels)} ${sum}`);
  lines.push(`${name}_count${renderLabels(sample.labels)} ${sample.value}`);
  return lines;
}

export function renderPrometheus(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${family.help.replace(/\n/g, ' ')}`);
    lines.push(`# TYPE ${family.name} ${family.type}`);
    for (const sample of family.samples) {
      if (family.type === 'histogram') lines.push(...histogramLines(family.name, sample));
      else lines.push(`${family.name}${renderLabels(sample.labels)} ${sample.value}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
