// Runs the rendered text through Prometheus's own parser and linter (`promtool check metrics`), so the exposition is
// checked against the real thing rather than our reading of the format.
import { spawnSync } from 'node:child_process';

import { Histogram } from './histogram';
import { renderPrometheus, type MetricFamily } from './prometheus-text';

const INSTALL_HINT = 'promtool is missing: apt-get install prometheus (or bash tools/setup.sh)';
// promtool exits 3 when the text parses but the linter has remarks, 1 when it does not parse.
const LINT_PROBLEMS = 3;

function promtoolCheck(text: string): { status: number | null; output: string } {
  const result = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 20_000 });
  if (result.error !== undefined) {
    const missing = (result.error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new Error(missing ? INSTALL_HINT : `promtool failed to run: ${result.error.message}`);
  }
  return { status: result.status, output: `${result.stdout}${result.stderr}`.trim() };
}

function families(name: string): MetricFamily[] {
  const h = new Histogram([0.005, 0.01, 0.1, 1]);
  for (const v of [0.001, 0.05, 0.5, 3]) h.observe(v);
  return [
    { name: 'weft_requests_total', help: 'Requests', type: 'counter', samples: [{ labels: { code: '200' }, value: 4 }] },
    { name: 'weft_sockets_open', help: 'Open sockets', type: 'gauge', samples: [{ value: 2 }] },
    { name, help: 'Request duration', type: 'histogram', samples: [h.sample({ code: '200', path: 'a"b\\c' }), new Histogram([1]).sample({ code: '503' })] },
  ];
}

describe('promtool check metrics', () => {
  it('accepts counters, gauges and histograms without remarks', () => {
    expect(promtoolCheck(renderPrometheus(families('weft_request_duration_seconds')))).toEqual({ status: 0, output: '' });
  });

  it('parses Istio’s millisecond histogram, remarking only on the unit Istio chose', () => {
    const { status, output } = promtoolCheck(renderPrometheus(families('istio_request_duration_milliseconds')));
    expect(status).toBe(LINT_PROBLEMS);
    expect(output).toBe('istio_request_duration_milliseconds use base unit "seconds" instead of "milliseconds"');
  });

  it('rejects broken text, so the checks above mean something', () => {
    expect(promtoolCheck('# TYPE x histogram\nx_bucket{le="1"} 1\nx_bucket{le=1} 1\n').status).toBe(1);
  });
});
