// IP text ⇄ bytes, canonical form and prefix containment, so that index keys do not depend on how an address was
// spelled and CIDR VIPs (recent `NetworkAddress.length`, reference §4.2) can be matched. No node:net: this is pure.

export type IpFamily = 4 | 6;

export interface ParsedIp {
  readonly family: IpFamily;
  /** 4 or 16 bytes, network order. */
  readonly bytes: Uint8Array;
}

const DECIMAL_OCTET = /^(0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** Parses dotted-quad IPv4 or RFC 4291 IPv6 text (no zone id); undefined when the text is not an IP. */
export function parseIp(text: string): ParsedIp | undefined {
  if (text.includes(':')) return parseIpv6(text);
  const bytes = parseIpv4(text);
  return bytes === undefined ? undefined : { family: 4, bytes };
}

/**
 * The canonical text of an IP, exactly as Node reports socket addresses (libuv's `inet_ntop6`, from BIND), so an
 * address read off a socket is already canonical: dotted quad for IPv4; for IPv6 lower-case hex without leading
 * zeros, the first longest run of two or more zero groups as `::` (RFC 5952), and a dotted quad for the last 32
 * bits when the address is IPv4-mapped (`::ffff:a.b.c.d`) or IPv4-compatible (`::a.b.c.d`).
 */
export function formatIp(ip: ParsedIp): string {
  const b = ip.bytes;
  if (ip.family === 4) return Array.from(b).join('.');
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i] ?? 0) << 8) | (b[i + 1] ?? 0));
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i += 1;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j += 1;
    // Strictly longer only, so the first of two equal runs wins (RFC 5952 §4.2.3); a single zero is not compressed.
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (bestStart === 0 && (bestLength === 6 || (bestLength === 5 && groups[5] === 0xffff))) {
    return `${bestLength === 6 ? '::' : '::ffff:'}${Array.from(b.subarray(12)).join('.')}`;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** Canonical text of `text`, or undefined when it is not an IP. */
export function canonicalIp(text: string): string | undefined {
  const ip = parseIp(text);
  return ip === undefined ? undefined : formatIp(ip);
}

/**
 * The xDS alias of an address, `<network>/<ip>` (reference §4.1), with the IP in canonical form so that the
 * store's address and VIP indexes match however a caller spells the address. Non-IP text is kept as given.
 */
export function networkAddressKey(network: string, address: string): string {
  return `${network}/${canonicalIp(address) ?? address}`;
}

/** Bit length of an address of this family: the prefix length of a single-host CIDR. */
export function hostPrefixLength(family: IpFamily): number {
  return family === 4 ? 32 : 128;
}

/** Whether `ip` lies in `prefix/length`; addresses of different families never match. */
export function prefixContains(prefix: ParsedIp, length: number, ip: ParsedIp): boolean {
  if (prefix.family !== ip.family || length < 0 || length > hostPrefixLength(prefix.family)) return false;
  const fullBytes = Math.floor(length / 8);
  for (let i = 0; i < fullBytes; i += 1) {
    if (prefix.bytes[i] !== ip.bytes[i]) return false;
  }
  const rest = length % 8;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((prefix.bytes[fullBytes] ?? 0) & mask) === ((ip.bytes[fullBytes] ?? 0) & mask);
}

function parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i += 1) {
    const part = parts[i] ?? '';
    // Leading zeros are rejected, as Rust's and Go's parsers do, because some libcs read them as octal.
    if (!DECIMAL_OCTET.test(part)) return undefined;
    const value = Number(part);
    if (value > 255) return undefined;
    bytes[i] = value;
  }
  return bytes;
}

function parseIpv6(text: string): ParsedIp | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = parseGroups(halves[0] ?? '', halves.length === 1);
  const tail = halves.length === 2 ? parseGroups(halves[1] ?? '', true) : [];
  if (head === undefined || tail === undefined) return undefined;
  const total = head.length + tail.length;
  // Without `::` all eight groups must be written; with it, `::` stands for at least one zero group.
  if (halves.length === 1 ? total !== 8 : total > 7) return undefined;
  const groups = [...head, ...new Array<number>(8 - total).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    bytes[2 * i] = g >> 8;
    bytes[2 * i + 1] = g & 0xff;
  });
  return { family: 6, bytes };
}

/** Hex groups of one side of `::`; a trailing dotted quad counts as two groups when allowed. */
function parseGroups(text: string, allowTrailingIpv4: boolean): number[] | undefined {
  if (text === '') return [];
  const parts = text.split(':');
  const groups: number[] = [];
  for (let i = 0; i < parts.length; i += 1) {
    const part = parts[i] ?? '';
    if (i === parts.length - 1 && allowTrailingIpv4 && part.includes('.')) {
      const v4 = parseIpv4(part);
      if (v4 === undefined) return undefined;
      groups.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
      continue;
    }
    if (!HEX_GROUP.test(part)) return undefined;
    groups.push(parseInt(part, 16));
  }
  return groups;
}

/**
 * An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) as the IPv4 address it carries; other addresses unchanged.
 * Dual-stack sockets report IPv4 peers in mapped form; ztunnel canonicalizes them before lookups and RBAC.
 */
export function unmapIpv4Mapped(ip: ParsedIp): ParsedIp {
  const b = ip.bytes;
  if (ip.family === 6 && b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) {
    return { family: 4, bytes: b.slice(12) };
  }
  return ip;
}
