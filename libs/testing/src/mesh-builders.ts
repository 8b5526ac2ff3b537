// Builders of mesh-model objects for the specs of ztunnel and the waypoint: complete, valid domain objects with
// overridable fields, so each table row states only what it is about.

import {
  createMeshStore,
  type Authorization,
  type MeshBatch,
  type MeshStore,
  type PortMapping,
  type Service,
  type Workload,
} from '@weft/mesh-model';

/** A pod uid as istiod writes it: `<cluster>//Pod/<ns>/<name>`. */
export function podUid(name: string, namespace = 'default'): string {
  return `Kubernetes//Pod/${namespace}/${name}`;
}

export function workload(overrides: Partial<Workload> & { readonly name: string }): Workload {
  const namespace = overrides.namespace ?? 'default';
  return {
    uid: podUid(overrides.name, namespace),
    namespace,
    addresses: [],
    hostname: '',
    network: '',
    tunnelProtocol: 'HBONE',
    trustDomain: 'cluster.local',
    serviceAccount: 'default',
    node: 'node-a',
    canonicalName: overrides.name,
    canonicalRevision: 'latest',
    workloadType: 'POD',
    workloadName: overrides.name,
    nativeTunnel: false,
    services: {},
    authorizationPolicies: [],
    status: 'HEALTHY',
    clusterId: 'Kubernetes',
    networkMode: 'STANDARD',
    capacity: 1,
    ...overrides,
  };
}

export function port(servicePort: number, targetPort: number): PortMapping {
  return { servicePort, targetPort, appProtocol: 'TCP' };
}

export function service(overrides: Partial<Service> & { readonly name: string }): Service {
  const namespace = overrides.namespace ?? 'default';
  return {
    namespace,
    hostname: `${overrides.name}.${namespace}.svc.cluster.local`,
    vips: [],
    ports: [port(80, 8080)],
    subjectAltNames: [],
    ipFamilies: 'AUTOMATIC',
    canonical: true,
    ingressUseWaypoint: false,
    weightedWaypoints: [],
    visibility: 'PUBLIC',
    ...overrides,
  };
}

export function authorization(overrides: Partial<Authorization> & { readonly name: string }): Authorization {
  return { namespace: 'default', scope: 'NAMESPACE', action: 'ALLOW', rules: [], dryRun: false, ...overrides };
}

/** A store holding exactly these objects, applied as one batch. */
export function meshOf(objects: {
  readonly workloads?: readonly Workload[];
  readonly services?: readonly Service[];
  readonly authorizations?: readonly Authorization[];
}): MeshStore {
  const store = createMeshStore();
  const batch: MeshBatch = {
    workloads: { upsert: objects.workloads ?? [] },
    services: { upsert: objects.services ?? [] },
    authorizations: { upsert: objects.authorizations ?? [] },
  };
  const change = store.apply(batch);
  if (change.rejected.length > 0) throw new Error(`fixture rejected: ${JSON.stringify(change.rejected)}`);
  return store;
}

/** A `random` that returns the given values in turn and then fails the test, so no draw goes unaccounted for. */
export function sequence(...values: number[]): () => number {
  let next = 0;
  return () => {
    const value = values[next];
    if (value === undefined) throw new Error(`random() called ${next + 1} times, only ${values.length} values given`);
    next += 1;
    return value;
  };
}
