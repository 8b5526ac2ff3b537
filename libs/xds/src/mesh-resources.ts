// The controlplane's side of Delta ADS: turns computed mesh resources into per-type snapshots (name → content-hash
// version + encoded bytes) and serves them as a DeltaResourceSource, telling the server which type URLs changed so
// it pushes only differences (reference §4.1: versions are hashes of the serialized resource).

import type { Authorization, L7Authorization, RequestAuthentication, Service, WaypointService, Workload } from '@weft/mesh-model';
import { encodeAddressResource } from './address-adapter';
import { encodeAuthorizationResource } from './authorization-adapter';
import { encodeL7AuthorizationResource, encodeRequestAuthenticationResource, encodeWaypointServiceResource } from './l7-adapter';
import { contentVersion, type DeltaSnapshot, type DeltaSnapshotEntry } from './delta-server-state';
import type { DeltaResourceSource } from './delta-server-types';
import {
  ADDRESS_TYPE_URL,
  AUTHORIZATION_TYPE_URL,
  L7_AUTHORIZATION_TYPE_URL,
  REQUEST_AUTHENTICATION_TYPE_URL,
  WAYPOINT_SERVICE_TYPE_URL,
} from './type-urls';
import type { EncodedResource } from './xds-result';

export interface MeshResources {
  readonly workloads: readonly Workload[];
  readonly services: readonly Service[];
  readonly authorizations: readonly Authorization[];
  /** Waypoint L7 resources (weft.l7.v1). An absent list leaves its type URL out of the snapshots (served empty). */
  readonly waypointServices?: readonly WaypointService[];
  readonly l7Authorizations?: readonly L7Authorization[];
  readonly requestAuthentications?: readonly RequestAuthentication[];
}

/** Snapshots keyed by type URL. */
export type MeshSnapshots = ReadonlyMap<string, DeltaSnapshot>;

function toSnapshot(encoded: readonly EncodedResource[]): DeltaSnapshot {
  const entries = new Map<string, DeltaSnapshotEntry>();
  for (const resource of encoded) {
    entries.set(resource.name, {
      version: contentVersion(resource.value),
      resource: { typeUrl: resource.typeUrl, value: resource.value },
    });
  }
  return entries;
}

/** Encodes every resource once; the ADS server then diffs versions per subscriber. */
export function buildMeshSnapshots(resources: MeshResources): MeshSnapshots {
  const addresses = [
    ...resources.workloads.map((workload) => encodeAddressResource({ kind: 'workload', workload })),
    ...resources.services.map((service) => encodeAddressResource({ kind: 'service', service })),
  ];
  const snapshots = new Map([
    [ADDRESS_TYPE_URL, toSnapshot(addresses)],
    [AUTHORIZATION_TYPE_URL, toSnapshot(resources.authorizations.map(encodeAuthorizationResource))],
  ]);
  // Only the L7 types a caller supplies: a caller that computes no waypoint resources keeps its type URLs (and the
  // changed-type list of its first update) exactly as before.
  const { waypointServices, l7Authorizations, requestAuthentications } = resources;
  if (waypointServices !== undefined) snapshots.set(WAYPOINT_SERVICE_TYPE_URL, toSnapshot(waypointServices.map(encodeWaypointServiceResource)));
  if (l7Authorizations !== undefined) snapshots.set(L7_AUTHORIZATION_TYPE_URL, toSnapshot(l7Authorizations.map(encodeL7AuthorizationResource)));
  if (requestAuthentications !== undefined) {
    snapshots.set(REQUEST_AUTHENTICATION_TYPE_URL, toSnapshot(requestAuthentications.map(encodeRequestAuthenticationResource)));
  }
  return snapshots;
}

function sameSnapshot(a: DeltaSnapshot | undefined, b: DeltaSnapshot | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.size !== b.size) return false;
  for (const [name, entry] of a) {
    if (b.get(name)?.version !== entry.version) return false;
  }
  return true;
}

export interface SnapshotSource extends DeltaResourceSource {
  /** Replaces the served snapshots and returns the type URLs whose content changed (listeners get the same list). */
  update(next: MeshSnapshots): readonly string[];
  current(): MeshSnapshots;
}

const EMPTY_SNAPSHOT: DeltaSnapshot = new Map();

/** A DeltaResourceSource over whole-mesh snapshots; every proxy sees the same resources. */
export function createSnapshotSource(initial: MeshSnapshots = new Map()): SnapshotSource {
  let snapshots = initial;
  const listeners = new Set<(typeUrls: readonly string[]) => void>();
  return {
    snapshot: (typeUrl) => snapshots.get(typeUrl) ?? EMPTY_SNAPSHOT,
    subscribe(onChange) {
      listeners.add(onChange);
      return () => listeners.delete(onChange);
    },
    current: () => snapshots,
    update(next) {
      const typeUrls = new Set([...snapshots.keys(), ...next.keys()]);
      const changed = [...typeUrls].filter((typeUrl) => !sameSnapshot(snapshots.get(typeUrl), next.get(typeUrl))).sort();
      snapshots = next;
      if (changed.length > 0) for (const listener of [...listeners]) listener(changed);
      return changed;
    },
  };
}
