// IP addresses and CIDR ranges for authorization matching, parsed by hand because pure libraries may not import
// node:net. Parsing follows Go's net/netip (what istiod validates and converts with); containment follows ztunnel's
// `IpNet::contains` (an IPv4 range never contains an IPv6 address and vice versa).

import type { CidrMatch } from '@weft/mesh-model';

/** An address as a number of `bits` (32 or 128) width. */
export interface IpAddress {
  readonly family: 4 | 6;
  readonly value: bigint;
}

/** A range ready for containment checks; `address` keeps the host bits as written (Go's `Prefix.Addr()`). */
export interface CompiledCidr {
  readonly address: IpAddress;
  readonly prefixLength: number;
}

const IPV4_PART = /^(0|[1-9][0-9]{0,2})$/;
const IPV6_GROUP = /^[0-9a-fA-F]{1,4}$/;

function bitsOf(family: 4 | 6): number {
  return family === 4 ? 32 : 128;
}

function parseIpv4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    // netip rejects leading zeros ("010.0.0.1") because they read as octal elsewhere.
    if (!IPV4_PART.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = (value << 8n) | BigInt(octet);
  }
  return value;
}

function parseIpv6Groups(text: string, allowIpv4Tail: boolean): number[] | undefined {
  if (text === '') return [];
  const groups: number[] = [];
  const pieces = text.split(':');
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i] ?? '';
    if (allowIpv4Tail && i === pieces.length - 1 && piece.includes('.')) {
      // An embedded IPv4 tail ("::ffff:10.0.0.1") fills the last two groups.
      const v4 = parseIpv4(piece);
      if (v4 === undefined) return undefined;
      groups.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
      continue;
    }
    if (!IPV6_GROUP.test(piece)) return undefined;
    groups.push(parseInt(piece, 16));
  }
  return groups;
}

function parseIpv6(text: string): bigint | undefined {
  // A zone ("fe80::1%eth0") is accepted by netip.ParseAddr and dropped by istiod's conversion (AsSlice).
  const zoneAt = text.indexOf('%');
  const bare = zoneAt >= 0 ? text.slice(0, zoneAt) : text;
  if (zoneAt >= 0 && zoneAt === text.length - 1) return undefined;
  const halves = bare.split('::');
  if (halves.length > 2) return undefined;
  const head = parseIpv6Groups(halves[0] ?? '', halves.length === 1);
  const tail = halves.length === 2 ? parseIpv6Groups(halves[1] ?? '', true) : [];
  if (head === undefined || tail === undefined) return undefined;
  let groups: number[];
  if (halves.length === 2) {
    const missing = 8 - head.length - tail.length;
    // "::" stands for at least one zero group.
    if (missing < 1) return undefined;
    groups = [...head, ...new Array<number>(missing).fill(0), ...tail];
  } else {
    groups = head;
  }
  if (groups.length !== 8) return undefined;
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

/** Parses an IPv4 or IPv6 address (no prefix); undefined when it is not one. */
export function parseIpAddress(text: string): IpAddress | undefined {
  if (text.includes(':')) {
    const value = parseIpv6(text);
    return value === undefined ? undefined : { family: 6, value };
  }
  const value = parseIpv4(text);
  return value === undefined ? undefined : { family: 4, value };
}

/** IPv4-mapped IPv6 (`::ffff:a.b.c.d`) as IPv4, the way ztunnel canonicalizes socket addresses before RBAC. */
export function canonicalizeIp(ip: IpAddress): IpAddress {
  if (ip.family === 6 && ip.value >> 32n === 0xffffn) {
    return { family: 4, value: ip.value & 0xffffffffn };
  }
  return ip;
}

function formatIpv4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.');
}

/** Canonical text (RFC 5952 for IPv6, as Go prints it, including the dotted IPv4-mapped form). */
export function formatIpAddress(ip: IpAddress): string {
  if (ip.family === 4) return formatIpv4(ip.value);
  if (ip.value >> 32n === 0xffffn) return `::ffff:${formatIpv4(ip.value & 0xffffffffn)}`;
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((ip.value >> BigInt(i * 16)) & 0xffffn));
  // Compress the longest run of two or more zero groups (the first one on a tie).
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

const PREFIX_LENGTH = /^(0|[1-9][0-9]*)$/;

/**
 * Parses an `ipBlocks`/`source.ip` value the way istiod does: with a `/` it is a prefix (netip.ParsePrefix: no
 * zone, length within the family, host bits allowed), otherwise an address taken as a host-length prefix.
 */
export function parseCidr(text: string): CompiledCidr | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) {
    const address = parseIpAddress(text);
    return address === undefined ? undefined : { address, prefixLength: bitsOf(address.family) };
  }
  const addressText = text.slice(0, slash);
  const lengthText = text.slice(slash + 1);
  if (addressText.includes('%') || !PREFIX_LENGTH.test(lengthText)) return undefined;
  const address = parseIpAddress(addressText);
  if (address === undefined) return undefined;
  const prefixLength = Number(lengthText);
  if (prefixLength > bitsOf(address.family)) return undefined;
  return { address, prefixLength };
}

/** istiod's `stringToIP` for one value: the CidrMatch to send to ztunnel, or undefined (silently dropped). */
export function toCidrMatch(text: string): CidrMatch | undefined {
  if (text === '') return undefined;
  const cidr = parseCidr(text);
  if (cidr === undefined) return undefined;
  return { address: formatIpAddress(cidr.address), prefixLength: cidr.prefixLength };
}

/** A CidrMatch from xDS made ready for matching; undefined when ztunnel would drop it as malformed. */
export function compileCidrMatch(match: CidrMatch): CompiledCidr | undefined {
  const address = parseIpAddress(match.address);
  if (address === undefined) return undefined;
  if (!Number.isInteger(match.prefixLength) || match.prefixLength < 0) return undefined;
  if (match.prefixLength > bitsOf(address.family)) return undefined;
  return { address, prefixLength: match.prefixLength };
}

/** CIDR containment; families never mix. */
export function cidrContains(cidr: CompiledCidr, ip: IpAddress): boolean {
  if (cidr.address.family !== ip.family) return false;
  const shift = BigInt(bitsOf(ip.family) - cidr.prefixLength);
  return cidr.address.value >> shift === ip.value >> shift;
}

export function formatCidr(cidr: CompiledCidr): string {
  return `${formatIpAddress(cidr.address)}/${cidr.prefixLength}`;
}
