import { InvalidOptionError, NetsysError } from './errors';
import { SocketFlag } from './native';
import { DEFAULT_BACKLOG, destinationArgs, listenerArgs, socketArgs, type TcpListenerOptions, type TcpSocketOptions } from './options';

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err: unknown) {
    if (err instanceof InvalidOptionError) return err.field;
    throw err;
  }
  return undefined;
}

describe('listenerArgs', () => {
  it('fills defaults: current netns, backlog 511, SO_REUSEADDR on, no mark', () => {
    expect(listenerArgs({ host: '0.0.0.0', port: 15001 })).toEqual({
      netnsFd: -1,
      family: 4,
      host: '0.0.0.0',
      port: 15001,
      backlog: DEFAULT_BACKLOG,
      mark: 0,
      flags: SocketFlag.reuseAddr,
    });
  });

  it('maps every option to its flag bit (ztunnel in-pod listener shape)', () => {
    const a = listenerArgs({
      netnsFd: 7,
      host: '[::]',
      port: 15008,
      mark: 1337,
      transparent: true,
      freebind: true,
      reusePort: true,
      reuseAddr: false,
      ipv6Only: false,
      backlog: 128,
    });
    expect(a).toMatchObject({ netnsFd: 7, family: 6, host: '::', backlog: 128, mark: 1337 });
    expect(a.flags).toBe(
      SocketFlag.markSet | SocketFlag.transparent | SocketFlag.freebind | SocketFlag.reusePort | SocketFlag.ipv6OnlySet,
    );
    expect(listenerArgs({ host: '::', port: 1, ipv6Only: true }).flags & SocketFlag.ipv6Only).toBe(SocketFlag.ipv6Only);
  });

  it('passes a mark above 2^31 as the same 32 bits', () => {
    expect(listenerArgs({ host: '::', port: 0, mark: 0xffffffff }).mark).toBe(-1);
  });

  it.each<[string, Partial<TcpListenerOptions>]>([
    ['host', { host: 'example.com' }],
    ['port', { port: 70000 }],
    ['backlog', { backlog: -1 }],
    ['mark', { mark: -5 }],
    ['mark', { mark: 2 ** 32 }],
    ['netnsFd', { netnsFd: 1.5 }],
    ['transparent', { transparent: 'yes' as unknown as boolean }],
    ['ipv6Only', { host: '10.0.0.1', ipv6Only: true }],
  ])('rejects a bad %s', (field, patch) => {
    expect(fieldOf(() => listenerArgs({ host: '::', port: 0, ...patch }))).toBe(field);
  });

  it('answers an explicit netnsFd of -1 as setns would: EBADF', () => {
    expect(() => listenerArgs({ host: '::', port: 0, netnsFd: -1 })).toThrow(NetsysError);
  });

  it('rejects a non-object', () => {
    expect(fieldOf(() => listenerArgs(null as unknown as TcpListenerOptions))).toBe('options');
  });
});

describe('socketArgs', () => {
  it('binds only when asked', () => {
    expect(socketArgs({ family: 4 })).toEqual({ netnsFd: -1, family: 4, mark: 0, flags: 0, bindHost: '', bindPort: 0 });
    expect(socketArgs({ family: 6, bindAddress: 'fd00::9', bindPort: 4000, transparent: true })).toMatchObject({
      bindHost: 'fd00::9',
      bindPort: 4000,
      flags: SocketFlag.transparent,
    });
  });

  it.each<[string, Partial<TcpSocketOptions>]>([
    ['family', { family: 5 as 4 }],
    ['bindAddress', { bindAddress: '::1' }],
    ['bindAddress', { bindAddress: 'nope' }],
    ['bindPort', { bindPort: -1 }],
    ['freebind', { freebind: 1 as unknown as boolean }],
  ])('rejects a bad %s', (field, patch) => {
    expect(fieldOf(() => socketArgs({ family: 4, ...patch }))).toBe(field);
  });
});

describe('destinationArgs', () => {
  it('requires a literal of the socket family and a non-zero port', () => {
    expect(destinationArgs('10.0.0.1', 80, 4)).toEqual({ host: '10.0.0.1', port: 80 });
    expect(fieldOf(() => destinationArgs('::1', 80, 4))).toBe('host');
    expect(fieldOf(() => destinationArgs('10.0.0.1', 0, 4))).toBe('port');
  });
});
