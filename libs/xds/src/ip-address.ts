// IP text ⇄ the raw 4 or 16 bytes the wire carries (`Workload.addresses`, `NetworkAddress.address`,
// `security.Address.address`), on top of mesh-model's one IP parser and formatter, whose text form is the one
// Node reports for sockets, so addresses decoded from xDS compare equal to addresses seen on connections.

import { formatIp, parseIp } from '@weft/mesh-model';

const IPV4_BYTES = 4;
const IPV6_BYTES = 16;

/** Address bytes for IP text (any valid spelling, no zone id); undefined when the text is not an IP. */
export function ipAddressToBytes(text: string): Buffer | undefined {
  const ip = parseIp(text);
  return ip && Buffer.from(ip.bytes);
}

/**
 * Canonical text for wire bytes; undefined unless there are exactly 4 or 16 of them (ztunnel's `byte_to_ip`
 * rejects every other length, including 0).
 */
export function ipAddressFromBytes(bytes: Uint8Array): string | undefined {
  if (bytes.length === IPV4_BYTES) return formatIp({ family: 4, bytes });
  if (bytes.length === IPV6_BYTES) return formatIp({ family: 6, bytes });
  return undefined;
}

/** The canonical spelling of IP text (`FD00:0::1` → `fd00::1`); undefined when the text is not an IP. */
export function canonicalIpAddress(text: string): string | undefined {
  const bytes = ipAddressToBytes(text);
  return bytes && ipAddressFromBytes(bytes);
}

/** Bits in an address of this many bytes: the largest valid prefix length of a CIDR on it. */
export function addressBits(bytes: Uint8Array): number {
  return bytes.length * 8;
}
