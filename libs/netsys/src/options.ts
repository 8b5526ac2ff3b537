// Validation of the TCP socket options, turning them into the addon's positional arguments. Pure: every problem
// is an InvalidOptionError naming the field, raised before any system call.
import { type IpFamily, parseIp, parsePort } from './address';
import { errnoValue, InvalidOptionError, NetsysError } from './errors';
import { SocketFlag } from './native';

/** Options every TCP socket made by netsys accepts. */
export interface SocketCommonOptions {
  /** A netns fd from openNetns(); the socket is created inside that namespace. Omit for the current one. */
  netnsFd?: number;
  /** SO_MARK (0..0xffffffff); needs CAP_NET_ADMIN. Weft marks its own sockets 0x539 like ztunnel. */
  mark?: number;
  /** IP_TRANSPARENT / IPV6_TRANSPARENT: bind non-local addresses (spoof a source); needs CAP_NET_ADMIN. */
  transparent?: boolean;
  /** IP_FREEBIND / IPV6_FREEBIND: bind an address not (yet) configured. */
  freebind?: boolean;
}

export interface TcpListenerOptions extends SocketCommonOptions {
  /** Literal IP to bind (`0.0.0.0`, `::`, `10.0.0.5`); host names are not resolved. */
  host: string;
  /** 0 lets the kernel choose; read it back with localAddress(fd) or server.address(). */
  port: number;
  /** listen() backlog; default 511 like Node. */
  backlog?: number;
  reusePort?: boolean;
  /** SO_REUSEADDR; default true like Node's listeners. */
  reuseAddr?: boolean;
  /** IPV6_V6ONLY for an IPv6 host; default: the kernel's (dual-stack unless net.ipv6.bindv6only=1). */
  ipv6Only?: boolean;
}

export interface TcpSocketOptions extends SocketCommonOptions {
  family: IpFamily;
  /** Source address to bind; with `transparent` it may be any address (source spoofing). */
  bindAddress?: string;
  /** Source port to bind; 0 or absent lets the kernel choose. */
  bindPort?: number;
}

export interface ListenerArgs {
  netnsFd: number;
  family: IpFamily;
  host: string;
  port: number;
  backlog: number;
  mark: number;
  flags: number;
}

export interface SocketArgs {
  netnsFd: number;
  family: IpFamily;
  mark: number;
  flags: number;
  bindHost: string;
  bindPort: number;
}

export const DEFAULT_BACKLOG = 511;

function checkObject(opts: unknown): asserts opts is Record<string, unknown> {
  if (typeof opts !== 'object' || opts === null) throw new InvalidOptionError('options', 'expected an object');
}

export function checkFd(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < -1 || value > 0x7fffffff) {
    throw new InvalidOptionError(field, `expected a file descriptor (integer), got ${String(value)}`);
  }
  return value;
}

function checkBool(value: unknown, field: string): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  throw new InvalidOptionError(field, `expected a boolean, got ${typeof value}`);
}

function commonArgs(opts: SocketCommonOptions): { netnsFd: number; mark: number; flags: number } {
  const netnsFd = opts.netnsFd === undefined ? -1 : checkFd(opts.netnsFd, 'netnsFd');
  // -1 means "stay here" to the addon, so an explicit -1 gets the answer setns(-1) would give.
  if (opts.netnsFd !== undefined && netnsFd < 0) throw new NetsysError(errnoValue('EBADF'), 'setns');
  let flags = 0;
  let mark = 0;
  if (opts.mark !== undefined) {
    if (typeof opts.mark !== 'number' || !Number.isInteger(opts.mark) || opts.mark < 0 || opts.mark > 0xffffffff) {
      throw new InvalidOptionError('mark', `expected an integer in 0..0xffffffff, got ${String(opts.mark)}`);
    }
    mark = opts.mark | 0; // the same 32 bits as an int32 for the addon
    flags |= SocketFlag.markSet;
  }
  if (checkBool(opts.transparent, 'transparent')) flags |= SocketFlag.transparent;
  if (checkBool(opts.freebind, 'freebind')) flags |= SocketFlag.freebind;
  return { netnsFd, mark, flags };
}

export function listenerArgs(opts: TcpListenerOptions): ListenerArgs {
  checkObject(opts);
  const { address, family } = parseIp(opts.host, 'host');
  const port = parsePort(opts.port, 'port', true);
  const backlog = opts.backlog ?? DEFAULT_BACKLOG;
  if (!Number.isInteger(backlog) || backlog < 0 || backlog > 65535) {
    throw new InvalidOptionError('backlog', `expected an integer in 0..65535, got ${String(backlog)}`);
  }
  const common = commonArgs(opts);
  let flags = common.flags;
  if (checkBool(opts.reusePort, 'reusePort')) flags |= SocketFlag.reusePort;
  if (checkBool(opts.reuseAddr, 'reuseAddr') ?? true) flags |= SocketFlag.reuseAddr;
  const ipv6Only = checkBool(opts.ipv6Only, 'ipv6Only');
  if (ipv6Only !== undefined) {
    if (family !== 6) throw new InvalidOptionError('ipv6Only', 'only applies to an IPv6 host');
    flags |= SocketFlag.ipv6OnlySet | (ipv6Only ? SocketFlag.ipv6Only : 0);
  }
  return { netnsFd: common.netnsFd, family, host: address, port, backlog, mark: common.mark, flags };
}

export function socketArgs(opts: TcpSocketOptions): SocketArgs {
  checkObject(opts);
  if (opts.family !== 4 && opts.family !== 6) {
    throw new InvalidOptionError('family', `expected 4 or 6, got ${String(opts.family)}`);
  }
  const family = opts.family;
  let bindHost = '';
  if (opts.bindAddress !== undefined) {
    const parsed = parseIp(opts.bindAddress, 'bindAddress');
    if (parsed.family !== family) {
      throw new InvalidOptionError('bindAddress', `is IPv${parsed.family} but family is ${family}`);
    }
    bindHost = parsed.address;
  }
  const bindPort = opts.bindPort === undefined ? 0 : parsePort(opts.bindPort, 'bindPort', true);
  return { ...commonArgs(opts), family, bindHost, bindPort };
}

/** Checks a connect destination against the socket's family. */
export function destinationArgs(host: string, port: number, family: IpFamily): { host: string; port: number } {
  const parsed = parseIp(host, 'host');
  if (parsed.family !== family) throw new InvalidOptionError('host', `is IPv${parsed.family} but family is ${family}`);
  return { host: parsed.address, port: parsePort(port, 'port', false) };
}
