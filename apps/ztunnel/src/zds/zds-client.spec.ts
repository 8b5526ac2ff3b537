import { openSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { closeFd, openNetns, SeqpacketServer, type SeqpacketSocket } from '@weft/netsys';
import { decodeZdsAck, decodeZdsHello, encodeZdsRequest, type ZdsRequest } from '@weft/xds';

import { ZdsClient, fdProblem, isNetnsFd, type PodSet } from './zds-client';

const workload = { name: 'web-0', namespace: 'shop', serviceAccount: 'web' };

describe('fdProblem', () => {
  const netns = (fd: number): boolean => fd === 7;
  it.each<[string, ZdsRequest, number[], string | undefined]>([
    ['add with one netns fd', { kind: 'add', uid: 'u', workload }, [7], undefined],
    ['add without fd', { kind: 'add', uid: 'u', workload }, [], 'exactly one'],
    ['add with two fds', { kind: 'add', uid: 'u', workload }, [7, 7], 'exactly one'],
    ['add with a non-netns fd', { kind: 'add', uid: 'u', workload }, [3], 'not a network namespace'],
    ['del with an fd', { kind: 'del', uid: 'u' }, [7], 'must not carry'],
    ['snapshot-sent', { kind: 'snapshot-sent' }, [], undefined],
  ])('%s', (_name, request, fds, problem) => {
    const result = fdProblem(request, fds, netns);
    if (problem === undefined) expect(result).toBeUndefined();
    else expect(result).toContain(problem);
  });

  it('recognises a netns fd for real', () => {
    const fd = openNetns('/proc/self/ns/net');
    const file = openSync('/proc/self/status', 'r');
    try {
      expect(isNetnsFd(fd)).toBe(true);
      expect(isNetnsFd(file)).toBe(false);
    } finally {
      closeFd(fd);
      closeFd(file);
    }
  });
});

/** The agent's side, scripted. */
class FakeAgent {
  readonly acks: string[] = [];
  hello: number | undefined;
  socket: SeqpacketSocket | undefined;
  private waiters: (() => void)[] = [];
  constructor(readonly server: SeqpacketServer) {
    server.on('connection', (socket) => {
      this.socket = socket;
      socket.on('message', (message) => {
        for (const fd of message.fds) closeFd(fd);
        if (this.hello === undefined) {
          const hello = decodeZdsHello(message.data);
          this.hello = hello.ok ? hello.value : -1;
        } else {
          const ack = decodeZdsAck(message.data);
          this.acks.push(ack.ok ? ack.value : `undecodable: ${ack.message}`);
        }
        for (const wake of this.waiters.splice(0)) wake();
      });
    });
  }
  async send(request: ZdsRequest, fds: number[] = []): Promise<string> {
    const count = this.acks.length;
    await this.socket?.send(Buffer.from(encodeZdsRequest(request)), fds);
    while (this.acks.length === count) await new Promise<void>((resolve) => this.waiters.push(resolve));
    return this.acks[count] ?? '';
  }
  async connected(): Promise<void> {
    while (this.hello === undefined) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }
}

class RecordingPods implements PodSet {
  readonly pods = new Map<string, number>();
  readonly calls: string[] = [];
  async add(uid: string, _workload: unknown, fd: number): Promise<void> {
    this.calls.push(`add:${uid}`);
    const previous = this.pods.get(uid);
    if (previous !== undefined) closeFd(previous);
    this.pods.set(uid, fd);
  }
  has(uid: string): boolean {
    return this.pods.has(uid);
  }
  async del(uid: string): Promise<void> {
    this.calls.push(`del:${uid}`);
    const fd = this.pods.get(uid);
    if (fd !== undefined) closeFd(fd);
    this.pods.delete(uid);
  }
  async retainOnly(uids: ReadonlySet<string>): Promise<void> {
    for (const uid of [...this.pods.keys()]) if (!uids.has(uid)) await this.del(uid);
  }
}

describe('ZdsClient against a scripted agent', () => {
  let dir: string;
  let agent: FakeAgent;
  let pods: RecordingPods;
  let client: ZdsClient;
  const logger = { info: () => undefined, warn: () => undefined };

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'weft-zds-'));
    agent = new FakeAgent(SeqpacketServer.listen(path.join(dir, 'ztunnel.sock')));
    pods = new RecordingPods();
    client = new ZdsClient({ socketPath: path.join(dir, 'ztunnel.sock'), pods, logger });
    client.start();
    await agent.connected();
  });

  afterEach(async () => {
    await client.close();
    agent.server.close();
    agent.socket?.close();
    for (const fd of pods.pods.values()) closeFd(fd);
    await rm(dir, { recursive: true, force: true });
  });

  it('says hello V1, applies a snapshot, then incremental adds and dels, acking each', async () => {
    expect(agent.hello).toBe(1);
    expect(await agent.send({ kind: 'add', uid: 'a', workload }, [openNetns('/proc/self/ns/net')])).toBe('');
    expect(client.synced).toBe(false);
    expect(await agent.send({ kind: 'snapshot-sent' })).toBe('');
    await client.whenSynced();
    expect(await agent.send({ kind: 'add', uid: 'b', workload }, [openNetns('/proc/self/ns/net')])).toBe('');
    expect(await agent.send({ kind: 'del', uid: 'a' })).toBe('');
    expect(pods.calls).toEqual(['add:a', 'add:b', 'del:a']);
    expect([...pods.pods.keys()]).toEqual(['b']);
  });

  it('refuses bad messages with an error ack and goes on', async () => {
    expect(await agent.send({ kind: 'add', uid: 'a', workload })).toContain('exactly one');
    const file = openSync('/proc/self/status', 'r');
    expect(await agent.send({ kind: 'add', uid: 'a', workload }, [file])).toContain('not a network namespace');
    closeFd(file);
    expect(await agent.send({ kind: 'snapshot-sent' })).toBe('');
    expect(await agent.send({ kind: 'keep', uid: 'a' })).toContain('only valid before SnapshotSent');
    expect(pods.calls).toEqual([]);
  });

  it('a new snapshot after a reconnect keeps what it names (add or keep) and drops the rest', async () => {
    await agent.send({ kind: 'add', uid: 'a', workload }, [openNetns('/proc/self/ns/net')]);
    await agent.send({ kind: 'add', uid: 'b', workload }, [openNetns('/proc/self/ns/net')]);
    await agent.send({ kind: 'snapshot-sent' });
    // The agent restarts.
    agent.socket?.close();
    agent.server.close();
    agent = new FakeAgent(SeqpacketServer.listen(path.join(dir, 'ztunnel.sock')));
    await agent.connected();
    expect(await agent.send({ kind: 'keep', uid: 'a' })).toBe('');
    expect(await agent.send({ kind: 'snapshot-sent' })).toBe('');
    expect([...pods.pods.keys()]).toEqual(['a']);
  });
});
