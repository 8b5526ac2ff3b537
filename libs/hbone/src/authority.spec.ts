import { formatAuthority, parseAuthority } from './authority';

describe('parseAuthority', () => {
  it.each([
    ['10.0.0.1:8080', { kind: 'ip', host: '10.0.0.1', port: 8080, family: 4 }],
    ['[fd00::1]:80', { kind: 'ip', host: 'fd00::1', port: 80, family: 6 }],
    ['[::ffff:10.0.0.1]:80', { kind: 'ip', host: '::ffff:10.0.0.1', port: 80, family: 6 }],
    ['httpbin.default.svc.cluster.local:8000', { kind: 'hostname', host: 'httpbin.default.svc.cluster.local', port: 8000 }],
    ['HTTPBIN:1', { kind: 'hostname', host: 'httpbin', port: 1 }],
  ])('accepts %s', (text, expected) => {
    expect(parseAuthority(text)).toEqual(expected);
  });

  it.each([
    '',
    '10.0.0.1',
    '10.0.0.1:',
    '10.0.0.1:0',
    '10.0.0.1:65536',
    '10.0.0.1:+80',
    '10.0.0.1:8080/x',
    'fd00::1:80',
    '[fd00::1]',
    '[fd00::1]80',
    '[fe80::1%eth0]:80',
    '[10.0.0.1]:80',
    '999.0.0.1:80',
    'user@host:80',
    'bad_host:80',
    ':80',
  ])('rejects %j', (text) => {
    expect(parseAuthority(text)).toBeUndefined();
  });
});

describe('formatAuthority', () => {
  it('brackets IPv6 only', () => {
    expect(formatAuthority({ host: '10.0.0.1', port: 15008 })).toBe('10.0.0.1:15008');
    expect(formatAuthority({ host: 'fd00::1', port: 15008 })).toBe('[fd00::1]:15008');
  });
});
