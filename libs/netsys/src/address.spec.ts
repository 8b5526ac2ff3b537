import { formatSocketAddress, parseIp, parsePort, toFamily, unmapIPv4 } from './address';
import { InvalidOptionError } from './errors';

describe('parseIp', () => {
  it.each([
    ['10.0.0.1', '10.0.0.1', 4],
    ['0.0.0.0', '0.0.0.0', 4],
    ['::', '::', 6],
    ['::1', '::1', 6],
    ['[fd00::5]', 'fd00::5', 6],
    ['::ffff:10.0.0.1', '::ffff:10.0.0.1', 6],
  ])('%s → %s (IPv%s)', (input, address, family) => {
    expect(parseIp(input, 'host')).toEqual({ address, family });
  });

  it.each(['', 'localhost', '10.0.0.256', '1.2.3', '[10.0.0.1', 'fe80::1%eth0', ' 10.0.0.1'])(
    'rejects %j naming the field',
    (input) => {
      const err = (() => {
        try {
          parseIp(input, 'bindAddress');
        } catch (e: unknown) {
          return e;
        }
        return undefined;
      })();
      expect(err).toBeInstanceOf(InvalidOptionError);
      expect(err).toMatchObject({ field: 'bindAddress', code: 'ERR_NETSYS_INVALID_OPTION' });
      expect(String(err)).toContain('bindAddress');
    },
  );
});

describe('parsePort', () => {
  it('accepts 0 only where the kernel may choose', () => {
    expect(parsePort(0, 'port', true)).toBe(0);
    expect(() => parsePort(0, 'port', false)).toThrow(/invalid port/);
    expect(parsePort(65535, 'port', false)).toBe(65535);
  });

  it.each([-1, 65536, 1.5, Number.NaN, '80'])('rejects %p', (port) => {
    expect(() => parsePort(port, 'bindPort', true)).toThrow(expect.objectContaining({ field: 'bindPort' }));
  });
});

describe('formatting', () => {
  it('brackets IPv6 only', () => {
    expect(formatSocketAddress({ address: '10.0.0.1', port: 80 })).toBe('10.0.0.1:80');
    expect(formatSocketAddress({ address: '::1', port: 15008 })).toBe('[::1]:15008');
  });

  it('unmaps IPv4-mapped IPv6 addresses and leaves others alone', () => {
    expect(unmapIPv4({ address: '::ffff:10.1.2.3', port: 1, family: 6 })).toEqual({ address: '10.1.2.3', port: 1, family: 4 });
    expect(unmapIPv4({ address: '::FFFF:10.1.2.3', port: 1, family: 6 })).toEqual({ address: '10.1.2.3', port: 1, family: 4 });
    const v6 = { address: 'fd00::1', port: 1, family: 6 } as const;
    expect(unmapIPv4(v6)).toBe(v6);
  });

  it('narrows a family number', () => {
    expect(toFamily(4)).toBe(4);
    expect(toFamily(6)).toBe(6);
    expect(() => toFamily(10)).toThrow(InvalidOptionError);
  });
});
