// Failure contracts: bad descriptors give NetsysError EBADF naming the system call, and a process without
// capabilities gets EPERM from setns (CAP_SYS_ADMIN) and SO_MARK (CAP_NET_ADMIN).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { constants } from 'node:os';
import {
  ADDON_PATH,
  closeFd,
  connectTcp,
  createTcpListener,
  createTcpSocket,
  CURRENT_NETNS_PATH,
  getOriginalDst,
  localAddress,
  NetsysError,
  netnsInode,
  openNetns,
  SeqpacketSocket,
} from '../src';
import { NetnsFixture, requireRootAndTools, type TestNetns } from '@weft/testing';

const fixture = new NetnsFixture();

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err: unknown) {
    return err;
  }
  throw new Error('expected a throw');
}

/**
 * A descriptor number that is not open. Not "open then close": the kernel hands out the lowest free number, so
 * the addon's own open of /proc/thread-self/ns/net would reuse it and the test would pass setns a valid fd.
 */
function closedFd(): number {
  const open = new Set(readdirSync('/proc/self/fd').map(Number));
  let fd = 1000;
  while (open.has(fd)) fd++;
  return fd;
}

beforeAll(() => {
  requireRootAndTools(['setpriv']);
});

afterAll(() => {
  fixture.destroy();
});

describe('bad file descriptors', () => {
  const EBADF = constants.errno.EBADF;
  it.each<[string, (fd: number) => unknown, string]>([
    ['closeFd', (fd) => closeFd(fd), 'close'],
    ['netnsInode', (fd) => netnsInode(fd), 'fstat'],
    ['getOriginalDst', (fd) => getOriginalDst(fd), 'getsockname'],
    ['localAddress', (fd) => localAddress(fd), 'getsockname'],
    ['connectTcp', (fd) => connectTcp(fd, '127.0.0.1', 80), 'connect'],
    ['createTcpListener({ netnsFd })', (fd) => createTcpListener({ netnsFd: fd, host: '127.0.0.1', port: 0 }), 'setns'],
    ['createTcpSocket({ netnsFd })', (fd) => createTcpSocket({ netnsFd: fd, family: 4 }), 'setns'],
    ['new SeqpacketSocket', (fd) => new SeqpacketSocket(fd), 'uv_poll_init'],
  ])('%s gives EBADF for -1 and for a descriptor that is not open', (_name, call, syscall) => {
    for (const fd of [-1, closedFd()]) {
      const err = thrown(() => call(fd));
      expect(err).toBeInstanceOf(NetsysError);
      expect(err).toMatchObject({ errno: EBADF, code: 'EBADF', syscall });
    }
  });

  it('openNetns of a missing path is ENOENT (open), with the path in the message', () => {
    const err = thrown(() => openNetns('/run/netns/definitely-not-there'));
    expect(err).toMatchObject({ code: 'ENOENT', syscall: 'open' });
    expect(String(err)).toContain('/run/netns/definitely-not-there');
  });

  it('getOriginalDst of a non-TCP fd is a NetsysError, not a crash', () => {
    const fd = openNetns(CURRENT_NETNS_PATH);
    expect(thrown(() => getOriginalDst(fd))).toMatchObject({ code: 'ENOTSOCK', syscall: 'getsockname' });
    closeFd(fd);
  });
});

describe('missing capabilities (child process with every capability dropped)', () => {
  let ns: TestNetns;
  beforeAll(() => {
    ns = fixture.create('caps');
  });

  // The child loads the addon directly (no TypeScript there) and reports the raw errno/syscall as JSON; the
  // mapping to NetsysError is the same callNative() tested above.
  function runWithoutCaps(body: string): { errno?: number; syscall?: string; ok?: boolean; caps?: string } {
    const script = `
      const m = { exports: {} };
      process.dlopen(m, ${JSON.stringify(ADDON_PATH)});
      const n = m.exports;
      const caps = require('fs').readFileSync('/proc/self/status', 'utf8').match(/CapEff:\\s*(\\S+)/)[1];
      try { ${body}; console.log(JSON.stringify({ ok: true, caps })); }
      catch (e) { console.log(JSON.stringify({ errno: e.errno, syscall: e.syscall, caps })); }
    `;
    const child = spawnSync(
      'setpriv',
      ['--inh-caps=-all', '--ambient-caps=-all', '--bounding-set=-all', '--', process.execPath, '-e', script],
      { encoding: 'utf8', timeout: 20_000 },
    );
    if (child.status !== 0) throw new Error(`child failed (${String(child.status)}): ${child.stderr}`);
    return JSON.parse(child.stdout.trim()) as { errno?: number; syscall?: string };
  }

  it('setns without CAP_SYS_ADMIN is EPERM with syscall setns', () => {
    const out = runWithoutCaps(
      `const fd = n.openNetns(${JSON.stringify(ns.path)}); n.createTcpListener(fd, 4, '127.0.0.1', 0, 16, 0, 0)`,
    );
    expect(out.caps).toBe('0000000000000000');
    expect(out).toMatchObject({ errno: constants.errno.EPERM, syscall: 'setns' });
    expect(new NetsysError(out.errno ?? 0, out.syscall ?? '').message).toContain('CAP_SYS_ADMIN');
  });

  it('SO_MARK without CAP_NET_ADMIN is EPERM with syscall setsockopt', () => {
    const out = runWithoutCaps(`n.createTcpSocket(-1, 4, 0x539, 64, '', 0)`);
    expect(out).toMatchObject({ errno: constants.errno.EPERM, syscall: 'setsockopt' });
  });
});
