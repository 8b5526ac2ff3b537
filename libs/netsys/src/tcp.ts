// TCP sockets Node cannot make itself (in another netns, marked, transparent), handed to Node as fds, plus
// SO_ORIGINAL_DST. Every fd returned is non-blocking and close-on-exec.
import net from 'node:net';
import { type IpFamily, type SocketAddress, formatSocketAddress, parseIp, parsePort, toFamily } from './address';
import { callNative, errnoValue, InvalidOptionError, NetsysError } from './errors';
import { native, type NativeAddress, type NativePoller } from './native';
import { closeFd } from './netns';
import { checkFd, destinationArgs, listenerArgs, socketArgs, type TcpListenerOptions, type TcpSocketOptions } from './options';

export interface ConnectFromOptions extends TcpSocketOptions {
  host: string;
  port: number;
  /** Fail with NetsysError ETIMEDOUT (syscall 'connect') if not connected in time; default: the kernel's. */
  timeoutMs?: number;
}

function toAddress(raw: NativeAddress): SocketAddress {
  return { address: raw.address, port: raw.port, family: toFamily(raw.family) };
}

/**
 * socket + setsockopt + bind + listen, inside `netnsFd` when given (setns there and back on this thread). Returns
 * the listening fd for `net.createServer().listen({ fd })`, which then owns it.
 * Needs CAP_SYS_ADMIN with netnsFd, CAP_NET_ADMIN with mark/transparent.
 */
export function createTcpListener(opts: TcpListenerOptions): number {
  const a = listenerArgs(opts);
  return callNative(
    () => native().createTcpListener(a.netnsFd, a.family, a.host, a.port, a.backlog, a.mark, a.flags),
    formatSocketAddress({ address: a.host, port: a.port }),
  );
}

/** An unconnected TCP socket (optionally bound to a source address), inside `netnsFd` when given. */
export function createTcpSocket(opts: TcpSocketOptions): number {
  const a = socketArgs(opts);
  return callNative(
    () => native().createTcpSocket(a.netnsFd, a.family, a.mark, a.flags, a.bindHost, a.bindPort),
    a.bindHost === '' ? undefined : formatSocketAddress({ address: a.bindHost, port: a.bindPort }),
  );
}

/**
 * Non-blocking connect(2): true if already connected, false if in progress (EINPROGRESS). Completion shows as
 * writability; then socketError() tells success (0) from failure. connectFrom() does all of this.
 */
export function connectTcp(fd: number, host: string, port: number): boolean {
  const checked = checkFd(fd, 'fd');
  const dest = parseIp(host, 'host');
  const p = parsePort(port, 'port', false);
  return callNative(() => native().connectTcp(checked, dest.family, dest.address, p), formatSocketAddress({ address: dest.address, port: p }));
}

/** getsockopt(SO_ERROR): the pending error (0 = none), cleared by reading it. */
export function socketError(fd: number): number {
  const checked = checkFd(fd, 'fd');
  return callNative(() => native().socketError(checked));
}

/**
 * Creates a socket with `opts`, connects it to host:port and resolves with a connected net.Socket that owns the
 * fd. Completion is detected without blocking: a libuv poll on the fd waits for writability, then SO_ERROR says
 * whether the connect succeeded. The poll is closed before Node wraps the fd, so only one watcher ever exists.
 */
export function connectFrom(opts: ConnectFromOptions): Promise<net.Socket> {
  const a = socketArgs(opts);
  const dest = destinationArgs(opts.host, opts.port, a.family);
  const timeoutMs = opts.timeoutMs;
  if (timeoutMs !== undefined && (!Number.isFinite(timeoutMs) || timeoutMs <= 0)) {
    throw new InvalidOptionError('timeoutMs', `expected a positive number, got ${String(timeoutMs)}`);
  }
  const where = formatSocketAddress({ address: dest.host, port: dest.port });
  const n = native();
  const fd = createTcpSocket(opts);
  let connected: boolean;
  try {
    connected = callNative(() => n.connectTcp(fd, a.family, dest.host, dest.port), where);
  } catch (err: unknown) {
    closeFd(fd);
    throw err;
  }
  if (connected) return Promise.resolve(wrapConnected(fd));
  return new Promise<net.Socket>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let poller: NativePoller | undefined;
    const fail = (err: Error): void => {
      closeFd(fd);
      reject(err);
    };
    const makePoller = () =>
      new n.Poller(fd, (errno) => {
        poller?.close();
        if (timer !== undefined) clearTimeout(timer);
        // libuv reports POLLERR as EBADF, so the socket's own SO_ERROR is the truth; errno is the fallback.
        let soError: number;
        try {
          soError = callNative(() => n.socketError(fd)) || errno;
        } catch (err: unknown) {
          fail(err instanceof Error ? err : new NetsysError(errnoValue('EIO'), 'getsockopt'));
          return;
        }
        if (soError !== 0) {
          fail(new NetsysError(soError, 'connect', where));
          return;
        }
        resolve(wrapConnected(fd));
      });
    try {
      poller = callNative(makePoller);
      poller.start(n.pollEvents.WRITABLE);
    } catch (err: unknown) {
      poller?.close();
      fail(err instanceof Error ? err : new NetsysError(errnoValue('EIO'), 'uv_poll_start'));
      return;
    }
    if (timeoutMs !== undefined) {
      timer = setTimeout(() => {
        poller?.close();
        fail(new NetsysError(errnoValue('ETIMEDOUT'), 'connect', `${where} after ${timeoutMs} ms`));
      }, timeoutMs);
    }
  });
}

function wrapConnected(fd: number): net.Socket {
  return new net.Socket({ fd, readable: true, writable: true });
}

/**
 * The destination a connection had before iptables REDIRECT/DNAT (getsockopt SO_ORIGINAL_DST, or
 * IP6T_SO_ORIGINAL_DST for IPv6). An IPv4 connection accepted on a dual-stack [::] listener reports family 4.
 * Throws NetsysError ENOENT when conntrack has no entry (the connection was not NATed and not tracked).
 */
export function getOriginalDst(fd: number): SocketAddress {
  const checked = checkFd(fd, 'fd');
  return toAddress(callNative(() => native().getOriginalDst(checked)));
}

/** getsockname(2) of a TCP socket. */
export function localAddress(fd: number): SocketAddress {
  const checked = checkFd(fd, 'fd');
  return toAddress(callNative(() => native().localAddress(checked)));
}

/** getpeername(2) of a TCP socket. */
export function peerAddress(fd: number): SocketAddress {
  const checked = checkFd(fd, 'fd');
  return toAddress(callNative(() => native().peerAddress(checked)));
}

/**
 * The fd under a net.Socket or net.Server (Node's private `_handle.fd`), read without `any`. Throws
 * InvalidOptionError when there is none (closed, not yet connected, or not fd-backed). The fd stays owned by the
 * socket: do not close it.
 */
export function socketFd(socket: net.Socket | net.Server): number {
  const holder: unknown = socket;
  if (typeof holder === 'object' && holder !== null && '_handle' in holder) {
    const handle: unknown = holder._handle;
    if (typeof handle === 'object' && handle !== null && 'fd' in handle) {
      const fd: unknown = handle.fd;
      if (typeof fd === 'number' && Number.isInteger(fd) && fd >= 0) return fd;
    }
  }
  throw new InvalidOptionError('socket', 'has no open file descriptor (closed, connecting, or not fd-backed)');
}

export type { IpFamily };
