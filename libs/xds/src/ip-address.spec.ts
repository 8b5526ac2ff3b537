// IP text ⇄ wire bytes. Node's own formatter (`net.SocketAddress`, libuv `inet_ntop`) is the oracle for the
// canonical IPv6 text, since that is what sockets report and what decoded addresses are compared against.
import { SocketAddress } from 'node:net';
import { canonicalIpAddress, ipAddressFromBytes, ipAddressToBytes } from './ip-address';

function nodeCanonical(bytes: Uint8Array): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(Buffer.from(bytes.subarray(i, i + 2)).toString('hex'));
  return new SocketAddress({ address: groups.join(':'), family: 'ipv6' }).address;
}

/** Deterministic PRNG (mulberry32) so a failure reproduces. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('ipAddressToBytes / ipAddressFromBytes', () => {
  it.each([
    ['10.244.1.5', [10, 244, 1, 5]],
    ['0.0.0.0', [0, 0, 0, 0]],
    ['255.255.255.255', [255, 255, 255, 255]],
  ])('IPv4 %s is 4 bytes and formats back', (text, bytes) => {
    expect(Array.from(ipAddressToBytes(text) ?? [])).toEqual(bytes);
    expect(ipAddressFromBytes(Uint8Array.from(bytes))).toBe(text);
  });

  it.each([
    ['FD00:0:0:0:0:0:0:1', 'fd00::1'],
    ['2001:0db8::0001', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['1:0:1:1:1:1:1:1', '1:0:1:1:1:1:1:1'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['::1', '::1'],
    ['1::', '1::'],
    ['::ffff:10.0.0.1', '::ffff:10.0.0.1'],
    ['::FFFF:a00:1', '::ffff:10.0.0.1'],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
    // IPv4-compatible (deprecated) addresses: libuv prints the dotted quad, so Node does too.
    ['::1:2', '::0.1.0.2'],
  ])('IPv6 %s is canonically %s', (text, canonical) => {
    const bytes = ipAddressToBytes(text);
    expect(bytes?.length).toBe(16);
    expect(canonicalIpAddress(text)).toBe(canonical);
  });

  it('keeps IPv4-mapped IPv6 as 16 bytes instead of folding it to IPv4', () => {
    expect(ipAddressToBytes('::ffff:1.2.3.4')).toEqual(Buffer.from('00000000000000000000ffff01020304', 'hex'));
  });

  it('formats 16 random bytes exactly as Node does, and parses that text back to the same bytes', () => {
    const next = random(20240611);
    const pick = (): number => {
      const r = next();
      if (r < 0.5) return 0;
      if (r < 0.6) return 1;
      if (r < 0.7) return 0xffff;
      return Math.floor(next() * 0x10000);
    };
    const mismatches: string[] = [];
    for (let n = 0; n < 5000; n += 1) {
      const bytes = Buffer.alloc(16);
      for (let i = 0; i < 8; i += 1) bytes.writeUInt16BE(pick(), i * 2);
      const text = ipAddressFromBytes(bytes) ?? '';
      const back = ipAddressToBytes(text);
      if (text !== nodeCanonical(bytes) || back === undefined || !back.equals(bytes)) {
        mismatches.push(`${bytes.toString('hex')}: ours ${text}, node ${nodeCanonical(bytes)}`);
      }
    }
    expect(mismatches).toEqual([]);
  });

  it.each([0, 1, 3, 5, 15, 17, 32])('rejects %i bytes', (length) => {
    expect(ipAddressFromBytes(new Uint8Array(length))).toBeUndefined();
  });

  it.each(['', 'hello', '1.2.3', '256.1.1.1', '1.2.3.4.5', '1::2::3', '1:2:3:4:5:6:7:8:9', 'fe80::1%eth0', ' 1.2.3.4'])(
    'rejects text %j',
    (text) => {
      expect(ipAddressToBytes(text)).toBeUndefined();
      expect(canonicalIpAddress(text)).toBeUndefined();
    },
  );
});
