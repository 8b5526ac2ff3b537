// IP text ⇄ the raw 4 or 16 bytes the wire carries (`Workload.addresses`, `NetworkAddress.address`,
// `security.Address.address`). The text side is Node's canonical form, the one `socket.remoteAddress` reports, so
// addresses decoded from xDS compare equal to addresses seen on connections.

import { isIP } from 'node:net';

const IPV4_BYTES = 4;
const IPV6_BYTES = 16;

/** Address bytes for IP text (any valid spelling, no zone id); undefined when the text is not an IP. */
export function ipAddressToBytes(text: string): Buffer | undefined {
  switch (isIP(text)) {
    case 4: {
      const octets = parseDottedQuad(text);
      return octets && Buffer.from(octets);
    }
    case 6:
      // A zone id (`fe80::1%eth0`) has no place in the 16 wire bytes.
      return text.includes('%') ? undefined : parseIpv6(text);
    default:
      return undefined;
  }
}

/**
 * Canonical text for wire bytes; undefined unless there are exactly 4 or 16 of them (ztunnel's `byte_to_ip`
 * rejects every other length, including 0).
 */
export function ipAddressFromBytes(bytes: Uint8Array): string | undefined {
  if (bytes.length === IPV4_BYTES) return Array.from(bytes).join('.');
  if (bytes.length === IPV6_BYTES) return formatIpv6(bytes);
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

function parseDottedQuad(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const octets: number[] = [];
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    octets.push(octet);
  }
  return octets;
}

/** RFC 4291 §2.2 text: up to eight hex groups, one `::`, optionally a dotted quad as the last 32 bits. */
function parseIpv6(text: string): Buffer | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const compressed = halves.length === 2;
  const head = parseGroups(halves[0] ?? '', !compressed);
  const tail = compressed ? parseGroups(halves[1] ?? '', true) : [];
  if (head === undefined || tail === undefined) return undefined;
  const missing = 8 - head.length - tail.length;
  if (compressed ? missing < 1 : missing !== 0) return undefined;
  const words = [...head, ...new Array<number>(missing).fill(0), ...tail];
  const bytes = Buffer.alloc(IPV6_BYTES);
  words.forEach((word, i) => bytes.writeUInt16BE(word, i * 2));
  return bytes;
}

function parseGroups(text: string, mayEndInIpv4: boolean): number[] | undefined {
  if (text === '') return [];
  const groups = text.split(':');
  const words: number[] = [];
  for (const [i, group] of groups.entries()) {
    if (mayEndInIpv4 && i === groups.length - 1 && group.includes('.')) {
      const octets = parseDottedQuad(group);
      if (octets === undefined) return undefined;
      const [a = 0, b = 0, c = 0, d = 0] = octets;
      words.push((a << 8) | b, (c << 8) | d);
    } else if (/^[0-9a-fA-F]{1,4}$/.test(group)) {
      words.push(parseInt(group, 16));
    } else {
      return undefined;
    }
  }
  return words;
}

/**
 * libuv's `inet_ntop6` (from BIND), which Node uses for socket addresses: lower-case hex without leading zeros, the
 * first longest run of two or more zero groups as `::`, and a dotted quad for the last 32 bits when the address is
 * IPv4-mapped (`::ffff:a.b.c.d`) or IPv4-compatible (`::a.b.c.d`, first six groups zero, seventh not).
 */
function formatIpv6(bytes: Uint8Array): string {
  const words: number[] = [];
  for (let i = 0; i < IPV6_BYTES; i += 2) words.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));

  let bestStart = -1;
  let bestLength = 0;
  let runStart = -1;
  for (const [i, word] of words.entries()) {
    if (word !== 0) {
      runStart = -1;
      continue;
    }
    if (runStart < 0) runStart = i;
    // Strictly longer only, so the first of two equal runs wins (RFC 5952 §4.2.3).
    if (i - runStart + 1 > bestLength) {
      bestStart = runStart;
      bestLength = i - runStart + 1;
    }
  }
  // RFC 5952 §4.2.2: a single zero group is not compressed.
  if (bestLength < 2) bestStart = -1;

  if (bestStart === 0 && (bestLength === 6 || (bestLength === 5 && words[5] === 0xffff))) {
    const prefix = bestLength === 6 ? '::' : '::ffff:';
    return prefix + Array.from(bytes.subarray(12)).join('.');
  }
  const hex = (ws: number[]): string => ws.map((w) => w.toString(16)).join(':');
  if (bestStart < 0) return hex(words);
  return `${hex(words.slice(0, bestStart))}::${hex(words.slice(bestStart + bestLength))}`;
}
