// Scenario 9: endpoint churn. Ambient `default`, the guide's sleep + httpbin (2 replicas). A client loop inside the
// sleep pod calls http://httpbin:8000/get one request after another while httpbin is scaled 2 → 5 and then 5 → 1.
// No request may fail ("no request fails once the new endpoints are Ready"): new pods are Ready and known to every
// ztunnel before `scale` returns, and removed pods leave the endpoints and every ztunnel before they stop. The new
// pods must take a share of the traffic, and after the scale-down the one remaining pod serves it all.

import { randomBytes } from 'node:crypto';

import type { ClusterDriver, ExecResult } from '../src/driver';
import { AMBIENT, eventually, manifest, namespaceYaml, useCluster } from '../src/scenario';

jest.setTimeout(240_000);

const NS = 'default';
/** Requests of this scenario carry this query, so each httpbin pod's log says how many it answered. */
const MARK = 'churn';
/** The loop's own cap, far above what the scenario needs; the test stops it with a stop file well before. */
const MAX_REQUESTS = 20_000;
/** Requests the loop must make inside each scaling step, and before/after, for the overlap to mean something. */
const MIN_PER_PHASE = 10;

/** One line per request: `<seq> <http status> <curl exit code>`. */
interface Outcome {
  readonly seq: number;
  readonly status: string;
  readonly curlExit: number;
}

function parseOutcomes(text: string): Outcome[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [seq, status, exit] = l.trim().split(/\s+/);
      return { seq: Number(seq), status: status ?? '', curlExit: Number(exit) };
    });
}

/**
 * A request loop running in the sleep pod: sequential curls, each on its own connection (so each is a fresh pick
 * among the endpoints), appending one line per request to a file the test reads while it runs, until a stop file
 * appears. The files live in the pod's /tmp, read and written through `exec`, so any driver can run it.
 */
class ClientLoop {
  private readonly dir = `/tmp/weft-churn-${randomBytes(6).toString('hex')}`;
  private done: Promise<ExecResult> | undefined;

  constructor(
    private readonly driver: ClusterDriver,
    private readonly pod: string,
  ) {}

  get out(): string {
    return `${this.dir}/out`;
  }

  async start(): Promise<void> {
    const made = await this.driver.exec(NS, this.pod, ['mkdir', '-p', this.dir]);
    if (made.code !== 0) throw new Error(`mkdir ${this.dir} in ${this.pod}: ${made.stderr}`);
    const script = [
      'i=0',
      `while [ ! -e ${this.dir}/stop ] && [ "$i" -lt ${MAX_REQUESTS} ]; do`,
      '  i=$((i+1))',
      `  code=$(curl -s -o /dev/null -m 5 -w '%{http_code}' "http://httpbin:8000/get?${MARK}=$i")`,
      '  rc=$?',
      `  echo "$i $code $rc" >> ${this.out}`,
      'done',
    ].join('\n');
    this.done = this.driver.exec(NS, this.pod, ['sh', '-c', script], 200_000);
  }

  /** Every request finished so far. */
  async outcomes(): Promise<Outcome[]> {
    const r = await this.driver.exec(NS, this.pod, ['cat', this.out]);
    return r.code === 0 ? parseOutcomes(r.stdout) : [];
  }

  /** Waits until the loop has made at least `n` requests; fails if it ended or stalled first. */
  async waitFor(n: number, timeoutMs = 30_000): Promise<Outcome[]> {
    const seen = await eventually(() => this.outcomes(), (o) => o.length >= n, timeoutMs);
    if (seen.length < n) throw new Error(`the client loop made only ${seen.length} of ${n} requests in ${timeoutMs} ms`);
    return seen;
  }

  /** Stops the loop (after its current request) and returns every outcome. */
  async stop(): Promise<{ outcomes: Outcome[]; exit: ExecResult | undefined }> {
    await this.driver.exec(NS, this.pod, ['touch', `${this.dir}/stop`]);
    const exit = await this.done;
    const outcomes = await this.outcomes();
    await this.driver.exec(NS, this.pod, ['rm', '-rf', this.dir]);
    return { outcomes, exit };
  }
}

const logCount = async (d: ClusterDriver, pod: string): Promise<number> => (await d.logs(NS, pod)).split('\n').filter((l) => l.includes(`/get?${MARK}=`)).length;

const httpbinWorkloads = (dump: { workloads: readonly { name: string; namespace: string }[] }): string[] =>
  dump.workloads
    .filter((w) => w.namespace === NS && w.name.startsWith('httpbin-'))
    .map((w) => w.name)
    .sort();

describe('scenario 9: scaling httpbin 2 → 5 → 1 under a steady client loop', () => {
  const cluster = useCluster();

  beforeAll(async () => {
    await cluster().apply(namespaceYaml(NS, AMBIENT), manifest('01-sleep-httpbin.yaml'));
  });

  it('loses no request while scaling, new pods take traffic, and one pod remains', async () => {
    const d = cluster();
    const [sleep] = await d.pods(NS, { app: 'sleep' });
    if (sleep === undefined) throw new Error('no sleep pod');
    const before = await d.pods(NS, { app: 'httpbin' });
    expect(before).toHaveLength(2);
    const original = new Set(before.map((p) => p.name));

    const loop = new ClientLoop(d, sleep.name);
    await loop.start();
    let stopped: Awaited<ReturnType<ClientLoop['stop']>> | undefined;
    const marks: Record<string, number> = {};
    let newPods: string[] = [];
    const servedAfterScaleUp = new Map<string, number>();
    try {
      marks['start'] = (await loop.waitFor(MIN_PER_PHASE)).length;

      // 2 → 5: the new pods are Ready and in every ztunnel when scale returns.
      marks['scaleUpBegin'] = (await loop.outcomes()).length;
      await d.scale(NS, 'httpbin', 5);
      marks['scaleUpEnd'] = (await loop.outcomes()).length;
      const up = await d.pods(NS, { app: 'httpbin' });
      expect(up.map((p) => ({ name: p.name, ready: p.ready }))).toEqual(up.map((p) => ({ name: p.name, ready: true })));
      expect(up).toHaveLength(5);
      newPods = up.map((p) => p.name).filter((n) => !original.has(n));
      expect(newPods).toHaveLength(3);
      const upNames = up.map((p) => p.name).sort();
      await d.waitForZtunnels((dump) => JSON.stringify(httpbinWorkloads(dump)) === JSON.stringify(upNames), `exactly the 5 httpbin pods ${upNames.join(', ')}`);

      // The loop keeps going until every new pod has answered some of its requests (random picks among 5).
      const served = await eventually(
        () => Promise.all(newPods.map((n) => logCount(d, n))),
        (counts) => counts.every((c) => c >= 2),
        60_000,
      );
      newPods.forEach((n, i) => servedAfterScaleUp.set(n, served[i] ?? 0));
      for (const [name, count] of servedAfterScaleUp) expect({ name, servedAtLeast2: count >= 2 }).toEqual({ name, servedAtLeast2: true });
      marks['between'] = (await loop.waitFor((marks['scaleUpEnd'] ?? 0) + MIN_PER_PHASE)).length;

      // 5 → 1: the extra pods leave the endpoints and every ztunnel before they stop.
      marks['scaleDownBegin'] = (await loop.outcomes()).length;
      await d.scale(NS, 'httpbin', 1);
      marks['scaleDownEnd'] = (await loop.outcomes()).length;
      const down = await d.pods(NS, { app: 'httpbin' });
      expect(down).toHaveLength(1);
      const last = down[0]?.name ?? '';
      await d.waitForZtunnels((dump) => JSON.stringify(httpbinWorkloads(dump)) === JSON.stringify([last]), `only ${last} left`);

      // After the scale-down the remaining pod answers everything.
      const lastBefore = await logCount(d, last);
      const atDown = (await loop.outcomes()).length;
      marks['end'] = (await loop.waitFor(atDown + MIN_PER_PHASE)).length;
      const lastAfter = await eventually(
        () => logCount(d, last),
        (c) => c - lastBefore >= MIN_PER_PHASE,
      );
      expect({ pod: last, answeredAfterScaleDown: lastAfter - lastBefore >= MIN_PER_PHASE }).toEqual({ pod: last, answeredAfterScaleDown: true });
    } finally {
      stopped = await loop.stop();
    }

    const { outcomes, exit } = stopped;
    // Every request succeeds: a removed pod leaves every ztunnel before it stops, and its connections in progress
    // finish first.
    const failed = outcomes.filter((o) => o.status !== '200' || o.curlExit !== 0);
    if (failed.length > 0) {
      throw new Error(`${failed.length} of ${outcomes.length} requests failed (seq status curl-exit):\n${failed.map((o) => `${o.seq} ${o.status} ${o.curlExit}`).join('\n')}\nmarks ${JSON.stringify(marks)}\n${d.diagnostics()}`);
    }
    expect({ loopExit: exit?.code, stderr: exit?.stderr }).toEqual({ loopExit: 0, stderr: '' });
    // Every request was recorded exactly once, in order.
    expect(outcomes.map((o) => o.seq)).toEqual(outcomes.map((_, i) => i + 1));
    // Substantial overlap with each step: requests finished while each `scale` ran, and before/between/after.
    const during = (from: string, to: string): number => (marks[to] ?? 0) - (marks[from] ?? 0);
    const phases = {
      beforeScaling: marks['scaleUpBegin'] ?? 0,
      duringScaleUp: during('scaleUpBegin', 'scaleUpEnd'),
      betweenSteps: during('scaleUpEnd', 'scaleDownBegin'),
      duringScaleDown: during('scaleDownBegin', 'scaleDownEnd'),
      afterScaling: outcomes.length - (marks['scaleDownEnd'] ?? 0),
    };
        for (const [phase, n] of Object.entries(phases)) expect({ phase, n, enough: n >= MIN_PER_PHASE }).toEqual({ phase, n, enough: true });

    const remaining = await d.pods(NS, { app: 'httpbin' });
    expect(remaining).toHaveLength(1);
    expect(remaining[0]?.ready).toBe(true);
  });
});
