// Builders for the specs: complete, valid domain objects with overridable fields, so each test states only what
// it is about.

import type { Authorization, PortMapping, Service, Workload } from '../src/types';

export function workload(overrides: Partial<Workload> & { readonly uid: string }): Workload {
  const name = overrides.name ?? overrides.uid.split('/').pop() ?? overrides.uid;
  return {
    name,
    namespace: 'default',
    addresses: [],
    hostname: '',
    network: '',
    tunnelProtocol: 'HBONE',
    trustDomain: 'cluster.local',
    serviceAccount: 'default',
    node: 'node-a',
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
    ...overrides,
  };
}

/** A pod uid as istiod writes it: `<cluster>//Pod/<ns>/<name>`. */
export function podUid(name: string, namespace = 'default'): string {
  return `Kubernetes//Pod/${namespace}/${name}`;
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
