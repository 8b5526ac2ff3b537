// TCP sockets in test namespaces: a listener made from the root netns, a spoofed source via IP_TRANSPARENT with
// ztunnel's mark/connmark/table-100 setup, SO_ORIGINAL_DST behind iptables REDIRECT, and connect failures.
import net from 'node:net';
import { once } from 'node:events';
import {
  closeFd,
  connectFrom,
  createTcpListener,
  createTcpSocket,
  CURRENT_NETNS_PATH,
  getOriginalDst,
  localAddress,
  NetsysError,
  netnsInode,
  openNetns,
  sameInode,
  socketFd,
} from '../src';
import { fdFlags, NetnsFixture, openFdCount, O_CLOEXEC, O_NONBLOCK, requireRootAndTools, type TestNetns, withTimeout } from '@weft/testing';

const fixture = new NetnsFixture();
const openFds: number[] = [];
const servers: net.Server[] = [];

function nsFd(ns: TestNetns): number {
  const fd = openNetns(ns.path);
  openFds.push(fd);
  return fd;
}

async function serve(fd: number, onConnection: (socket: net.Socket) => void): Promise<{ server: net.Server; port: number }> {
  const server = net.createServer(onConnection);
  servers.push(server);
  server.listen({ fd });
  await once(server, 'listening');
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no TCP address');
  return { server, port: addr.port };
}

async function readAll(socket: net.Socket): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of socket) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}

beforeAll(() => {
  requireRootAndTools(['iptables', 'ip6tables']);
});

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  for (const fd of openFds.splice(0)) closeFd(fd);
  fixture.destroy();
});

describe('createTcpListener with netnsFd', () => {
  let ns: TestNetns;
  beforeAll(() => {
    ns = fixture.create('lis');
    ns.ip('addr', 'add', '10.201.0.1/32', 'dev', 'lo');
  });

  it('listens on an address that exists only in the test netns and accepts a connection made there', async () => {
    const before = netnsInode(CURRENT_NETNS_PATH);
    const netnsFd = nsFd(ns);
    expect(sameInode(netnsInode(netnsFd), netnsInode(ns.path))).toBe(true);
    expect(sameInode(netnsInode(netnsFd), before)).toBe(false);

    const fd = createTcpListener({ netnsFd, host: '10.201.0.1', port: 0 });
    expect(sameInode(netnsInode(CURRENT_NETNS_PATH), before)).toBe(true);
    expect(fdFlags(fd) & O_NONBLOCK).toBe(O_NONBLOCK);
    expect(fdFlags(fd) & O_CLOEXEC).toBe(O_CLOEXEC);

    const accepted = new Promise<{ remote: string | undefined; local: string }>((resolve) => {
      void serve(fd, (socket) => {
        resolve({ remote: socket.remoteAddress, local: localAddress(socketFd(socket)).address });
        socket.end('hello from the netns');
      });
    });
    await new Promise((r) => setImmediate(r));
    const addr = localAddress(fd);
    expect(addr).toMatchObject({ address: '10.201.0.1', family: 4 });

    const client = await connectFrom({ netnsFd, family: 4, host: '10.201.0.1', port: addr.port });
    expect(sameInode(netnsInode(CURRENT_NETNS_PATH), before)).toBe(true);
    expect(client.remoteAddress).toBe('10.201.0.1');
    expect(await withTimeout(readAll(client), 5000, 'reply')).toBe('hello from the netns');
    expect(await accepted).toEqual({ remote: '10.201.0.1', local: '10.201.0.1' });
  });

  it('cannot bind that address from the root netns (EADDRNOTAVAIL, syscall bind)', () => {
    expect(() => createTcpListener({ host: '10.201.0.1', port: 0 })).toThrow(
      expect.objectContaining({ name: 'NetsysError', code: 'EADDRNOTAVAIL', syscall: 'bind' }),
    );
  });

  it('returns to the original netns when a call inside the target fails', () => {
    const before = netnsInode(CURRENT_NETNS_PATH);
    const netnsFd = nsFd(ns);
    let caught: unknown;
    try {
      createTcpListener({ netnsFd, host: '10.201.0.99', port: 0 });
    } catch (err: unknown) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(NetsysError);
    expect(caught).toMatchObject({ code: 'EADDRNOTAVAIL', syscall: 'bind', errno: 99 });
    expect(sameInode(netnsInode(CURRENT_NETNS_PATH), before)).toBe(true);
    // freebind makes the same bind legal.
    const fd = createTcpListener({ netnsFd, host: '10.201.0.99', port: 0, freebind: true });
    expect(localAddress(fd).address).toBe('10.201.0.99');
    closeFd(fd);
  });

  it('binds two listeners to one port with reusePort, and an IPv6-only [::] listener', () => {
    const netnsFd = nsFd(ns);
    const a = createTcpListener({ netnsFd, host: '10.201.0.1', port: 0, reusePort: true });
    const port = localAddress(a).port;
    const b = createTcpListener({ netnsFd, host: '10.201.0.1', port, reusePort: true });
    expect(() => createTcpListener({ netnsFd, host: '10.201.0.1', port })).toThrow(
      expect.objectContaining({ code: 'EADDRINUSE', syscall: 'bind' }),
    );
    const v6 = createTcpListener({ netnsFd, host: '::', port, ipv6Only: true, mark: 0x539 });
    expect(localAddress(v6)).toEqual({ address: '::', port, family: 6 });
    for (const fd of [a, b, v6]) closeFd(fd);
  });
});

describe('IP_TRANSPARENT source spoofing (ztunnel in-pod routing inside a test netns)', () => {
  let ns: TestNetns;
  beforeAll(() => {
    ns = fixture.create('tpx');
    ns.ip('addr', 'add', '10.202.0.1/32', 'dev', 'lo');
    // Like a pod: a default route out of an interface (a veth whose peer stays in this namespace, where nobody
    // answers). Unmarked replies to a spoofed source leave that way and are lost; marked ones are steered back.
    ns.ip('link', 'add', 'wv0', 'type', 'veth', 'peer', 'name', 'wv1');
    ns.ip('link', 'set', 'wv0', 'up');
    ns.ip('link', 'set', 'wv1', 'up');
    ns.ip('route', 'add', 'default', 'dev', 'wv0');
    // istio-ambient-reference §5.3: mark 0x539 on our socket → connmark 0x111 → replies restored to mark 0x111 →
    // table 100 routes everything "local", so they come back to the transparent socket.
    ns.exec('iptables', '-t', 'mangle', '-A', 'PREROUTING', '-m', 'mark', '--mark', '0x539/0xfff', '-j', 'CONNMARK', '--set-xmark', '0x111/0xfff');
    ns.exec('iptables', '-t', 'mangle', '-A', 'OUTPUT', '-m', 'connmark', '--mark', '0x111/0xfff', '-j', 'CONNMARK', '--restore-mark', '--nfmask', '0xffffffff', '--ctmask', '0xffffffff');
    ns.ip('rule', 'add', 'fwmark', '0x111/0xfff', 'pref', '32764', 'lookup', '100');
    ns.ip('route', 'add', 'local', '0.0.0.0/0', 'dev', 'lo', 'table', '100');
  });

  it('the server sees the spoofed, non-local source address', async () => {
    const netnsFd = nsFd(ns);
    const fd = createTcpListener({ netnsFd, host: '10.202.0.1', port: 0 });
    const seen = new Promise<string | undefined>((resolve) => {
      void serve(fd, (socket) => {
        resolve(socket.remoteAddress);
        socket.end('ok');
      });
    });
    const port = localAddress(fd).port;
    // Without IP_TRANSPARENT the kernel refuses to bind a foreign address.
    expect(() => createTcpSocket({ netnsFd, family: 4, bindAddress: '192.0.2.77' })).toThrow(
      expect.objectContaining({ code: 'EADDRNOTAVAIL', syscall: 'bind' }),
    );
    const client = await connectFrom({
      netnsFd,
      family: 4,
      mark: 0x539,
      transparent: true,
      bindAddress: '192.0.2.77',
      host: '10.202.0.1',
      port,
      timeoutMs: 5000,
    });
    expect(client.localAddress).toBe('192.0.2.77');
    expect(await withTimeout(seen, 5000, 'accept')).toBe('192.0.2.77');
    expect(await withTimeout(readAll(client), 5000, 'reply')).toBe('ok');
  });

  it('without SO_MARK the replies are not steered back, so the spoofed connect times out (the mark is applied)', async () => {
    const netnsFd = nsFd(ns);
    const fd = createTcpListener({ netnsFd, host: '10.202.0.1', port: 0 });
    await serve(fd, (socket) => socket.end());
    const port = localAddress(fd).port;
    await expect(
      connectFrom({ netnsFd, family: 4, transparent: true, bindAddress: '192.0.2.78', host: '10.202.0.1', port, timeoutMs: 300 }),
    ).rejects.toMatchObject({ code: 'ETIMEDOUT', syscall: 'connect' });
  });
});

describe('getOriginalDst behind iptables REDIRECT', () => {
  let ns: TestNetns;
  beforeAll(() => {
    ns = fixture.create('odst');
    ns.ip('addr', 'add', '10.203.0.1/32', 'dev', 'lo');
  });

  it('reports the pre-REDIRECT destination for IPv4 and IPv6 on a dual-stack [::] listener', async () => {
    const netnsFd = nsFd(ns);
    const fd = createTcpListener({ netnsFd, host: '::', port: 0, mark: 0x539, transparent: true, reusePort: true });
    const port = localAddress(fd).port;
    ns.exec('iptables', '-t', 'nat', '-A', 'OUTPUT', '-p', 'tcp', '--dport', '8080', '-j', 'REDIRECT', '--to-ports', String(port));
    ns.exec('ip6tables', '-t', 'nat', '-A', 'OUTPUT', '-p', 'tcp', '--dport', '8081', '-j', 'REDIRECT', '--to-ports', String(port));
    const dsts: unknown[] = [];
    await serve(fd, (socket) => {
      const sfd = socketFd(socket);
      dsts.push(getOriginalDst(sfd));
      socket.end(String(localAddress(sfd).port));
    });
    const v4 = await connectFrom({ netnsFd, family: 4, host: '10.203.0.1', port: 8080, timeoutMs: 5000 });
    expect(await withTimeout(readAll(v4), 5000, 'v4 reply')).toBe(String(port));
    const v6 = await connectFrom({ netnsFd, family: 6, host: '::1', port: 8081, timeoutMs: 5000 });
    expect(await withTimeout(readAll(v6), 5000, 'v6 reply')).toBe(String(port));
    expect(dsts).toEqual([
      { address: '10.203.0.1', port: 8080, family: 4 },
      { address: '::1', port: 8081, family: 6 },
    ]);
  });

  it('fails with ENOENT (getsockopt) for a connection that was not NATed', async () => {
    const netnsFd = nsFd(ns);
    const fd = createTcpListener({ netnsFd, host: '10.203.0.1', port: 0 });
    const result = new Promise<unknown>((resolve) => {
      void serve(fd, (socket) => {
        try {
          resolve(getOriginalDst(socketFd(socket)));
        } catch (err: unknown) {
          resolve(err);
        }
        socket.end();
      });
    });
    const client = await connectFrom({ netnsFd, family: 4, host: '10.203.0.1', port: localAddress(fd).port });
    const outcome = await withTimeout(result, 5000, 'accept');
    client.destroy();
    // With conntrack active (the nat table exists) the kernel answers with the unchanged tuple, else ENOENT.
    if (outcome instanceof NetsysError) {
      expect(outcome).toMatchObject({ code: 'ENOENT', syscall: 'getsockopt' });
    } else {
      expect(outcome).toEqual({ address: '10.203.0.1', port: localAddress(fd).port, family: 4 });
    }
  });
});

describe('connectFrom failures', () => {
  let ns: TestNetns;
  beforeAll(() => {
    ns = fixture.create('conn');
    ns.ip('addr', 'add', '10.204.0.1/32', 'dev', 'lo');
    ns.exec('iptables', '-A', 'OUTPUT', '-d', '10.204.0.1', '-p', 'tcp', '--dport', '9', '-j', 'DROP');
  });

  it('rejects ECONNREFUSED (syscall connect) when nothing listens, and closes its fd', async () => {
    const netnsFd = nsFd(ns);
    const baseline = openFdCount();
    for (let i = 0; i < 10; i++) {
      await expect(connectFrom({ netnsFd, family: 4, host: '10.204.0.1', port: 1 })).rejects.toMatchObject({
        name: 'NetsysError',
        code: 'ECONNREFUSED',
        syscall: 'connect',
      });
    }
    // Earlier tests' sockets may still be closing, so the count can only have gone down.
    expect(openFdCount()).toBeLessThanOrEqual(baseline);
  });

  it('rejects ETIMEDOUT after timeoutMs when SYNs are dropped', async () => {
    const netnsFd = nsFd(ns);
    const started = Date.now();
    await expect(connectFrom({ netnsFd, family: 4, host: '10.204.0.1', port: 9, timeoutMs: 200 })).rejects.toMatchObject({
      code: 'ETIMEDOUT',
      syscall: 'connect',
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
  });
});
