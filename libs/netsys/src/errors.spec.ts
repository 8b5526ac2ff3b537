import net from 'node:net';
import { callNative, errnoName, InvalidOptionError, NetsysError } from './errors';
import { NetsysNotBuiltError } from './native';
import { socketFd } from './tcp';

describe('NetsysError', () => {
  it('carries errno, code and syscall, with an operator hint where one helps', () => {
    const err = new NetsysError(1, 'setns', '/run/netns/x');
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ name: 'NetsysError', errno: 1, code: 'EPERM', syscall: 'setns' });
    expect(err.message).toBe('setns failed: EPERM (/run/netns/x) — entering another network namespace needs CAP_SYS_ADMIN');
  });

  it('names errno values, falling back to E<number>', () => {
    expect(errnoName(9)).toBe('EBADF');
    expect(errnoName(115)).toBe('EINPROGRESS');
    expect(errnoName(99999)).toBe('E99999');
  });
});

describe('callNative', () => {
  it('turns an errno-carrying error (from any realm) into NetsysError', () => {
    const fromAddon = Object.assign(new Error('bind: Address in use'), { errno: 98, syscall: 'bind' });
    expect(() =>
      callNative(() => {
        throw fromAddon;
      }, '10.0.0.1:80'),
    ).toThrow(expect.objectContaining({ name: 'NetsysError', code: 'EADDRINUSE', syscall: 'bind' }));
  });

  it('passes other errors and results through', () => {
    const other = new TypeError('boom');
    expect(() =>
      callNative(() => {
        throw other;
      }),
    ).toThrow(other);
    expect(callNative(() => 42)).toBe(42);
  });
});

describe('NetsysNotBuiltError', () => {
  it('says how to build the addon', () => {
    const err = new NetsysNotBuiltError('/x/build/Release/netsys.node');
    expect(err.code).toBe('ERR_NETSYS_NOT_BUILT');
    expect(err.message).toContain('npx nx run netsys:build');
    expect(err.message).toContain('bash tools/setup.sh');
  });
});

describe('socketFd', () => {
  it('reads the fd of a live socket and refuses a socket without one', async () => {
    const server = net.createServer((s) => s.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    expect(socketFd(server)).toBeGreaterThan(2);
    const client = new net.Socket();
    expect(() => socketFd(client)).toThrow(InvalidOptionError);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    expect(() => socketFd(server)).toThrow(expect.objectContaining({ field: 'socket' }));
  });
});
