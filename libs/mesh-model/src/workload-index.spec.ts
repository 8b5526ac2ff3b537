import { podUid, port, workload } from '../test/fixtures';
import { createMeshStore } from './mesh-store';
import type { Workload } from './types';
import { WorkloadIndex, workloadEndpoints } from './workload-index';

const WEB = 'default/web.default.svc.cluster.local';
const API = 'default/api.default.svc.cluster.local';

describe('workloads by address', () => {
  it('re-indexes a workload whose IPs change: the old IP no longer finds it', () => {
    const store = createMeshStore();
    const before = workload({ uid: podUid('a'), addresses: ['10.0.0.1', 'fd00::1'] });
    store.apply({ workloads: { upsert: [before] } });
    store.apply({ workloads: { upsert: [{ ...before, addresses: ['10.0.0.9'] }] } });

    expect(store.workloadByAddress('', '10.0.0.1')).toBeUndefined();
    expect(store.workloadByAddress('', 'fd00::1')).toBeUndefined();
    expect(store.workloadByAddress('', '10.0.0.9')?.uid).toBe(before.uid);
  });

  it('keys addresses by network', () => {
    const store = createMeshStore();
    store.apply({ workloads: { upsert: [workload({ uid: podUid('a'), addresses: ['10.0.0.1'], network: 'net-1' })] } });
    expect(store.workloadByAddress('net-1', '10.0.0.1')?.uid).toBe(podUid('a'));
    expect(store.workloadByAddress('', '10.0.0.1')).toBeUndefined();
    expect(store.workloadByAddress('net-2', '10.0.0.1')).toBeUndefined();
  });

  it('finds an IPv6 workload however the address is spelled', () => {
    const store = createMeshStore();
    store.apply({ workloads: { upsert: [workload({ uid: podUid('a'), addresses: ['fd00::a:1'] })] } });
    expect(store.workloadByAddress('', 'FD00:0:0:0:0:0:A:1')?.uid).toBe(podUid('a'));
  });

  it('never finds a hostNetwork workload by IP, yet keeps it by uid and as an endpoint', () => {
    const store = createMeshStore();
    const host = workload({
      uid: podUid('node-exporter'),
      addresses: ['192.168.1.10'],
      networkMode: 'HOST_NETWORK',
      services: { [WEB]: [port(80, 9100)] },
    });
    const change = store.apply({ workloads: { upsert: [host] } });

    expect(store.workloadByAddress('', '192.168.1.10')).toBeUndefined();
    expect(store.workloadsByAddress('', '192.168.1.10')).toEqual([]);
    expect(store.workloadByUid(host.uid)).toBe(host);
    expect(store.endpointsOf(WEB).map((e) => e.address)).toEqual([{ network: '', address: '192.168.1.10' }]);
    expect(change.addressConflicts).toEqual([]);
  });

  const entry = (name: string, tunnelProtocol: Workload['tunnelProtocol']): Workload =>
    workload({
      uid: `Kubernetes/networking.istio.io/WorkloadEntry/default/${name}`,
      addresses: ['10.0.0.5'],
      tunnelProtocol,
    });
  const pod = (name: string, tunnelProtocol: Workload['tunnelProtocol']): Workload =>
    workload({ uid: podUid(name), addresses: ['10.0.0.5'], tunnelProtocol });

  it.each([
    ['a Pod over a WorkloadEntry written later', [pod('p', 'NONE'), entry('e', 'HBONE')], podUid('p')],
    ['an HBONE Pod over a plain Pod written later', [pod('mesh', 'HBONE'), pod('plain', 'NONE')], podUid('mesh')],
    ['the latest write among equals', [pod('old', 'HBONE'), pod('new', 'HBONE')], podUid('new')],
    ['an HBONE entry over a plain entry', [entry('mesh', 'HBONE'), entry('plain', 'NONE')], entry('mesh', 'HBONE').uid],
  ])('answers a shared IP with %s, and reports the conflict', (_name, writes, chosen) => {
    const store = createMeshStore();
    let change = store.apply({ workloads: { upsert: [] } });
    for (const w of writes) change = store.apply({ workloads: { upsert: [w] } });

    expect(store.workloadByAddress('', '10.0.0.5')?.uid).toBe(chosen);
    expect(change.addressConflicts).toEqual([{ address: '/10.0.0.5', uids: writes.map((w) => w.uid), chosen }]);
  });

  it('does not count an unchanged re-send as a newer write', () => {
    const store = createMeshStore();
    const old = pod('old', 'HBONE');
    store.apply({ workloads: { upsert: [old, pod('new', 'HBONE')] } });
    store.apply({ workloads: { upsert: [{ ...old, addresses: [...old.addresses] }] } });
    expect(store.workloadByAddress('', '10.0.0.5')?.uid).toBe(podUid('new'));

    store.apply({ workloads: { upsert: [{ ...old, node: 'node-b' }] } });
    expect(store.workloadByAddress('', '10.0.0.5')?.uid).toBe(podUid('old'));
  });

  it('falls back to the remaining workload when one of two on an IP goes away', () => {
    const store = createMeshStore();
    store.apply({ workloads: { upsert: [pod('old', 'HBONE'), pod('new', 'HBONE')] } });
    const change = store.apply({ workloads: { remove: [podUid('new')] } });

    expect(store.workloadByAddress('', '10.0.0.5')?.uid).toBe(podUid('old'));
    expect(change.addressConflicts).toEqual([]);
  });
});

describe('endpoints', () => {
  it('derives one endpoint per service of the workload, addressed by its first IP on its network', () => {
    const w = workload({
      uid: podUid('a'),
      addresses: ['10.0.0.1', 'fd00::1'],
      network: 'net-1',
      services: { [WEB]: [port(80, 8080), port(443, 8443)], [API]: [port(9090, 0)] },
    });
    expect(workloadEndpoints(w)).toEqual([
      {
        workloadUid: w.uid,
        service: WEB,
        address: { network: 'net-1', address: '10.0.0.1' },
        ports: new Map([
          [80, 8080],
          [443, 8443],
        ]),
      },
      { workloadUid: w.uid, service: API, address: { network: 'net-1', address: '10.0.0.1' }, ports: new Map([[9090, 0]]) },
    ]);
    expect(workloadEndpoints({ ...w, addresses: [] })[0]).not.toHaveProperty('address');
  });

  it('follows a workload that changes its services map', () => {
    const store = createMeshStore();
    const a = workload({ uid: podUid('a'), addresses: ['10.0.0.1'], services: { [WEB]: [port(80, 8080)] } });
    const b = workload({ uid: podUid('b'), addresses: ['10.0.0.2'], services: { [WEB]: [port(80, 8080)] } });
    store.apply({ workloads: { upsert: [b, a] } });
    expect(store.endpointsOf(WEB).map((e) => e.workloadUid)).toEqual([a.uid, b.uid]);

    const change = store.apply({ workloads: { upsert: [{ ...a, services: { [API]: [port(9090, 9091)] } }] } });

    expect(store.endpointsOf(WEB).map((e) => e.workloadUid)).toEqual([b.uid]);
    expect(store.endpointsOf(API).map((e) => [e.workloadUid, e.ports.get(9090)])).toEqual([[a.uid, 9091]]);
    expect(change.endpointsChanged).toEqual([API, WEB]);
    const [endpoint] = store.endpointsOf(API);
    expect(store.endpointCandidatesOf(API)).toEqual([{ endpoint, workload: store.workloadByUid(a.uid) }]);
  });

  it('shows a workload joining a service whose endpoints were already read', () => {
    const store = createMeshStore();
    const a = workload({ uid: podUid('a'), services: { [WEB]: [port(80, 8080)] } });
    store.apply({ workloads: { upsert: [a] } });
    expect(store.endpointsOf(WEB)).toHaveLength(1);

    store.apply({ workloads: { upsert: [{ ...a, uid: podUid('b') }] } });
    expect(store.endpointsOf(WEB).map((e) => e.workloadUid)).toEqual([podUid('a'), podUid('b')]);
  });

  it('holds endpoints for a service key the store has not received yet', () => {
    const store = createMeshStore();
    store.apply({ workloads: { upsert: [workload({ uid: podUid('a'), services: { [WEB]: [port(80, 8080)] } })] } });
    expect(store.serviceByKey(WEB)).toBeUndefined();
    expect(store.endpointsOf(WEB)).toHaveLength(1);
  });
});

describe('workload removal', () => {
  it('cleans every index: no stale address, endpoint or uid entry', () => {
    const store = createMeshStore();
    const a = workload({
      uid: podUid('a'),
      addresses: ['10.0.0.1', 'fd00::1'],
      services: { [WEB]: [port(80, 8080)], [API]: [port(1, 1)] },
    });
    store.apply({ workloads: { upsert: [a] } });
    const change = store.apply({ workloads: { remove: [a.uid] } });

    expect(change.workloads.removed).toEqual([a.uid]);
    expect(change.endpointsChanged).toEqual([API, WEB]);
    expect(store.workloadByUid(a.uid)).toBeUndefined();
    expect(store.workloadByAddress('', '10.0.0.1')).toBeUndefined();
    expect(store.workloadByAddress('', 'fd00::1')).toBeUndefined();
    expect(store.endpointsOf(WEB)).toEqual([]);
    expect(store.endpointsOf(API)).toEqual([]);
    expect(store.workloads()).toEqual([]);
  });

  it('leaves the index maps empty, not holding empty buckets', () => {
    const index = new WorkloadIndex();
    index.put(workload({ uid: podUid('a'), addresses: ['10.0.0.1'], services: { [WEB]: [port(80, 8080)] } }));
    index.put(workload({ uid: podUid('b'), addresses: ['10.0.0.1'], services: { [WEB]: [port(80, 8080)] } }));
    expect(index.stats()).toEqual({ workloads: 2, addresses: 1, endpointServices: 1 });

    expect(index.delete(podUid('a'))).toBe(true);
    expect(index.delete(podUid('b'))).toBe(true);
    expect(index.delete(podUid('b'))).toBe(false);
    expect(index.stats()).toEqual({ workloads: 0, addresses: 0, endpointServices: 0 });
  });
});
