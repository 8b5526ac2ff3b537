import { canonicalizeIp, cidrContains, formatIpAddress, parseCidr, parseIpAddress, toCidrMatch } from './ip-address';

describe('IP parsing (Go net/netip rules istiod validates with)', () => {
  it.each([
    ['§6.5 IPv4 dotted quad parses', '10.1.2.3', '10.1.2.3'],
    ['§6.5 IPv6 compressed form is printed RFC 5952 style', '2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['§6.5 IPv6 all-zero address', '::', '::'],
    ['§6.5 IPv6 with embedded IPv4 keeps the mapped form', '::ffff:10.0.0.1', '::ffff:10.0.0.1'],
    ['§6.5 IPv6 longest zero run is compressed (first on tie)', '1:0:0:2:0:0:0:3', '1:0:0:2::3'],
    ['§6.5 IPv6 zone is accepted and dropped', 'fe80::1%eth0', 'fe80::1'],
  ])('%s', (_rule, text, printed) => {
    const ip = parseIpAddress(text);
    expect(ip).toBeDefined();
    expect(formatIpAddress(ip!)).toBe(printed);
  });

  it.each([
    ['§6.1 validation: leading zeros are not an IPv4 address', '010.0.0.1'],
    ['§6.1 validation: octet above 255', '10.0.0.256'],
    ['§6.1 validation: three octets', '10.0.1'],
    ['§6.1 validation: two "::" in IPv6', '1::2::3'],
    ['§6.1 validation: too many IPv6 groups', '1:2:3:4:5:6:7:8:9'],
    ['§6.1 validation: hostname is not an IP', 'httpbin.default'],
  ])('%s', (_rule, text) => {
    expect(parseIpAddress(text)).toBeUndefined();
  });
});

describe('CIDR containment (§6.5 "IPs use CIDR containment")', () => {
  it.each([
    ['§6.5 v4 /24 contains its first address', '10.0.1.0/24', '10.0.1.0', true],
    ['§6.5 v4 /24 contains its last address', '10.0.1.0/24', '10.0.1.255', true],
    ['§6.5 v4 /24 excludes the next address', '10.0.1.0/24', '10.0.2.0', false],
    ['§6.5 v4 /0 contains every IPv4 address', '0.0.0.0/0', '203.0.113.9', true],
    ['§6.5 v4 host bits in the prefix are ignored for containment', '10.0.1.77/24', '10.0.1.3', true],
    ['§6.7 an IP without "/" is a host-length prefix', '10.0.1.7', '10.0.1.7', true],
    ['§6.7 host-length prefix excludes the neighbour', '10.0.1.7', '10.0.1.8', false],
    ['§6.5 v6 /64 contains an address in it', '2001:db8:1::/64', '2001:db8:1::abcd', true],
    ['§6.5 v6 /64 excludes the next /64', '2001:db8:1::/64', '2001:db8:1:1::1', false],
    ['§6.5 v6 /128 is one address', 'fd00::1/128', 'fd00::1', true],
    ['§6.5 an IPv4 range never contains an IPv6 address', '0.0.0.0/0', '::1', false],
    ['§6.5 an IPv6 range never contains an IPv4 address', '::/0', '10.0.0.1', false],
  ])('%s', (_rule, cidr, ip, contained) => {
    const range = parseCidr(cidr);
    const address = parseIpAddress(ip);
    expect(range && address && cidrContains(range, address)).toBe(contained);
  });

  it.each([
    ['§6.1 validation: v4 prefix longer than 32 is not a CIDR', '10.0.0.0/33'],
    ['§6.1 validation: v6 prefix longer than 128 is not a CIDR', '::/129'],
    ['§6.1 validation: prefix length with a leading zero', '10.0.0.0/08'],
    ['§6.1 validation: zone not allowed in a prefix', 'fe80::1%eth0/64'],
  ])('%s', (_rule, text) => {
    expect(parseCidr(text)).toBeUndefined();
  });

  it('§6.7 istiod stringToIP keeps the address as written and drops what does not parse', () => {
    expect(toCidrMatch('10.0.1.77/24')).toEqual({ address: '10.0.1.77', prefixLength: 24 });
    expect(toCidrMatch('fd00::1')).toEqual({ address: 'fd00::1', prefixLength: 128 });
    expect(toCidrMatch('not-an-ip')).toBeUndefined();
    expect(toCidrMatch('')).toBeUndefined();
  });

  it('§6.5 ztunnel canonicalizes an IPv4-mapped peer address to IPv4', () => {
    const mapped = canonicalizeIp(parseIpAddress('::ffff:10.0.0.5')!);
    expect(mapped.family).toBe(4);
    expect(cidrContains(parseCidr('10.0.0.0/24')!, mapped)).toBe(true);
  });
});
