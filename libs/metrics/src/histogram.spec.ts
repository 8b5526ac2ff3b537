import { Histogram, MetricsError } from './histogram';
import { renderPrometheus } from './prometheus-text';

describe('Histogram', () => {
  it.each<[string, number[], number[], number]>([
    ['on a bound counts in that bucket (le is inclusive)', [1], [1, 0, 0], 1],
    ['between bounds counts in the upper one', [0.7, 3], [1, 1, 0], 3.7],
    ['above every bound counts only towards +Inf', [11, 12], [0, 0, 0], 23],
    ['zero and negatives count in the first bucket', [0, -1], [2, 0, 0], -1],
  ])('a value %s', (_name, values, counts, sum) => {
    const h = new Histogram([1, 5, 10]);
    for (const v of values) h.observe(v);
    expect(h.sample({ a: 'b' })).toEqual({ labels: { a: 'b' }, value: values.length, histogram: { bounds: [1, 5, 10], counts, sum } });
  });

  it('hands out a snapshot', () => {
    const h = new Histogram([1]);
    const before = h.sample();
    h.observe(0);
    expect(before).toEqual({ value: 0, histogram: { bounds: [1], counts: [0], sum: 0 } });
  });

  it('renders through renderPrometheus', () => {
    const h = new Histogram([1, 5]);
    h.observe(2);
    h.observe(9);
    expect(renderPrometheus([{ name: 'x', help: 'x', type: 'histogram', samples: [h.sample()] }])).toBe(
      '# HELP x x\n# TYPE x histogram\nx_bucket{le="1"} 0\nx_bucket{le="5"} 1\nx_bucket{le="+Inf"} 2\nx_sum 11\nx_count 2\n',
    );
  });

  it.each<[string, number[]]>([
    ['unsorted', [5, 1]],
    ['repeated', [1, 1]],
    ['infinite', [1, Infinity]],
    ['NaN', [Number.NaN]],
  ])('rejects %s bounds with ERR_METRICS_INVALID_BUCKETS', (_name, bounds) => {
    expect(() => new Histogram(bounds)).toThrow(expect.objectContaining({ code: 'ERR_METRICS_INVALID_BUCKETS' }) as MetricsError);
  });
});
