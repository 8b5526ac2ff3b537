import { canonicalIp, formatIp, networkAddressKey, parseIp, prefixContains, unmapIpv4Mapped } from './ip-address';

describe('canonicalIp', () => {
  it.each<[string, string | undefined]>([
    ['10.0.0.1', '10.0.0.1'],
    ['255.255.255.255', '255.255.255.255'],
    ['0.0.0.0', '0.0.0.0'],
    ['fd00::1', 'fd00::1'],
    ['FD00:0:0:0:0:0:0:1', 'fd00::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:0db8:0000:0000:0000:ff00:0042:8329', '2001:db8::ff00:42:8329'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['::', '::'],
    ['::1', '::1'],
    ['1::', '1::'],
    ['::ffff:10.0.0.1', '::ffff:10.0.0.1'],
    ['::ffff:a00:1', '::ffff:10.0.0.1'],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
    ['10.0.0.256', undefined],
    ['10.0.0', undefined],
    ['10.0.0.01', undefined],
    ['1.2.3.4.5', undefined],
    ['fd00::1::2', undefined],
    ['1:2:3:4:5:6:7:8:9', undefined],
    ['1:2:3:4:5:6:7::8', undefined],
    ['12345::1', undefined],
    ['fe80::1%eth0', undefined],
    [':1', undefined],
    ['', undefined],
    ['localhost', undefined],
  ])('%s → %s', (text, expected) => {
    expect(canonicalIp(text)).toBe(expected);
  });
});

describe('networkAddressKey', () => {
  it('joins network and canonical IP like the xDS alias, keeping non-IP text as given', () => {
    expect(networkAddressKey('net-1', 'FD00::0001')).toBe('net-1/fd00::1');
    expect(networkAddressKey('', '10.0.0.1')).toBe('/10.0.0.1');
    expect(networkAddressKey('', 'not-an-ip')).toBe('/not-an-ip');
  });
});

describe('prefixContains', () => {
  const contains = (prefix: string, length: number, ip: string): boolean => {
    const p = parseIp(prefix);
    const a = parseIp(ip);
    if (p === undefined || a === undefined) throw new Error(`bad fixture ${prefix} ${ip}`);
    return prefixContains(p, length, a);
  };

  it.each<[string, number, string, boolean]>([
    ['10.0.0.0', 24, '10.0.0.255', true],
    ['10.0.0.0', 24, '10.0.1.0', false],
    ['10.0.0.0', 20, '10.0.15.1', true],
    ['10.0.0.0', 20, '10.0.16.1', false],
    ['10.0.0.7', 32, '10.0.0.7', true],
    ['10.0.0.7', 32, '10.0.0.6', false],
    ['0.0.0.0', 0, '192.168.1.1', true],
    ['fd00::', 112, 'fd00::ffff', true],
    ['fd00::', 112, 'fd00::1:0', false],
    ['fd00::', 8, '10.0.0.1', false],
    ['10.0.0.0', 33, '10.0.0.1', false],
  ])('%s/%d contains %s: %s', (prefix, length, ip, expected) => {
    expect(contains(prefix, length, ip)).toBe(expected);
  });
});

describe('formatIp follows Node socket addresses (libuv inet_ntop6)', () => {
  it.each([
    ['::102:304', '::1.2.3.4'],
    ['::ffff:102:304', '::ffff:1.2.3.4'],
    ['::1', '::1'],
    ['::', '::'],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
  ])('%s is written %s', (input, expected) => {
    expect(canonicalIp(input)).toBe(expected);
  });
});

describe('unmapIpv4Mapped', () => {
  it('turns ::ffff:a.b.c.d into the IPv4 address and leaves other addresses alone', () => {
    const mapped = parseIp('::ffff:10.1.2.3');
    const plain = parseIp('fd00::1');
    if (mapped === undefined || plain === undefined) throw new Error('test addresses must parse');
    expect(formatIp(unmapIpv4Mapped(mapped))).toBe('10.1.2.3');
    expect(unmapIpv4Mapped(mapped).family).toBe(4);
    expect(unmapIpv4Mapped(plain)).toBe(plain);
  });
});
