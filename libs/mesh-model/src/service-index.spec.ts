import { service } from '../test/fixtures';
import { createMeshStore } from './mesh-store';
import { ServiceIndex, chooseService } from './service-index';
import type { NetworkAddress, Service } from './types';

const vip = (address: string, network = '', length?: number): NetworkAddress =>
  length === undefined ? { network, address } : { network, address, length };

// Three services on one VIP, as ServiceEntries in several namespaces can be.
const shared = vip('240.240.0.1');
const kube = service({ name: 'db', namespace: 'data', vips: [shared], canonical: true });
const entryA = service({ name: 'db', namespace: 'team-a', vips: [shared], canonical: false, hostname: 'db.example.com' });
const entryB = service({ name: 'db', namespace: 'team-b', vips: [shared], canonical: false, hostname: 'db.example.com' });
const privateC = service({ name: 'db', namespace: 'team-c', vips: [shared], canonical: false, visibility: 'NAMESPACE' });

describe('chooseService', () => {
  it.each<[string, Service[], string, string | undefined]>([
    ['the one in the client namespace over a canonical one', [kube, entryA, entryB], 'team-b', 'team-b'],
    ['the canonical one when the client namespace has none', [entryA, kube, entryB], 'web', 'data'],
    ['the first by key when none is canonical or local', [entryB, entryA], 'web', 'team-a'],
    ['a NAMESPACE-visible service from its own namespace', [kube, privateC], 'team-c', 'team-c'],
    ['not a NAMESPACE-visible service from elsewhere, even if it is all there is', [privateC], 'web', undefined],
    ['a canonical service over a NAMESPACE-visible one from elsewhere', [{ ...privateC, canonical: true }, entryA], 'web', 'team-a'],
  ])('picks %s', (_name, candidates, sourceNamespace, expected) => {
    const sorted = [...candidates].sort((x, y) => (x.namespace < y.namespace ? -1 : 1));
    expect(chooseService(sorted, sourceNamespace)?.namespace).toBe(expected);
  });
});

describe('services by VIP', () => {
  const store = createMeshStore();
  store.apply({ services: { upsert: [entryB, privateC, kube, entryA] } });

  it('lists every service sharing a VIP, sorted by key', () => {
    expect(store.servicesByVip('', '240.240.0.1').map((s) => s.namespace)).toEqual(['data', 'team-a', 'team-b', 'team-c']);
    expect(store.servicesByVip('other-network', '240.240.0.1')).toEqual([]);
  });

  it.each([
    ['team-a', 'team-a'],
    ['team-c', 'team-c'],
    ['default', 'data'],
  ])('serves a client in %s the service of %s', (sourceNamespace, expected) => {
    expect(store.serviceForVip('', '240.240.0.1', sourceNamespace)?.namespace).toBe(expected);
  });

  it('applies the same preference to hostnames', () => {
    expect(store.servicesByHostname('db.example.com').map((s) => s.namespace)).toEqual(['team-a', 'team-b']);
    expect(store.serviceForHostname('db.example.com', 'team-b')?.namespace).toBe('team-b');
    expect(store.serviceForHostname('db.example.com', 'web')?.namespace).toBe('team-a');
    expect(store.serviceForHostname('db.team-c.svc.cluster.local', 'web')).toBeUndefined();
    expect(store.serviceForHostname('db.team-c.svc.cluster.local', 'team-c')?.namespace).toBe('team-c');
  });
});

describe('service updates and removal', () => {
  it('moves a service whose VIPs change out of its old VIP entries', () => {
    const store = createMeshStore();
    const web = service({ name: 'web', vips: [vip('10.96.0.1'), vip('fd00:96::1')] });
    store.apply({ services: { upsert: [web] } });
    const change = store.apply({ services: { upsert: [{ ...web, vips: [vip('10.96.0.2')] }] } });

    expect(change.services.updated).toEqual(['default/web.default.svc.cluster.local']);
    expect(store.servicesByVip('', '10.96.0.1')).toEqual([]);
    expect(store.servicesByVip('', 'fd00:96::1')).toEqual([]);
    expect(store.servicesByVip('', '10.96.0.2').map((s) => s.name)).toEqual(['web']);
    expect(store.servicesByHostname('web.default.svc.cluster.local')).toHaveLength(1);
  });

  it('removes a service from every index and leaves the others on a shared VIP', () => {
    const store = createMeshStore();
    store.apply({ services: { upsert: [kube, entryA] } });
    const change = store.apply({ services: { remove: ['data/db.data.svc.cluster.local'] } });

    expect(change.services.removed).toEqual(['data/db.data.svc.cluster.local']);
    expect(store.serviceByKey('data/db.data.svc.cluster.local')).toBeUndefined();
    expect(store.servicesByHostname('db.data.svc.cluster.local')).toEqual([]);
    expect(store.servicesByVip('', '240.240.0.1').map((s) => s.namespace)).toEqual(['team-a']);
    expect(store.serviceForVip('', '240.240.0.1', 'data')?.namespace).toBe('team-a');

    store.apply({ services: { remove: ['team-a/db.example.com'] } });
    expect(store.servicesByVip('', '240.240.0.1')).toEqual([]);
    expect(store.services()).toEqual([]);
  });

  it('leaves no empty bucket behind in any index', () => {
    const index = new ServiceIndex();
    index.put(kube);
    index.put(entryA);
    index.put(service({ name: 'range', vips: [vip('10.1.0.0', 'net-1', 16)] }));
    expect(index.stats()).toEqual({ services: 3, vips: 1, cidrNetworks: 1, hostnames: 3 });

    for (const key of ['data/db.data.svc.cluster.local', 'team-a/db.example.com', 'default/range.default.svc.cluster.local']) {
      expect(index.delete(key)).toBe(true);
    }
    expect(index.delete('team-a/db.example.com')).toBe(false);
    expect(index.stats()).toEqual({ services: 0, vips: 0, cidrNetworks: 0, hostnames: 0 });
  });
});

describe('CIDR VIPs', () => {
  const wide = service({ name: 'wide', vips: [vip('10.0.0.0', '', 16)] });
  const narrow = service({ name: 'narrow', vips: [vip('10.0.0.0', '', 24), vip('fd00::', '', 112)] });
  const exact = service({ name: 'exact', vips: [vip('10.0.0.5', '', 32)] });
  const store = createMeshStore();
  store.apply({ services: { upsert: [wide, narrow, exact] } });
  const reversed = createMeshStore();
  reversed.apply({ services: { upsert: [exact, narrow, wide] } });

  it.each([
    ['10.0.0.5', 'exact'],
    ['10.0.0.6', 'narrow'],
    ['10.0.1.6', 'wide'],
    ['fd00::ff', 'narrow'],
    ['fd00::1:0', undefined],
    ['10.1.0.1', undefined],
  ])('answers %s with the exact VIP, else the longest prefix: %s', (ip, expected) => {
    for (const s of [store, reversed]) {
      expect(s.servicesByVip('', ip).map((svc) => svc.name)).toEqual(expected === undefined ? [] : [expected]);
    }
  });

  it('lists every service on the longest matching prefix', () => {
    const twins = createMeshStore();
    twins.apply({ services: { upsert: [narrow, { ...narrow, namespace: 'other' }, wide] } });
    expect(twins.servicesByVip('', '10.0.0.6').map((s) => s.namespace)).toEqual(['default', 'other']);
    expect(twins.serviceForVip('', '10.0.0.6', 'other')?.namespace).toBe('other');
  });

  it('scopes CIDR VIPs to their network and forgets them on removal', () => {
    expect(store.servicesByVip('net-1', '10.0.0.6')).toEqual([]);
    const local = createMeshStore();
    local.apply({ services: { upsert: [narrow] } });
    local.apply({ services: { remove: ['default/narrow.default.svc.cluster.local'] } });
    expect(local.servicesByVip('', '10.0.0.6')).toEqual([]);
  });
});
