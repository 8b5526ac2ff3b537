// Scenario 8: ambient `default`, the guide's sleep + httpbin (2 replicas, one per node). sleep calls httpbin until
// both pods — the one on its own node and the one on the other — have answered; then both ztunnels' Prometheus text
// (port 15020) carries `istio_tcp_connections_opened_total` with Istio's CommonTrafficLabels (reference §8.1): the
// client's ztunnel as reporter="source", each server's ztunnel as reporter="destination", identities as SPIFFE IDs,
// mTLS, counts at least the requests that went that way. `promtool check metrics` accepts both texts.

import { spawnSync } from 'node:child_process';

import type { ClusterDriver } from '../src/driver';
import { AMBIENT, curl, eventually, manifest, namespaceYaml, useCluster } from '../src/scenario';

jest.setTimeout(120_000);

// ---- a small parser of the Prometheus text exposition format (0.0.4) ----

interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

interface Exposition {
  readonly samples: readonly Sample[];
  /** `# TYPE` per metric family. */
  readonly types: ReadonlyMap<string, string>;
  readonly helps: ReadonlyMap<string, string>;
}

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  const fail = (why: string): never => {
    throw new Error(`bad labels (${why}) in metrics line: ${line}`);
  };
  while (i < text.length) {
    while (text[i] === ' ' || text[i] === ',') i++;
    if (i >= text.length) break;
    const name = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(text.slice(i))?.[0] ?? fail('label name');
    i += name.length;
    if (text[i] !== '=' || text[i + 1] !== '"') fail(`expected =" after ${name}`);
    i += 2;
    let value = '';
    for (;;) {
      const c = text[i];
      if (c === undefined) fail('unterminated value');
      i++;
      if (c === '"') break;
      if (c === '\\') {
        const e = text[i++];
        value += e === 'n' ? '\n' : e === '\\' ? '\\' : e === '"' ? '"' : fail(`bad escape \\${String(e)}`);
      } else {
        value += c;
      }
    }
    if (name in labels) fail(`duplicate label ${name}`);
    labels[name] = value;
  }
  return labels;
}

function parseValue(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  return Number(text);
}

export function parseExposition(text: string): Exposition {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  const helps = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const meta = /^#\s+(HELP|TYPE)\s+([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\s+(.*))?$/.exec(line);
    if (meta !== null) {
      (meta[1] === 'TYPE' ? types : helps).set(meta[2] ?? '', meta[3] ?? '');
      continue;
    }
    if (line.startsWith('#')) continue;
    const head = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
    if (head === null) throw new Error(`bad metrics line: ${line}`);
    const name = head[1] ?? '';
    let rest = line.slice(name.length);
    let labels: Record<string, string> = {};
    if (rest.startsWith('{')) {
      // The closing brace is the first `}` outside a quoted value.
      let i = 1;
      let quoted = false;
      for (; i < rest.length; i++) {
        const c = rest[i];
        if (quoted && c === '\\') i++;
        else if (c === '"') quoted = !quoted;
        else if (!quoted && c === '}') break;
      }
      if (i >= rest.length) throw new Error(`unterminated labels in metrics line: ${line}`);
      labels = parseLabels(rest.slice(1, i), line);
      rest = rest.slice(i + 1);
    }
    const fields = rest.trim().split(/\s+/);
    const value = parseValue(fields[0] ?? '');
    if (fields.length < 1 || fields.length > 2 || fields[0] === '' || (Number.isNaN(value) && fields[0] !== 'NaN')) throw new Error(`bad value in metrics line: ${line}`);
    samples.push({ name, labels, value });
  }
  return { samples, types, helps };
}

// ---- the scenario ----

/** Istio's CommonTrafficLabels for ztunnel's TCP metrics, in order (reference §8.1; region/zone are optional). */
const COMMON_TRAFFIC_LABELS = [
  'reporter',
  'source_workload',
  'source_canonical_service',
  'source_canonical_revision',
  'source_workload_namespace',
  'source_principal',
  'source_app',
  'source_version',
  'source_cluster',
  'destination_service',
  'destination_service_namespace',
  'destination_service_name',
  'destination_workload',
  'destination_canonical_service',
  'destination_canonical_revision',
  'destination_workload_namespace',
  'destination_principal',
  'destination_app',
  'destination_version',
  'destination_cluster',
  'request_protocol',
  'response_flags',
  'connection_security_policy',
];

const OPENED = 'istio_tcp_connections_opened_total';

/** What every sleep → httpbin series must say, whichever end reports it. */
const SLEEP_TO_HTTPBIN = {
  source_workload: 'sleep',
  source_workload_namespace: 'default',
  source_principal: 'spiffe://cluster.local/ns/default/sa/sleep',
  source_app: 'sleep',
  destination_workload: 'httpbin',
  destination_workload_namespace: 'default',
  // httpbin has no serviceAccountName in the guide: it runs as `default`.
  destination_principal: 'spiffe://cluster.local/ns/default/sa/default',
  destination_app: 'httpbin',
  destination_service: 'httpbin.default.svc.cluster.local',
  destination_service_namespace: 'default',
  destination_service_name: 'httpbin',
  request_protocol: 'tcp',
  response_flags: '-',
  connection_security_policy: 'mutual_tls',
} as const;

const isSleepToHttpbin = (s: Sample, reporter: string): boolean =>
  s.name === OPENED && s.labels['reporter'] === reporter && s.labels['source_workload'] === 'sleep' && s.labels['destination_workload'] === 'httpbin';

function promtoolCheck(text: string): { status: number | null; output: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 30_000 });
  if (r.error !== undefined && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new Error('promtool is not installed: apt-get install prometheus (or bash tools/setup.sh)');
  }
  if (r.error !== undefined) throw r.error;
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** Requests for this scenario carry a marker query so each httpbin pod's log says how many it answered. */
const MARK = 'scenario8';

describe('scenario 8: ztunnel TCP metrics for sleep → httpbin', () => {
  const cluster = useCluster();
  let sleepNode = '';
  let otherNode = '';
  /** Requests each httpbin pod answered (from its log), by node. */
  const answeredOn = new Map<string, number>();
  let total = 0;

  const count = async (d: ClusterDriver, pod: string): Promise<number> => (await d.logs('default', pod)).split('\n').filter((l) => l.includes(`/get?${MARK}=`)).length;

  beforeAll(async () => {
    const d = cluster();
    await d.apply(namespaceYaml('default', AMBIENT), manifest('01-sleep-httpbin.yaml'));
    const [sleep] = await d.pods('default', { app: 'sleep' });
    const httpbin = await d.pods('default', { app: 'httpbin' });
    if (sleep === undefined || httpbin.length !== 2 || new Set(httpbin.map((p) => p.node)).size !== 2) {
      throw new Error(`expected sleep and 2 httpbin pods on both nodes, got ${JSON.stringify((await d.pods('default')).map((p) => [p.name, p.node]))}`);
    }
    sleepNode = sleep.node;
    otherNode = d.nodes.find((n) => n !== sleepNode) ?? '';
    const names = [sleep.name, ...httpbin.map((p) => p.name)];
    await d.waitForZtunnels((dump) => names.every((n) => dump.workloads.some((w) => w.namespace === 'default' && w.name === n && w.protocol === 'HBONE')), 'sleep and httpbin enrolled (HBONE)');

    // Call httpbin through its Service until both pods (so both nodes) answered at least 3 requests, at most 60.
    const failures: string[] = [];
    for (let i = 0; i < 60; i++) {
      const r = await curl(d, 'default', sleep.name, `http://httpbin:8000/get?${MARK}=${i}`);
      total++;
      if (r.status !== 200) failures.push(`request ${i}: status ${r.status}, curl ${r.code}: ${r.stderr}`);
      if (i >= 5 && i % 2 === 1) {
        const counts = await Promise.all(httpbin.map((p) => count(d, p.name)));
        if (counts.every((c) => c >= 3)) break;
      }
    }
    if (failures.length > 0) throw new Error(`sleep → httpbin failed:\n${failures.join('\n')}\n${d.diagnostics()}`);
    for (const pod of httpbin) answeredOn.set(pod.node, (answeredOn.get(pod.node) ?? 0) + (await count(d, pod.name)));
  });

  it('sent every request to httpbin, and both pods (one on each node) answered some', () => {
    expect([...answeredOn.values()].reduce((a, b) => a + b, 0)).toBe(total);
    expect(answeredOn.get(sleepNode)).toBeGreaterThanOrEqual(3);
    expect(answeredOn.get(otherNode)).toBeGreaterThanOrEqual(3);
  });

  it('reports sleep → httpbin on the client ztunnel as reporter="source", at least once per request', async () => {
    const d = cluster();
    // Counters move as connections open; a scrape right after the last request already holds them, but allow the push.
    const text = await eventually(
      () => d.ztunnelMetrics(sleepNode),
      (t) => sumOf(parseExposition(t).samples.filter((s) => isSleepToHttpbin(s, 'source'))) >= total,
    );
    const series = parseExposition(text).samples.filter((s) => isSleepToHttpbin(s, 'source'));
    expect(series.length).toBeGreaterThan(0);
    for (const s of series) {
      expect(s.labels).toMatchObject({ reporter: 'source', ...SLEEP_TO_HTTPBIN });
      expect(Object.keys(s.labels)).toEqual(expect.arrayContaining(COMMON_TRAFFIC_LABELS));
    }
    expect(sumOf(series)).toBeGreaterThanOrEqual(total);
    // Only the node that runs sleep reports as its source.
    const other = parseExposition(await d.ztunnelMetrics(otherNode)).samples.filter((s) => isSleepToHttpbin(s, 'source'));
    expect(other).toEqual([]);
  });

  it.each([
    ['the same node as sleep', () => sleepNode],
    ['the other node', () => otherNode],
  ])('reports sleep → httpbin on %s as reporter="destination", at least once per request answered there', async (_what, nodeOf) => {
    const d = cluster();
    const node = nodeOf();
    const answered = answeredOn.get(node) ?? 0;
    const text = await eventually(
      () => d.ztunnelMetrics(node),
      (t) => sumOf(parseExposition(t).samples.filter((s) => isSleepToHttpbin(s, 'destination'))) >= answered,
    );
    const series = parseExposition(text).samples.filter((s) => isSleepToHttpbin(s, 'destination'));
    expect(series.length).toBeGreaterThan(0);
    for (const s of series) {
      expect(s.labels).toMatchObject({ reporter: 'destination', ...SLEEP_TO_HTTPBIN });
      expect(Object.keys(s.labels)).toEqual(expect.arrayContaining(COMMON_TRAFFIC_LABELS));
    }
    expect({ node, answered, opened: sumOf(series) >= answered }).toEqual({ node, answered, opened: true });
  });

  it('declares the four TCP counters as counters with HELP', async () => {
    for (const node of cluster().nodes) {
      const { types, helps, samples } = parseExposition(await cluster().ztunnelMetrics(node));
      for (const name of ['istio_tcp_connections_opened_total', 'istio_tcp_connections_closed_total', 'istio_tcp_sent_bytes_total', 'istio_tcp_received_bytes_total']) {
        // `# TYPE` names the family: `istio_tcp_connections_opened` in OpenMetrics style or the sample name in 0.0.4.
        const family = types.get(name) ?? types.get(name.replace(/_total$/, ''));
        expect({ node, name, type: family }).toEqual({ node, name, type: 'counter' });
        expect(helps.get(name) ?? helps.get(name.replace(/_total$/, ''))).toBeTruthy();
        expect({ node, name, present: samples.some((s) => s.name === name) }).toEqual({ node, name, present: true });
      }
    }
  });

  it('passes `promtool check metrics` on both ztunnels', async () => {
    for (const node of cluster().nodes) {
      const text = await cluster().ztunnelMetrics(node);
      const { status, output } = promtoolCheck(text);
      expect({ node, status, output }).toEqual({ node, status: 0, output: expect.any(String) as string });
    }
  });
});

function sumOf(samples: readonly Sample[]): number {
  return samples.reduce((a, s) => a + s.value, 0);
}
