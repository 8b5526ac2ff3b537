// One decoded xDS response → one MeshStore batch (STYLE.md §4), for every proxy that keeps a MeshStore. Pure: it
// reads the current state only to tell which kind an Address removal names, since a removal carries just the
// resource name (ztunnel's ProxyStateUpdater tries the workload by uid, then the service by `<namespace>/<hostname>`).

import type { Authorization, MeshBatch, MeshState, Service, Workload } from '@weft/mesh-model';
import { addressResourceName, type AddressResource } from './address-adapter';
import type { DeltaUpdateBatch } from './delta-client-types';

/** The lookups `addressBatch` needs. */
export type AddressKindLookup = Pick<MeshState, 'workloadByUid' | 'serviceByKey'>;

/**
 * Address upserts split into workloads and services; each removal goes to the kind that holds the name (both when
 * both do, workloads when neither does, so the store lists it as an unknown removal). A name that changes kind in
 * this push (workload → service or back) is also removed from its old kind.
 */
export function addressBatch(update: DeltaUpdateBatch<AddressResource>, state: AddressKindLookup): MeshBatch {
  const workloads: Workload[] = [];
  const services: Service[] = [];
  const removeWorkloads = new Set<string>();
  const removeServices = new Set<string>();
  for (const name of update.removals) {
    const isService = state.serviceByKey(name) !== undefined;
    if (isService) removeServices.add(name);
    if (!isService || state.workloadByUid(name) !== undefined) removeWorkloads.add(name);
  }
  for (const resource of update.upserts) {
    const name = addressResourceName(resource);
    if (resource.kind === 'workload') {
      workloads.push(resource.workload);
      if (state.serviceByKey(name) !== undefined) removeServices.add(name);
    } else {
      services.push(resource.service);
      if (state.workloadByUid(name) !== undefined) removeWorkloads.add(name);
    }
  }
  return {
    workloads: { upsert: workloads, remove: [...removeWorkloads] },
    services: { upsert: services, remove: [...removeServices] },
  };
}

/** Authorization resources are named `<namespace>/<name>`, the store's key, so they map one to one. */
export function authorizationBatch(update: DeltaUpdateBatch<Authorization>): MeshBatch {
  return { authorizations: { upsert: update.upserts, remove: update.removals } };
}
