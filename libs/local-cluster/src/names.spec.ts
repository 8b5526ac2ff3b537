import { bootstrapToken, defaultStateDir, isRunPrefix, netnsName, newRunPrefix, nodeName, nodePort, nodeSpecs, ownedBy, podBridge, underlayBridge } from './names';

describe('names', () => {
  it('makes run prefixes of wt + 6 hex digits that leave room in a 15-character interface name', () => {
    expect(newRunPrefix(Buffer.from([0x0a, 0xbc, 0xde]))).toBe('wt0abcde');
    const prefix = newRunPrefix();
    expect(isRunPrefix(prefix)).toBe(true);
    expect(nodePort(prefix, 16).length).toBeLessThanOrEqual(15);
    expect(underlayBridge(prefix)).toBe(`${prefix}u`);
    expect(podBridge(prefix)).toBe(`${prefix}b`);
    expect(new Set(Array.from({ length: 50 }, () => newRunPrefix())).size).toBeGreaterThan(45);
    expect(isRunPrefix('wt12345')).toBe(false);
    expect(isRunPrefix('xx123456')).toBe(false);
  });

  it('names nodes node-a, node-b, … with private, disjoint underlay addresses and pod CIDRs', () => {
    expect(nodeSpecs(2)).toEqual([
      { name: 'node-a', index: 1, underlayIp: '10.88.0.11', podCidr: '10.244.1.0/24', gateway: '10.244.1.1' },
      { name: 'node-b', index: 2, underlayIp: '10.88.0.12', podCidr: '10.244.2.0/24', gateway: '10.244.2.1' },
    ]);
    const sixteen = nodeSpecs(16);
    expect(sixteen.at(-1)).toMatchObject({ name: 'node-p', underlayIp: '10.88.0.26', podCidr: '10.244.16.0/24' });
    expect(new Set(sixteen.map((n) => n.podCidr)).size).toBe(16);
    expect(nodeName(3)).toBe('node-c');
  });

  it.each([0, 17, 1.5, -1])('refuses %p nodes', (count) => {
    expect(() => nodeSpecs(count)).toThrow(/--nodes takes 1\.\.16/);
  });

  it('builds namespace names under the prefix and refuses suffixes that would escape it', () => {
    expect(netnsName('wt000001', 'node-a')).toBe('wt000001-node-a');
    for (const bad of ['', 'A', '../x', 'a b', '-x', 'x/y']) expect(() => netnsName('wt000001', bad)).toThrow(/not a valid namespace suffix/);
    expect(ownedBy('wt000001', 'wt000001-node-a')).toBe(true);
    expect(ownedBy('wt000001', 'wt000001')).toBe(false);
    expect(ownedBy('wt000001', 'wt000002-node-a')).toBe(false);
  });

  it('takes the state directory from WEFT_LOCAL_STATE, else /var/lib/weft/local', () => {
    expect(defaultStateDir({})).toBe('/var/lib/weft/local');
    expect(defaultStateDir({ WEFT_LOCAL_STATE: '' })).toBe('/var/lib/weft/local');
    expect(defaultStateDir({ WEFT_LOCAL_STATE: '/tmp/w' })).toBe('/tmp/w');
  });

  it('makes a distinct bootstrap token per node and run', () => {
    const a = bootstrapToken('wt000001', 'node-a');
    expect(a).toMatch(/^ztunnel-node-a-wt000001-[0-9a-f]{32}$/);
    expect(bootstrapToken('wt000001', 'node-a')).not.toBe(a);
  });
});
