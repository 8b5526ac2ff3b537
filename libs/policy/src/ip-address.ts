// Addresses and CIDR ranges for authorization matching, on top of mesh-model's one IP parser. Parsing follows Go's
// net/netip where istiod validates and converts; containment follows ztunnel's `IpNet::contains` (an IPv4 range
// never contains an IPv6 address and vice versa).

import {
  formatIp,
  hostPrefixLength,
  parseIp,
  prefixContains,
  unmapIpv4Mapped,
  type CidrMatch,
  type ParsedIp,
} from '@weft/mesh-model';

export type IpAddress = ParsedIp;

/** A range ready for containment checks; `address` keeps the host bits as written (Go's `Prefix.Addr()`). */
export interface CompiledCidr {
  readonly address: IpAddress;
  readonly prefixLength: number;
}

/**
 * Parses an IPv4 or IPv6 address (no prefix); undefined when it is not one. A zone (`fe80::1%eth0`) is accepted
 * by netip.ParseAddr and dropped by istiod's conversion (AsSlice), so it is dropped here too.
 */
export function parseIpAddress(text: string): IpAddress | undefined {
  const zoneAt = text.indexOf('%');
  if (zoneAt < 0) return parseIp(text);
  if (zoneAt === text.length - 1) return undefined;
  const ip = parseIp(text.slice(0, zoneAt));
  return ip?.family === 6 ? ip : undefined;
}

/** IPv4-mapped IPv6 (`::ffff:a.b.c.d`) as IPv4, the way ztunnel canonicalizes socket addresses before RBAC. */
export const canonicalizeIp = unmapIpv4Mapped;

/** Canonical text (RFC 5952 for IPv6, including the dotted IPv4-mapped form). */
export const formatIpAddress = formatIp;

const PREFIX_LENGTH = /^(0|[1-9][0-9]*)$/;

/**
 * Parses an `ipBlocks`/`source.ip` value the way istiod does: with a `/` it is a prefix (netip.ParsePrefix: no
 * zone, length within the family, host bits allowed), otherwise an address taken as a host-length prefix.
 */
export function parseCidr(text: string): CompiledCidr | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) {
    const address = parseIpAddress(text);
    return address === undefined ? undefined : { address, prefixLength: hostPrefixLength(address.family) };
  }
  const addressText = text.slice(0, slash);
  const lengthText = text.slice(slash + 1);
  if (addressText.includes('%') || !PREFIX_LENGTH.test(lengthText)) return undefined;
  const address = parseIp(addressText);
  if (address === undefined) return undefined;
  const prefixLength = Number(lengthText);
  if (prefixLength > hostPrefixLength(address.family)) return undefined;
  return { address, prefixLength };
}

/** istiod's `stringToIP` for one value: the CidrMatch to send to ztunnel, or undefined (silently dropped). */
export function toCidrMatch(text: string): CidrMatch | undefined {
  if (text === '') return undefined;
  const cidr = parseCidr(text);
  if (cidr === undefined) return undefined;
  return { address: formatIp(cidr.address), prefixLength: cidr.prefixLength };
}

/** A CidrMatch from xDS made ready for matching; undefined when ztunnel would drop it as malformed. */
export function compileCidrMatch(match: CidrMatch): CompiledCidr | undefined {
  const address = parseIp(match.address);
  if (address === undefined) return undefined;
  if (!Number.isInteger(match.prefixLength) || match.prefixLength < 0) return undefined;
  if (match.prefixLength > hostPrefixLength(address.family)) return undefined;
  return { address, prefixLength: match.prefixLength };
}

/** CIDR containment; families never mix. */
export function cidrContains(cidr: CompiledCidr, ip: IpAddress): boolean {
  return prefixContains(cidr.address, cidr.prefixLength, ip);
}

export function formatCidr(cidr: CompiledCidr): string {
  return `${formatIp(cidr.address)}/${cidr.prefixLength}`;
}
