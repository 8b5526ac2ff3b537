import { EMPTY_MATCH, type Authorization, type Workload } from '@weft/mesh-model';
import { buildMeshSnapshots, createSnapshotSource } from './mesh-resources';
import {
  ADDRESS_TYPE_URL,
  AUTHORIZATION_TYPE_URL,
  L7_AUTHORIZATION_TYPE_URL,
  REQUEST_AUTHENTICATION_TYPE_URL,
  WAYPOINT_SERVICE_TYPE_URL,
} from './type-urls';
import { decodeAddressResource } from './address-adapter';
import { decodeWaypointServiceResource } from './l7-adapter';
import { emptyAllow, fullRequestAuthentication, minimalService } from '../test/l7-fixtures';

const workload = (name: string, ip: string): Workload => ({
  uid: `Kubernetes//Pod/default/${name}`,
  name,
  namespace: 'default',
  addresses: [ip],
  hostname: '',
  network: '',
  tunnelProtocol: 'HBONE',
  trustDomain: 'cluster.local',
  serviceAccount: 'default',
  node: 'node-1',
  canonicalName: name,
  canonicalRevision: 'latest',
  workloadType: 'POD',
  workloadName: name,
  nativeTunnel: false,
  services: {},
  authorizationPolicies: [],
  status: 'HEALTHY',
  clusterId: 'Kubernetes',
  networkMode: 'STANDARD',
  capacity: 1,
});

const denyAll: Authorization = {
  name: 'deny',
  namespace: 'default',
  scope: 'NAMESPACE',
  action: 'DENY',
  rules: [{ clauses: [{ matches: [{ ...EMPTY_MATCH, destinationPorts: [80] }] }] }],
  dryRun: false,
};

describe('buildMeshSnapshots', () => {
  it('names workloads by uid and policies by ns/name, with bytes that decode back', () => {
    const snapshots = buildMeshSnapshots({ workloads: [workload('a', '10.0.0.1')], services: [], authorizations: [denyAll] });
    const entry = snapshots.get(ADDRESS_TYPE_URL)?.get('Kubernetes//Pod/default/a');
    expect(entry?.version).toMatch(/^[0-9a-f]{16}$/);
    const decoded = entry && decodeAddressResource({ name: 'Kubernetes//Pod/default/a', version: entry.version, value: entry.resource.value });
    expect(decoded?.ok && decoded.value.kind === 'workload' && decoded.value.workload.addresses).toEqual(['10.0.0.1']);
    expect([...(snapshots.get(AUTHORIZATION_TYPE_URL)?.keys() ?? [])]).toEqual(['default/deny']);
  });

  it('gives identical content the same version and changed content a new one', () => {
    const one = buildMeshSnapshots({ workloads: [workload('a', '10.0.0.1')], services: [], authorizations: [] });
    const same = buildMeshSnapshots({ workloads: [workload('a', '10.0.0.1')], services: [], authorizations: [] });
    const moved = buildMeshSnapshots({ workloads: [workload('a', '10.0.0.2')], services: [], authorizations: [] });
    const version = (s: typeof one) => s.get(ADDRESS_TYPE_URL)?.get('Kubernetes//Pod/default/a')?.version;
    expect(version(same)).toBe(version(one));
    expect(version(moved)).not.toBe(version(one));
  });
});

describe('buildMeshSnapshots with waypoint L7 resources', () => {
  it('leaves the L7 type URLs out when the caller passes none, as before they existed', () => {
    const snapshots = buildMeshSnapshots({ workloads: [], services: [], authorizations: [] });
    expect([...snapshots.keys()].sort()).toEqual([AUTHORIZATION_TYPE_URL, ADDRESS_TYPE_URL].sort());
  });

  it('serves each supplied L7 list under its type URL, named as the adapters name them', () => {
    const snapshots = buildMeshSnapshots({
      workloads: [],
      services: [],
      authorizations: [],
      waypointServices: [minimalService],
      l7Authorizations: [emptyAllow],
      requestAuthentications: [fullRequestAuthentication],
    });
    const name = 'default/httpbin.default.svc.cluster.local';
    const entry = snapshots.get(WAYPOINT_SERVICE_TYPE_URL)?.get(name);
    expect(entry && decodeWaypointServiceResource({ name, version: entry.version, value: entry.resource.value })).toEqual({ ok: true, value: minimalService });
    expect([...(snapshots.get(L7_AUTHORIZATION_TYPE_URL)?.keys() ?? [])]).toEqual(['default/allow-nothing']);
    expect([...(snapshots.get(REQUEST_AUTHENTICATION_TYPE_URL)?.keys() ?? [])]).toEqual(['test-app/jwt']);
  });

  it('serves an empty list as an empty snapshot, so removing the last resource is a change', () => {
    const source = createSnapshotSource();
    const base = { workloads: [], services: [], authorizations: [] };
    source.update(buildMeshSnapshots({ ...base, waypointServices: [minimalService] }));
    expect(source.update(buildMeshSnapshots({ ...base, waypointServices: [] }))).toEqual([WAYPOINT_SERVICE_TYPE_URL]);
  });
});

describe('createSnapshotSource', () => {
  it('notifies only the type URLs whose content changed, and nothing when nothing did', () => {
    const source = createSnapshotSource();
    const seen: (readonly string[])[] = [];
    source.subscribe((typeUrls) => seen.push(typeUrls));
    const base = { workloads: [workload('a', '10.0.0.1')], services: [], authorizations: [] };
    expect(source.update(buildMeshSnapshots(base))).toEqual([AUTHORIZATION_TYPE_URL, ADDRESS_TYPE_URL]);
    expect(source.update(buildMeshSnapshots(base))).toEqual([]);
    expect(source.update(buildMeshSnapshots({ ...base, authorizations: [denyAll] }))).toEqual([AUTHORIZATION_TYPE_URL]);
    expect(seen).toEqual([[AUTHORIZATION_TYPE_URL, ADDRESS_TYPE_URL], [AUTHORIZATION_TYPE_URL]]);
    expect(source.snapshot('type.googleapis.com/unknown', { connectionId: 'c', nodeId: 'n', nodeMetadata: {}, identity: undefined }).size).toBe(0);
  });
});
