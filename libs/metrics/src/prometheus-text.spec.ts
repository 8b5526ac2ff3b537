import { renderPrometheus } from './prometheus-text';

describe('renderPrometheus', () => {
  it('renders help, type and samples with escaped labels', () => {
    expect(
      renderPrometheus([
        { name: 'a_total', help: 'line one\nline two', type: 'counter', samples: [{ value: 1 }, { labels: { x: 'q"u\\o\nte' }, value: 2 }] },
      ]),
    ).toBe('# HELP a_total line one line two\n# TYPE a_total counter\na_total 1\na_total{x="q\\"u\\\\o\\nte"} 2\n');
  });
});
