// Leader election against a fake Lease API that keeps one store and checks resourceVersions as the API server does
// (a stale replace is a 409, answered false); each replica gets its own client to it, which a test can make fail or
// hang. Real timers with durations of tens of milliseconds; the Lease itself cannot say less than one second.
import type { KubeApi } from '@weft/config-source';
import type { KubeObject } from '@weft/mesh-config';
import { eventually } from '@weft/testing';

import { recordingLogger } from '../test/controller-fakes';
import {
  createLeaderElection,
  CONTROLPLANE_LEASE,
  LeaderElectionError,
  soleLeader,
  type LeaderElection,
  type LeaderElectionOptions,
} from './leader-election';
import type { MessageFirstLogger } from './logging';
import { leaseSpecOf, parseMicroTime } from './pipeline/lease-decision';

jest.setTimeout(15_000);

interface Replica {
  readonly elector: LeaderElection;
  readonly client: FakeLeaseClient;
}

const NAMESPACE = 'istio-system';
const RETRY_PERIOD_MS = 25;
const RENEW_DEADLINE_MS = 150;
/** Written as one second, the least a Lease can say. */
const LEASE_DURATION_MS = 1_000;

type LeaseApi = Pick<KubeApi, 'getObject' | 'createObject' | 'replaceObject'>;

function statusError(code: number, reason: string): Error {
  return Object.assign(new Error(`HTTP-Code: ${code}`), { code, body: JSON.stringify({ kind: 'Status', code, reason }) });
}

/** The API server's side: one store of Leases with resourceVersions, and every stored version in order. */
class FakeLeaseServer {
  readonly history: KubeObject[] = [];
  private readonly leases = new Map<string, KubeObject>();
  private version = 100;

  lease(name = CONTROLPLANE_LEASE): KubeObject | undefined {
    return this.leases.get(name);
  }

  get(namespace: string, name: string): KubeObject | undefined {
    const stored = namespace === NAMESPACE ? this.leases.get(name) : undefined;
    return stored === undefined ? undefined : structuredClone(stored);
  }

  create(object: KubeObject): boolean {
    if (this.leases.has(object.metadata.name)) return false; // 409 AlreadyExists
    this.store(object);
    return true;
  }

  replace(object: KubeObject): boolean {
    const stored = this.leases.get(object.metadata.name);
    if (stored === undefined) throw statusError(404, 'NotFound');
    if (object.metadata.resourceVersion !== stored.metadata.resourceVersion) return false; // 409 Conflict
    this.store(object);
    return true;
  }

  private store(object: KubeObject): void {
    this.version += 1;
    const stored = { ...structuredClone(object), metadata: { ...object.metadata, resourceVersion: String(this.version) } };
    this.leases.set(object.metadata.name, stored);
    this.history.push(stored);
  }
}

/** One replica's client: counts calls, can fail every call or hold them all until released. */
class FakeLeaseClient implements LeaseApi {
  calls = 0;
  active = 0;
  maxActive = 0;
  failing = false;
  failNext = 0;
  private gate: Promise<void> | undefined;
  private openGate: (() => void) | undefined;

  constructor(private readonly server: FakeLeaseServer) {}

  hold(): void {
    this.gate = new Promise((resolve) => {
      this.openGate = resolve;
    });
  }

  releaseHeld(): void {
    this.gate = undefined;
    this.openGate?.();
  }

  async getObject(apiVersion: string, kind: string, namespace: string, name: string): Promise<KubeObject | undefined> {
    return this.call(() => {
      if (apiVersion !== 'coordination.k8s.io/v1' || kind !== 'Lease') throw statusError(404, 'NotFound');
      return this.server.get(namespace, name);
    });
  }

  async createObject(object: KubeObject): Promise<boolean> {
    return this.call(() => this.server.create(object));
  }

  async replaceObject(object: KubeObject): Promise<boolean> {
    return this.call(() => this.server.replace(object));
  }

  private async call<T>(run: () => T): Promise<T> {
    this.calls += 1;
    this.active += 1;
    this.maxActive = Math.max(this.maxActive, this.active);
    try {
      await this.gate;
      await Promise.resolve(); // an API call never answers synchronously
      if (this.failing || this.failNext > 0) {
        this.failNext = Math.max(0, this.failNext - 1);
        throw statusError(503, 'ServiceUnavailable');
      }
      return run();
    } finally {
      this.active -= 1;
    }
  }
}

interface LogLine {
  readonly identity: string;
  readonly level: string;
  readonly message: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

interface Change {
  readonly identity: string;
  readonly leading: boolean;
  readonly atMs: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('leader election over a Lease (fake Lease API)', () => {
  let server: FakeLeaseServer;
  let logs: LogLine[];
  let changes: Change[];
  let leaders: Set<string>;
  let overlaps: string[];
  let electors: LeaderElection[];

  beforeEach(() => {
    server = new FakeLeaseServer();
    logs = [];
    changes = [];
    leaders = new Set();
    overlaps = [];
    electors = [];
  });

  afterEach(async () => {
    await Promise.all(electors.map((elector) => elector.close(500)));
  });

  function logger(identity: string): MessageFirstLogger {
    return recordingLogger((line) => logs.push({ identity, ...line }));
  }

  /** A started replica, once it leads. */
  async function leading(identity: string): Promise<Replica> {
    const started = replica(identity);
    started.elector.start();
    await eventually(() => started.elector.isLeader(), `${identity} to lead`);
    return started;
  }

  /** cp-a leading, and cp-b started after it and trying. */
  async function leaderAndFollower(): Promise<{ a: Replica; b: Replica }> {
    const a = await leading('cp-a');
    const b = replica('cp-b');
    b.elector.start();
    await eventually(() => b.client.calls >= 2, 'cp-b to have tried');
    return { a, b };
  }

  /** An elector with its own client, whose changes land in `changes` and whose overlaps with others in `overlaps`. */
  function replica(identity: string, overrides: Partial<LeaderElectionOptions> = {}): Replica {
    const client = new FakeLeaseClient(server);
    const elector = createLeaderElection({
      api: client,
      namespace: NAMESPACE,
      name: CONTROLPLANE_LEASE,
      identity,
      logger: logger(identity),
      leaseDurationMs: LEASE_DURATION_MS,
      renewDeadlineMs: RENEW_DEADLINE_MS,
      retryPeriodMs: RETRY_PERIOD_MS,
      ...overrides,
    });
    elector.onChange((leading) => {
      changes.push({ identity, leading, atMs: Date.now() });
      if (!leading) {
        leaders.delete(identity);
        return;
      }
      if (leaders.size > 0) overlaps.push(`${identity} leads while ${[...leaders].join(', ')} does`);
      leaders.add(identity);
    });
    electors.push(elector);
    return { elector, client };
  }

  const holder = (): string | undefined => {
    const lease = server.lease();
    return lease === undefined ? undefined : leaseSpecOf(lease).holderIdentity;
  };
  const changesOf = (identity: string): boolean[] => changes.filter((c) => c.identity === identity).map((c) => c.leading);
  const changeAt = (identity: string, leading: boolean): number | undefined => changes.find((c) => c.identity === identity && c.leading === leading)?.atMs;

  it('creates the Lease, leads, and renews it every retry period', async () => {
    const { elector } = replica('cp-a');
    expect(elector.isLeader()).toBe(false);
    elector.start();
    await eventually(() => elector.isLeader(), 'cp-a to lead');
    const created = server.history[0];
    expect(created).toMatchObject({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'weft-controlplane-leader', namespace: NAMESPACE },
      spec: { holderIdentity: 'cp-a', leaseDurationSeconds: 1, leaseTransitions: 0 },
    });
    const renewTimes = (): string[] => server.history.map((lease) => leaseSpecOf(lease).renewTime ?? '');
    await eventually(() => server.history.length >= 4, 'three renewals');
    expect(new Set(renewTimes()).size).toBe(renewTimes().length);
    expect(server.history.every((lease) => leaseSpecOf(lease).acquireTime === leaseSpecOf(created ?? lease).acquireTime)).toBe(true);
    expect(server.history.every((lease) => leaseSpecOf(lease).leaseTransitions === 0)).toBe(true);
    expect(elector.isLeader()).toBe(true);
    expect(changesOf('cp-a')).toEqual([true]);
    expect(logs.filter((l) => l.message === 'became the leader')).toHaveLength(1);
  });

  it('with two replicas exactly one leads, and keeps leading', async () => {
    const a = replica('cp-a');
    const b = replica('cp-b');
    a.elector.start();
    b.elector.start();
    await eventually(() => a.elector.isLeader() || b.elector.isLeader(), 'a leader');
    await sleep(RENEW_DEADLINE_MS * 2);
    const [leader, follower] = a.elector.isLeader() ? ['cp-a', 'cp-b'] : ['cp-b', 'cp-a'];
    expect([a.elector.isLeader(), b.elector.isLeader()].filter(Boolean)).toHaveLength(1);
    expect(holder()).toBe(leader);
    expect(changesOf(leader)).toEqual([true]);
    expect(changesOf(follower)).toEqual([]);
    expect(overlaps).toEqual([]);
    expect(logs).toContainEqual(expect.objectContaining({ identity: follower, message: 'new leader observed', fields: expect.objectContaining({ leader }) }));
  });

  it('a closing leader releases the Lease and the other replica takes over within about a retry period', async () => {
    const { a, b } = await leaderAndFollower();

    await a.elector.close();
    expect(a.elector.isLeader()).toBe(false);
    expect(changesOf('cp-a')).toEqual([true, false]);
    expect(server.history).toContainEqual(expect.objectContaining({ spec: expect.objectContaining({ holderIdentity: '', leaseDurationSeconds: 1 }) }));

    await eventually(() => b.elector.isLeader(), 'cp-b to take over');
    // It took over the released Lease (no holder), not one it had to wait out.
    const holders = server.history.map((lease) => leaseSpecOf(lease).holderIdentity);
    expect(holders[holders.indexOf('cp-b') - 1]).toBe('');
    expect(server.lease()).toMatchObject({ spec: { holderIdentity: 'cp-b', leaseDurationSeconds: 1, leaseTransitions: 1 } });
    expect(overlaps).toEqual([]);
  });

  it('a leader that cannot renew steps down after the renew deadline; the other takes over once the Lease expires', async () => {
    const { a, b } = await leaderAndFollower();

    a.client.failing = true;
    await eventually(() => !a.elector.isLeader(), 'cp-a to step down');
    const lastLease = server.lease();
    if (lastLease === undefined) throw new Error('no Lease stored');
    const lastRenewMs = parseMicroTime(leaseSpecOf(lastLease).renewTime ?? '') ?? NaN;
    const steppedDownMs = changeAt('cp-a', false) ?? NaN;
    expect(steppedDownMs - lastRenewMs).toBeGreaterThanOrEqual(RENEW_DEADLINE_MS);
    expect(steppedDownMs - lastRenewMs).toBeLessThan(LEASE_DURATION_MS);
    expect(b.elector.isLeader()).toBe(false);
    expect(logs).toContainEqual(expect.objectContaining({ identity: 'cp-a', level: 'warn', message: 'leader lease not renewed within the renew deadline; stepping down' }));
    expect(logs).toContainEqual(expect.objectContaining({ identity: 'cp-a', level: 'warn', message: 'leader lease attempt failed; retrying' }));

    await eventually(() => b.elector.isLeader(), 'cp-b to take over');
    expect(changeAt('cp-b', true) ?? NaN).toBeGreaterThan(lastRenewMs + 1_000);
    expect(server.lease()).toMatchObject({ spec: { holderIdentity: 'cp-b', leaseTransitions: 1 } });
    expect(overlaps).toEqual([]);

    // Back on the network, the old leader sees the new holder and stays a follower.
    a.client.failing = false;
    await sleep(RETRY_PERIOD_MS * 4);
    expect(a.elector.isLeader()).toBe(false);
    expect(changesOf('cp-a')).toEqual([true, false]);
  });

  it('steps down at once when it reads another holder in an unexpired Lease', async () => {
    const a = await leading('cp-a');
    const lease = server.lease();
    if (lease === undefined) throw new Error('no Lease stored');
    const replacedAtMs = Date.now();
    server.replace({ ...lease, spec: { ...leaseSpecOf(lease), holderIdentity: 'intruder', renewTime: new Date(replacedAtMs).toISOString() } });
    await eventually(() => !a.elector.isLeader(), 'cp-a to step down');
    // On reading the Lease, not at the renew deadline.
    expect(logs.filter((l) => l.identity === 'cp-a' && l.message.includes('renew deadline'))).toEqual([]);
    expect(logs).toContainEqual(expect.objectContaining({ identity: 'cp-a', message: 'new leader observed', fields: expect.objectContaining({ leader: 'intruder' }) }));
    expect(holder()).toBe('intruder');
  });

  it('keeps one attempt in flight: a hanging API call is not stacked, the leader still steps down, and close keeps its deadline', async () => {
    const a = await leading('cp-a');
    a.client.hold();
    const callsWhenHeld = a.client.calls;
    await eventually(() => !a.elector.isLeader(), 'cp-a to step down while its call hangs');
    await sleep(RETRY_PERIOD_MS * 3);
    expect(a.client.calls).toBe(callsWhenHeld + 1);
    expect(a.client.maxActive).toBe(1);

    const closeStartedMs = Date.now();
    await a.elector.close(60);
    expect(Date.now() - closeStartedMs).toBeLessThan(1_000);
    expect(logs).toContainEqual(expect.objectContaining({ identity: 'cp-a', message: 'leader lease release still running at shutdown; the lease expires on its own' }));
    a.client.releaseHeld();
    await eventually(() => a.client.active === 0, 'the held call to finish');
  });

  it('retries API errors at the retry period, logging each', async () => {
    const a = replica('cp-a');
    a.client.failNext = 3;
    a.elector.start();
    await eventually(() => a.elector.isLeader(), 'cp-a to lead');
    const failures = logs.filter((l) => l.message === 'leader lease attempt failed; retrying');
    expect(failures).toHaveLength(3);
    expect(failures[0]?.fields).toMatchObject({ lease: `${NAMESPACE}/${CONTROLPLANE_LEASE}`, identity: 'cp-a', err: expect.objectContaining({ code: 503 }) });
  });

  it('calls each listener once per change; a throwing listener is logged and does not stop the others or the loop', async () => {
    const a = replica('cp-a');
    const seen: boolean[] = [];
    a.elector.onChange(() => {
      throw new Error('listener bug');
    });
    a.elector.onChange((leading) => seen.push(leading));
    const unsubscribed: boolean[] = [];
    const unsubscribe = a.elector.onChange((leading) => unsubscribed.push(leading));
    unsubscribe();
    a.elector.start();
    await eventually(() => a.elector.isLeader(), 'cp-a to lead');
    const writes = server.history.length;
    await eventually(() => server.history.length > writes + 1, 'renewals after the failed listener');
    await a.elector.close();
    expect(seen).toEqual([true, false]);
    expect(unsubscribed).toEqual([]);
    expect(logs.filter((l) => l.message === 'leader election listener failed')).toHaveLength(2);
  });

  it('close() is idempotent, releases once and stops its timer', async () => {
    // Judged by what the elector does, not by the process's count of timers, which other suites in the same
    // worker change at any moment.
    const a = await leading('cp-a');
    const first = a.elector.close();
    const second = a.elector.close();
    expect(second).toBe(first);
    await first;
    await a.elector.close();
    const calls = a.client.calls;
    await sleep(RETRY_PERIOD_MS * 4);
    expect(a.client.calls).toBe(calls);
    expect(changesOf('cp-a')).toEqual([true, false]);
    expect(server.history.filter((lease) => leaseSpecOf(lease).holderIdentity === '')).toHaveLength(1);
    expect(logs.filter((l) => l.message === 'released the leader lease')).toHaveLength(1);

    a.elector.start();
    await sleep(RETRY_PERIOD_MS * 2);
    expect(a.client.calls).toBe(calls);
  });

  it('a follower closes without writing', async () => {
    const { b } = await leaderAndFollower();
    const writes = server.history.length;
    await b.elector.close();
    expect(server.history.slice(writes).every((lease) => leaseSpecOf(lease).holderIdentity === 'cp-a')).toBe(true);
    expect(changesOf('cp-b')).toEqual([]);
  });

  it.each<[string, Partial<LeaderElectionOptions>]>([
    ['an empty identity', { identity: '' }],
    ['a renew deadline not below the lease duration', { leaseDurationMs: 1_000, renewDeadlineMs: 1_000 }],
    ['a retry period not below the renew deadline', { renewDeadlineMs: 100, retryPeriodMs: 100 }],
    ['a zero retry period', { retryPeriodMs: 0 }],
  ])('refuses %s', (_name, overrides) => {
    expect(() => replica('cp-a', overrides)).toThrow(LeaderElectionError);
    expect(() => replica('cp-a', overrides)).toThrow(expect.objectContaining({ code: 'ERR_LEADER_ELECTION_CONFIG_INVALID' }));
  });
});

describe('soleLeader', () => {
  it('leads from creation and reports false once, on close', async () => {
    const leader = soleLeader();
    const seen: boolean[] = [];
    leader.onChange((leading) => seen.push(leading));
    leader.start();
    expect(leader.isLeader()).toBe(true);
    await leader.close();
    await leader.close();
    expect(leader.isLeader()).toBe(false);
    expect(seen).toEqual([false]);
  });
});
