// Socket addresses as the HBONE code reports them: unbracketed IPs, IPv4-mapped IPv6 turned back into IPv4 (a
// dual-stack listener sees `::ffff:10.0.0.1` for an IPv4 peer, but workloads are looked up by `10.0.0.1`).

import type { AddressInfo, Socket } from 'node:net';

export interface SocketAddress {
  readonly address: string;
  readonly port: number;
  readonly family: 4 | 6;
}

const MAPPED_V4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

export function toSocketAddress(address: string | undefined, port: number | undefined): SocketAddress | undefined {
  if (address === undefined || port === undefined) return undefined;
  const mapped = MAPPED_V4.exec(address)?.[1];
  if (mapped !== undefined) return { address: mapped, port, family: 4 };
  return { address, port, family: address.includes(':') ? 6 : 4 };
}

export function localAddressOf(socket: Socket): SocketAddress | undefined {
  return toSocketAddress(socket.localAddress, socket.localPort);
}

export function remoteAddressOf(socket: Socket): SocketAddress | undefined {
  return toSocketAddress(socket.remoteAddress, socket.remotePort);
}

export function fromAddressInfo(info: AddressInfo | string | null): SocketAddress | undefined {
  if (info === null || typeof info === 'string') return undefined;
  return toSocketAddress(info.address, info.port);
}
