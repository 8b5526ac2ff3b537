import { renderPrometheus, type MetricFamily } from './prometheus-text';

describe('renderPrometheus', () => {
  it('renders help, type and samples with escaped labels', () => {
    expect(
      renderPrometheus([
        { name: 'a_total', help: 'line one\nline two', type: 'counter', samples: [{ value: 1 }, { labels: { x: 'q"u\\o\nte' }, value: 2 }] },
      ]),
    ).toBe('# HELP a_total line one line two\n# TYPE a_total counter\na_total 1\na_total{x="q\\"u\\\\o\\nte"} 2\n');
  });

  it.each<[string, MetricFamily[], string]>([
    ['a gauge without samples keeps its HELP and TYPE', [{ name: 'g', help: 'h', type: 'gauge', samples: [] }], '# HELP g h\n# TYPE g gauge\n'],
    [
      'counters and gauges render as before, in order',
      [
        { name: 'c_total', help: 'c', type: 'counter', samples: [{ labels: { a: '1', b: '2' }, value: 3 }] },
        { name: 'g', help: 'g', type: 'gauge', samples: [{ value: -1.5 }] },
      ],
      '# HELP c_total c\n# TYPE c_total counter\nc_total{a="1",b="2"} 3\n# HELP g g\n# TYPE g gauge\ng -1.5\n',
    ],
    [
      'a histogram: cumulative buckets, +Inf equal to the count, then sum and count',
      [{ name: 'd', help: 'd', type: 'histogram', samples: [{ labels: { r: 'w' }, value: 5, histogram: { bounds: [0.5, 1, 5], counts: [1, 0, 3], sum: 12.25 } }] }],
      [
        '# HELP d d',
        '# TYPE d histogram',
        'd_bucket{r="w",le="0.5"} 1',
        'd_bucket{r="w",le="1"} 1',
        'd_bucket{r="w",le="5"} 4',
        'd_bucket{r="w",le="+Inf"} 5',
        'd_sum{r="w"} 12.25',
        'd_count{r="w"} 5',
        '',
      ].join('\n'),
    ],
    [
      'a histogram series without labels or bucket data has only +Inf',
      [{ name: 'd', help: 'd', type: 'histogram', samples: [{ value: 0 }] }],
      '# HELP d d\n# TYPE d histogram\nd_bucket{le="+Inf"} 0\nd_sum 0\nd_count 0\n',
    ],
    [
      'labels of a histogram series are escaped, le comes last',
      [{ name: 'd', help: 'two\nlines', type: 'histogram', samples: [{ labels: { p: 'a"b' }, value: 1, histogram: { bounds: [10], counts: [1], sum: 2 } }] }],
      '# HELP d two lines\n# TYPE d histogram\nd_bucket{p="a\\"b",le="10"} 1\nd_bucket{p="a\\"b",le="+Inf"} 1\nd_sum{p="a\\"b"} 2\nd_count{p="a\\"b"} 1\n',
    ],
    [
      'large bounds print as plain numbers',
      [{ name: 'd', help: 'd', type: 'histogram', samples: [{ value: 1, histogram: { bounds: [3600000], counts: [1], sum: 7 } }] }],
      '# HELP d d\n# TYPE d histogram\nd_bucket{le="3600000"} 1\nd_bucket{le="+Inf"} 1\nd_sum 7\nd_count 1\n',
    ],
  ])('%s', (_name, families, expected) => {
    expect(renderPrometheus(families)).toBe(expected);
  });
});
