// The objects a translation reads, grouped by kind and namespace once so every step looks them up by key — the
// role istiod's krt collections (Pods, Services, ServiceEntries, Namespaces, Nodes, EndpointSlices, Gateways) play.

import type { KubeObject } from './kube-object';
import { asArray, asRecord, asString, compareStrings } from './translate-types';

export interface MeshInventory {
  readonly namespaces: ReadonlyMap<string, KubeObject>;
  readonly nodes: ReadonlyMap<string, KubeObject>;
  /** Sorted by namespace, then name. */
  readonly pods: readonly KubeObject[];
  readonly services: readonly KubeObject[];
  readonly serviceEntries: readonly KubeObject[];
  readonly endpointSlices: readonly KubeObject[];
  readonly gateways: readonly KubeObject[];
  readonly authorizationPolicies: readonly KubeObject[];
  readonly peerAuthentications: readonly KubeObject[];
}

const byNamespaceAndName = (a: KubeObject, b: KubeObject): number =>
  compareStrings(a.metadata.namespace ?? '', b.metadata.namespace ?? '') || compareStrings(a.metadata.name, b.metadata.name);

/** Groups objects by kind. Later objects with the same kind/namespace/name replace earlier ones (last write wins). */
export function buildInventory(objects: readonly KubeObject[]): MeshInventory {
  const byKind = new Map<string, Map<string, KubeObject>>();
  for (const object of objects) {
    const kinds = byKind.get(object.kind) ?? new Map<string, KubeObject>();
    byKind.set(object.kind, kinds);
    kinds.set(`${object.metadata.namespace ?? ''}/${object.metadata.name}`, object);
  }
  const list = (kind: string): KubeObject[] => [...(byKind.get(kind)?.values() ?? [])].sort(byNamespaceAndName);
  const byName = (kind: string): Map<string, KubeObject> => new Map(list(kind).map((o) => [o.metadata.name, o]));
  return {
    namespaces: byName('Namespace'),
    nodes: byName('Node'),
    pods: list('Pod'),
    services: list('Service'),
    serviceEntries: list('ServiceEntry'),
    endpointSlices: list('EndpointSlice'),
    gateways: list('Gateway'),
    authorizationPolicies: list('AuthorizationPolicy'),
    peerAuthentications: list('PeerAuthentication'),
  };
}

export function labelsOf(object: KubeObject | undefined): Readonly<Record<string, string>> {
  return object?.metadata.labels ?? {};
}

/** The Namespace object of a namespaced object, if it was read. */
export function namespaceOf(inventory: MeshInventory, object: KubeObject): KubeObject | undefined {
  return inventory.namespaces.get(object.metadata.namespace ?? '');
}

/** Pod `status.conditions[type=Ready].status == "True"`. */
export function isPodReady(pod: KubeObject): boolean {
  const conditions = asArray(asRecord(pod.status)?.['conditions']);
  return conditions.some((c) => asString(asRecord(c)?.['type']) === 'Ready' && asString(asRecord(c)?.['status']) === 'True');
}

/** Names of pods an EndpointSlice's endpoints `targetRef` (kind Pod), keyed to the Service it belongs to. */
export function endpointSliceTargets(slice: KubeObject): { readonly service: string; readonly pods: readonly string[] } {
  const service = slice.metadata.labels?.['kubernetes.io/service-name'] ?? '';
  const pods: string[] = [];
  for (const endpoint of asArray(slice['endpoints'])) {
    const ref = asRecord(asRecord(endpoint)?.['targetRef']);
    if (asString(ref?.['kind']) !== 'Pod') continue;
    const name = asString(ref?.['name']);
    const namespace = asString(ref?.['namespace']) ?? slice.metadata.namespace;
    if (name !== undefined && namespace === slice.metadata.namespace) pods.push(name);
  }
  return { service, pods };
}
