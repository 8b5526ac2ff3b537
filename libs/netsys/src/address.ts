// Address parsing and formatting shared by the TCP wrappers. Pure: no I/O.
import { isIPv4, isIPv6 } from 'node:net';
import { InvalidOptionError } from './errors';

export type IpFamily = 4 | 6;

/** A socket address as returned by getOriginalDst/localAddress. IPv6 addresses are not bracketed. */
export interface SocketAddress {
  address: string;
  port: number;
  family: IpFamily;
}

/** The family of a literal IP address (brackets allowed for IPv6); throws InvalidOptionError naming `field`. */
export function parseIp(host: string, field: string): { address: string; family: IpFamily } {
  if (typeof host !== 'string' || host === '') throw new InvalidOptionError(field, 'expected an IP address literal');
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (isIPv4(bare)) return { address: bare, family: 4 };
  if (bare.includes('%')) throw new InvalidOptionError(field, `scoped IPv6 addresses are not supported: ${host}`);
  if (isIPv6(bare)) return { address: bare, family: 6 };
  throw new InvalidOptionError(field, `not an IP address literal (host names are not resolved): ${host}`);
}

/** Checks a TCP port; `allowZero` for binds, where 0 lets the kernel choose. */
export function parsePort(port: unknown, field: string, allowZero: boolean): number {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < (allowZero ? 0 : 1) || port > 65535) {
    throw new InvalidOptionError(field, `expected an integer in ${allowZero ? 0 : 1}..65535, got ${String(port)}`);
  }
  return port;
}

/** `1.2.3.4:80` or `[::1]:80`. */
export function formatSocketAddress(addr: { address: string; port: number }): string {
  return addr.address.includes(':') ? `[${addr.address}]:${addr.port}` : `${addr.address}:${addr.port}`;
}

/** Turns an IPv4-mapped IPv6 address (`::ffff:10.0.0.1`) into its IPv4 form; other addresses are unchanged. */
export function unmapIPv4(addr: SocketAddress): SocketAddress {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(addr.address);
  return m?.[1] !== undefined ? { address: m[1], port: addr.port, family: 4 } : addr;
}

/** Narrows the addon's family number. */
export function toFamily(family: number): IpFamily {
  if (family === 4 || family === 6) return family;
  throw new InvalidOptionError('family', `expected 4 or 6, got ${family}`);
}
