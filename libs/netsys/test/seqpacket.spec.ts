// SEQPACKET + SCM_RIGHTS over real unix sockets: message boundaries, fd passing (a netns handle and a file),
// back-pressure, hang-up, errors, and no descriptor leaks once everything is closed.
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  closeFd,
  CURRENT_NETNS_PATH,
  InvalidOptionError,
  NetsysError,
  netnsInode,
  openNetns,
  sameInode,
  type SeqpacketMessage,
  SeqpacketServer,
  SeqpacketSocket,
} from '../src';
import { NetnsFixture, openFdCount, requireRootAndTools, withTimeout } from '@weft/testing';

const dir = mkdtempSync(path.join(tmpdir(), 'netsys-seqpacket-'));
let counter = 0;
const sockPath = (): string => path.join(dir, `s${counter++}.sock`);
const fixture = new NetnsFixture();
let baseline = 0;

async function pair(opts: { maxMessageSize?: number } = {}): Promise<{
  server: SeqpacketServer;
  client: SeqpacketSocket;
  peer: SeqpacketSocket;
}> {
  const server = SeqpacketServer.listen(sockPath(), opts);
  const accepted = once(server, 'connection');
  const client = await SeqpacketSocket.connect(server.path, opts);
  const [peer] = (await withTimeout(accepted, 5000, 'connection')) as [SeqpacketSocket];
  return { server, client, peer };
}

function collect(socket: SeqpacketSocket, count: number): Promise<SeqpacketMessage[]> {
  const got: SeqpacketMessage[] = [];
  return withTimeout(
    new Promise((resolve) => {
      socket.on('message', (msg) => {
        got.push(msg);
        if (got.length === count) resolve(got);
      });
    }),
    10_000,
    `${count} messages`,
  );
}

async function closeAll(...items: Array<{ close(): void }>): Promise<void> {
  for (const item of items) item.close();
  await new Promise((resolve) => setImmediate(resolve));
}

beforeAll(() => {
  requireRootAndTools();
  baseline = openFdCount();
});

afterAll(() => {
  fixture.destroy();
  rmSync(dir, { recursive: true, force: true });
});

describe('SeqpacketSocket', () => {
  it('keeps message boundaries, up to 64 KiB per datagram', async () => {
    const { server, client, peer } = await pair();
    const big = Buffer.alloc(64 * 1024, 7);
    const messages = collect(peer, 4);
    await client.send(Buffer.from('a'));
    await client.send(Buffer.from('bb'));
    await client.send(big);
    await client.send(Buffer.from('ccc'));
    const got = await messages;
    expect(got.map((m) => m.data.length)).toEqual([1, 2, 64 * 1024, 3]);
    expect(got[0]?.data.toString()).toBe('a');
    expect(got[2]?.data.equals(big)).toBe(true);
    expect(got.every((m) => m.fds.length === 0)).toBe(true);
    await closeAll(client, peer, server);
  });

  it('passes a netns fd that arrives as the same namespace, and a file fd the receiver can write to', async () => {
    const ns = fixture.create('zds');
    const { server, client, peer } = await pair();
    const netnsFd = openNetns(ns.path);
    const file = path.join(dir, 'passed.txt');
    const fileFd = openSync(file, 'w');
    const messages = collect(peer, 1);
    await client.send(Buffer.from('add'), [netnsFd, fileFd]);
    // The message holds its own references: the sender may close right away.
    closeFd(netnsFd);
    closeSync(fileFd);
    const [msg] = await messages;
    expect(msg?.data.toString()).toBe('add');
    expect(msg?.fds).toHaveLength(2);
    const [gotNs, gotFile] = msg?.fds ?? [];
    if (gotNs === undefined || gotFile === undefined) throw new Error('fds missing');
    expect(sameInode(netnsInode(gotNs), netnsInode(ns.path))).toBe(true);
    expect(sameInode(netnsInode(gotNs), netnsInode(CURRENT_NETNS_PATH))).toBe(false);
    writeSync(gotFile, 'written through the passed fd');
    closeFd(gotFile);
    closeFd(gotNs);
    expect(readFileSync(file, 'utf8')).toBe('written through the passed fd');
    await closeAll(client, peer, server);
  });

  it('queues under back-pressure and delivers everything in order, fds included', async () => {
    const { server, client, peer } = await pair();
    const total = 3000;
    const payload = Buffer.alloc(4096, 1);
    // Fill the socket before the receiver runs: later sends hit EAGAIN and wait in the queue.
    const sends: Array<Promise<void>> = [];
    for (let i = 0; i < total; i++) {
      const data = Buffer.concat([Buffer.from(`${i}:`), payload]);
      if (i % 500 === 0) {
        const fd = openNetns(CURRENT_NETNS_PATH);
        sends.push(client.send(data, [fd]));
        closeFd(fd); // queued messages hold a duplicate
      } else {
        sends.push(client.send(data));
      }
    }
    const got = await collect(peer, total);
    await withTimeout(Promise.all(sends), 10_000, 'sends');
    got.forEach((m, i) => expect(m.data.subarray(0, String(i).length + 1).toString()).toBe(`${i}:`));
    const passed = got.flatMap((m) => m.fds);
    expect(passed).toHaveLength(total / 500);
    for (const fd of passed) {
      expect(sameInode(netnsInode(fd), netnsInode(CURRENT_NETNS_PATH))).toBe(true);
      closeFd(fd);
    }
    await closeAll(client, peer, server);
  });

  it("emits 'close' when the peer hangs up, and async iteration ends", async () => {
    const { server, client, peer } = await pair();
    const seen: string[] = [];
    const iterating = (async () => {
      for await (const msg of peer) seen.push(msg.data.toString());
    })();
    const closed = new Promise<void>((resolve) => peer.once('close', resolve)); // events.once would reject on 'error'
    await client.send(Buffer.from('one'));
    await client.send(Buffer.from('two'));
    client.close();
    await withTimeout(closed, 5000, "peer 'close'");
    await withTimeout(iterating, 5000, 'iterator end');
    expect(seen).toEqual(['one', 'two']);
    expect(peer.closed).toBe(true);
    await expect(peer.send(Buffer.from('late'))).rejects.toMatchObject({ code: 'EPIPE', syscall: 'sendmsg' });
    await closeAll(server);
  });

  it('rejects bad sends with InvalidOptionError naming the field', async () => {
    const { server, client, peer } = await pair();
    await expect(client.send(Buffer.alloc(0))).rejects.toMatchObject({ field: 'data' });
    await expect(client.send(Buffer.from('x'), new Array<number>(17).fill(0))).rejects.toBeInstanceOf(InvalidOptionError);
    await expect(client.send(Buffer.from('x'), [-1])).rejects.toMatchObject({ field: 'fds' });
    await closeAll(client, peer, server);
  });

  it('reports an oversized datagram as EMSGSIZE (recvmsg) and closes the receiver', async () => {
    const server = SeqpacketServer.listen(sockPath(), { maxMessageSize: 16 });
    const accepted = once(server, 'connection');
    const client = await SeqpacketSocket.connect(server.path);
    const [peer] = (await accepted) as [SeqpacketSocket];
    const failed = once(peer, 'error');
    const closed = new Promise<void>((resolve) => peer.once('close', resolve)); // events.once would reject on 'error'
    await client.send(Buffer.alloc(100));
    const [err] = await withTimeout(failed, 5000, "'error'");
    expect(err).toBeInstanceOf(NetsysError);
    expect(err).toMatchObject({ code: 'EMSGSIZE', syscall: 'recvmsg' });
    await withTimeout(closed, 5000, "'close'");
    await closeAll(client, server);
  });

  it('fails to connect to a missing path with ENOENT (connect) and to listen twice with EADDRINUSE (bind)', async () => {
    await expect(SeqpacketSocket.connect(path.join(dir, 'missing.sock'))).rejects.toMatchObject({
      name: 'NetsysError',
      code: 'ENOENT',
      syscall: 'connect',
    });
    const server = SeqpacketServer.listen(sockPath());
    expect(() => SeqpacketServer.listen(server.path)).toThrow(expect.objectContaining({ code: 'EADDRINUSE', syscall: 'bind' }));
    await closeAll(server);
    // close() unlinked the path, so it can be bound again.
    await closeAll(SeqpacketServer.listen(server.path));
  });

  it('leaves no descriptors behind once everything is closed', async () => {
    await new Promise((resolve) => setTimeout(resolve, 20));
    // At most the baseline: descriptors other suites in this worker held may have closed meanwhile (as in tcp.spec).
    expect(openFdCount()).toBeLessThanOrEqual(baseline);
  });
});
