// The in-pod rules applied for real inside a test pod netns with the nft backend, and the host probe rules in a
// test node netns. Root only (CI is root); fails with what is missing otherwise.

import { NetnsFixture, requireRootNetworking, type TestNetns } from '@weft/testing';

import { createRedirectionRunner, type RedirectionRunner } from '../src/redirection/redirection-runner';

const defaults = { bypassInbound: false, dnsCapture: true, virtualInterfaces: [] };

function ourRules(save: string): string[] {
  return save.split('\n').filter((line) => line.includes('ISTIO_'));
}

describe('redirection runner in a pod netns', () => {
  const fixture = new NetnsFixture();
  let pod: TestNetns;
  let node: TestNetns;
  let runner: RedirectionRunner;

  beforeAll(() => {
    requireRootNetworking();
    pod = fixture.create('pod');
    node = fixture.create('node');
    runner = createRedirectionRunner({ backend: 'nft', hostNetnsPath: node.path });
  });

  afterAll(() => fixture.destroy());

  it('installs the §5.3 rules and routing for IPv4 and IPv6, and a second apply changes nothing', async () => {
    await runner.apply(pod.path, [4, 6], defaults);
    const v4 = await runner.save(pod.path, 4);
    expect(v4).toMatch(/^-A PREROUTING -j ISTIO_PRERT$/m);
    expect(v4).toMatch(/^-A OUTPUT -j ISTIO_OUTPUT$/m);
    expect(v4).toMatch(/^-A ISTIO_OUTPUT ! -d 127\.0\.0\.1\/32 -p tcp -m mark ! --mark 0x539\/0xfff -j REDIRECT --to-ports 15001$/m);
    expect(v4).toMatch(/^-A ISTIO_PRERT ! -d 127\.0\.0\.1\/32 -p tcp -m tcp ! --dport 15008 -m mark ! --mark 0x539\/0xfff -j REDIRECT --to-ports 15006$/m);
    expect(v4).toMatch(/^-A ISTIO_PRERT -m mark --mark 0x539\/0xfff -j CONNMARK --set-xmark 0x111\/0xfff$/m);
    expect(v4).toMatch(/^-A ISTIO_OUTPUT -p udp -m mark --mark 0x539\/0xfff -m udp --dport 53 -j CT --zone 1$/m);
    // 2 raw + 2 mangle + 2 nat jumps, 2 raw + 2 mangle + 8 nat rules, and 6 chain declarations.
    expect(ourRules(v4).filter((line) => line.startsWith('-A'))).toHaveLength(18);
    const v6 = await runner.save(pod.path, 6);
    expect(v6).toMatch(/^-A ISTIO_OUTPUT ! -d ::1\/128 -p tcp -m mark ! --mark 0x539\/0xfff -j REDIRECT --to-ports 15001$/m);

    expect(pod.exec('ip', '-4', 'rule', 'list')).toMatch(/^32764:\s+from all fwmark 0x111\/0xfff lookup 100/m);
    expect(pod.exec('ip', '-4', 'route', 'show', 'table', '100')).toMatch(/^local default dev lo/m);

    await runner.apply(pod.path, [4, 6], defaults);
    expect(ourRules(await runner.save(pod.path, 4))).toEqual(ourRules(v4));
    expect(ourRules(await runner.save(pod.path, 6))).toEqual(ourRules(v6));
    expect(pod.exec('ip', '-4', 'rule', 'list').match(/32764:/g)).toHaveLength(1);
  });

  it('re-applying with other options replaces the rules in place', async () => {
    await runner.apply(pod.path, [4], { ...defaults, dnsCapture: false, bypassInbound: true });
    const v4 = await runner.save(pod.path, 4);
    expect(v4).not.toContain('15006');
    expect(v4).not.toMatch(/ISTIO_.*--dport 53/);
    expect(v4.match(/^-A PREROUTING -j ISTIO_PRERT$/gm)?.length).toBeGreaterThanOrEqual(1);
  });

  it('removes everything it installed and leaves other rules alone', async () => {
    pod.exec('iptables-nft', '-t', 'nat', '-A', 'OUTPUT', '-p', 'tcp', '--dport', '9', '-j', 'ACCEPT');
    await runner.remove(pod.path, [4, 6]);
    const v4 = await runner.save(pod.path, 4);
    expect(ourRules(v4)).toEqual([]);
    expect(v4).toMatch(/^-A OUTPUT -p tcp -m tcp --dport 9 -j ACCEPT$/m);
    expect(ourRules(await runner.save(pod.path, 6))).toEqual([]);
    expect(pod.exec('ip', '-4', 'rule', 'list')).not.toContain('32764');
    await runner.remove(pod.path, [4, 6]);
  });

  it('installs the probe SNAT rule and ipset in the node netns, idempotently', async () => {
    await runner.installHostRules([4]);
    await runner.installHostRules([4]);
    const nat = node.exec('iptables-nft-save', '-t', 'nat');
    expect(nat.match(/^-A POSTROUTING -j ISTIO_POSTRT$/gm)).toHaveLength(1);
    expect(nat).toMatch(/-A ISTIO_POSTRT -p tcp -m owner --socket-exists -m set --match-set istio-inpod-probes-v4 dst -j SNAT --to-source 169\.254\.7\.127/);
    await runner.setProbeAddress(4, '10.244.1.5', true);
    expect(node.exec('ipset', 'list', 'istio-inpod-probes-v4')).toContain('10.244.1.5');
    await runner.setProbeAddress(4, '10.244.1.5', false);
    expect(node.exec('ipset', 'list', 'istio-inpod-probes-v4')).not.toContain('10.244.1.5');
    await runner.removeHostRules([4]);
    expect(node.exec('iptables-nft-save', '-t', 'nat')).not.toContain('ISTIO');
  });
});
