import { createMeshStore, type Service, type Workload } from '@weft/mesh-model';
import type { AddressResource } from './address-adapter';

import { addressBatch, authorizationBatch } from './mesh-batch';

const workload = (uid: string): Workload => ({
  uid,
  name: uid,
  namespace: 'default',
  addresses: [],
  hostname: '',
  network: '',
  tunnelProtocol: 'HBONE',
  trustDomain: 'cluster.local',
  serviceAccount: 'default',
  node: 'node-1',
  canonicalName: uid,
  canonicalRevision: 'latest',
  workloadType: 'POD',
  workloadName: uid,
  nativeTunnel: false,
  services: {},
  authorizationPolicies: [],
  status: 'HEALTHY',
  clusterId: 'Kubernetes',
  networkMode: 'STANDARD',
  capacity: 1,
});

const service = (name: string): Service => ({
  name,
  namespace: 'default',
  hostname: `${name}.default.svc.cluster.local`,
  vips: [],
  ports: [],
  subjectAltNames: [],
  ipFamilies: 'IPV4_ONLY',
  canonical: true,
  ingressUseWaypoint: false,
  weightedWaypoints: [],
  visibility: 'PUBLIC',
});

const WEB = 'default/web.default.svc.cluster.local';
const w = (uid: string): AddressResource => ({ kind: 'workload', workload: workload(uid) });
const s = (name: string): AddressResource => ({ kind: 'service', service: service(name) });

describe('addressBatch', () => {
  const store = createMeshStore();
  store.apply({ workloads: { upsert: [workload('pod-a'), workload('pod-b')] }, services: { upsert: [service('web')] } });

  it('splits upserts by kind and sends each removal to the kind that holds it', () => {
    const batch = addressBatch({ upserts: [w('pod-c'), s('api')], removals: ['pod-a', WEB, 'ghost'], rejections: [] }, store);
    expect(batch).toEqual({
      workloads: { upsert: [workload('pod-c')], remove: ['pod-a', 'ghost'] },
      services: { upsert: [service('api')], remove: [WEB] },
    });
  });

  it('removes a name from its old kind when it comes back as the other kind', () => {
    const batch = addressBatch({ upserts: [w(WEB)], removals: [], rejections: [] }, store);
    expect(batch.services?.remove).toEqual([WEB]);
    expect(batch.workloads?.upsert?.map((x) => x.uid)).toEqual([WEB]);
  });

  it('applies as one store batch with one notification', () => {
    const local = createMeshStore();
    local.apply({ workloads: { upsert: [workload('pod-a')] }, services: { upsert: [service('web')] } });
    const seen: number[] = [];
    local.subscribe((change) => seen.push(change.version));
    const change = local.apply(addressBatch({ upserts: [w('pod-b')], removals: ['pod-a', WEB], rejections: [] }, local));
    expect(seen).toEqual([2]);
    expect(change.workloads).toMatchObject({ added: ['pod-b'], removed: ['pod-a'], unknownRemovals: [] });
    expect(change.services).toMatchObject({ removed: [WEB], unknownRemovals: [] });
  });
});

describe('authorizationBatch', () => {
  it('maps upserts and removals one to one', () => {
    expect(authorizationBatch({ upserts: [], removals: ['default/deny'], rejections: [] })).toEqual({
      authorizations: { upsert: [], remove: ['default/deny'] },
    });
  });
});
