// The one state store of a proxy: workloads, services and authorizations with their indexes, changed only in
// batches that are validated, applied synchronously and announced once (STYLE.md §4, ztunnel ProxyStateUpdater).

import { validateBatch } from './batch-validation';
import type { EndpointCandidate } from './load-balancing';
import {
  type AddressConflict,
  type AppliedChange,
  type KindChange,
  type ListenerFailure,
  type MeshBatch,
  type MeshChange,
  type MeshListener,
  MeshStoreError,
} from './mesh-change';
import { networkAddressKey } from './ip-address';
import { type PolicyCandidates, PolicyIndex } from './policy-index';
import { ServiceIndex, chooseService } from './service-index';
import { structurallyEqual } from './structurally-equal';
import { type Authorization, type Endpoint, type Service, type Workload, authorizationKey, serviceKey } from './types';
import { WorkloadIndex, workloadAddressKeys } from './workload-index';

/** Read access to the mesh state: what a component that only looks things up should be given. */
export interface MeshState {
  /** Bumped once per applied batch; 0 before the first. */
  readonly version: number;
  workloadByUid(uid: string): Workload | undefined;
  /** The workload on `network/ip`; hostNetwork workloads are never found by IP (they share the node's). */
  workloadByAddress(network: string, ip: string): Workload | undefined;
  /** Every workload claiming `network/ip`, oldest write first (see AddressConflict). */
  workloadsByAddress(network: string, ip: string): readonly Workload[];
  /** Every service on a VIP, sorted by key (exact VIPs, else the longest matching CIDR VIP). */
  servicesByVip(network: string, ip: string): readonly Service[];
  /** The service a client in `sourceNamespace` reaches on a VIP (reference §2.6 step 1). */
  serviceForVip(network: string, ip: string, sourceNamespace: string): Service | undefined;
  /** By `<namespace>/<hostname>`. */
  serviceByKey(key: string): Service | undefined;
  servicesByHostname(hostname: string): readonly Service[];
  /** The service a client in `sourceNamespace` reaches by hostname; same preference as `serviceForVip`. */
  serviceForHostname(hostname: string, sourceNamespace: string): Service | undefined;
  /** Endpoints derived from the workloads' `services` maps, sorted by workload uid; known even before the service. */
  endpointsOf(serviceKey: string): readonly Endpoint[];
  /** `endpointsOf` joined with each endpoint's workload, ready for `selectEndpoint`. */
  endpointCandidatesOf(serviceKey: string): readonly EndpointCandidate[];
  authorizationByKey(key: string): Authorization | undefined;
  /** Candidate policies for a destination workload (reference §6.5 step 1). */
  policiesFor(workload: Workload): PolicyCandidates;
  /** Sorted by uid, for admin dumps. */
  workloads(): readonly Workload[];
  /** Sorted by key, for admin dumps. */
  services(): readonly Service[];
  /** Sorted by key, for admin dumps. */
  authorizations(): readonly Authorization[];
}

export interface MeshStore extends MeshState {
  /**
   * Applies a batch as one unit, then calls every listener once with the change. A listener that throws does not
   * stop the others; its failure is returned. Calling `apply` from a listener throws ERR_MESH_STORE_REENTRANT_APPLY.
   */
  apply(batch: MeshBatch): AppliedChange;
  /** Registers a listener for every later batch; returns its (idempotent) unsubscribe. */
  subscribe(listener: MeshListener): () => void;
}

interface Subscription {
  readonly listener: MeshListener;
  active: boolean;
}

export function createMeshStore(): MeshStore {
  const workloads = new WorkloadIndex();
  const services = new ServiceIndex();
  const policies = new PolicyIndex();
  let subscriptions: Subscription[] = [];
  let version = 0;
  let notifying = false;

  function apply(batch: MeshBatch): AppliedChange {
    if (notifying) {
      const message = 'apply() called from a mesh listener; queue the batch and apply it after this one';
      throw new MeshStoreError('ERR_MESH_STORE_REENTRANT_APPLY', message);
    }
    const valid = validateBatch(batch);
    // Nothing below can fail: every index operation is total once the batch is valid.
    const workloadChange = applyKind(workloads, valid.workloads, (w) => w.uid);
    const serviceChange = applyKind(services, valid.services, (s) => serviceKey(s.namespace, s.hostname));
    const policyChange = applyKind(policies, valid.authorizations, (a) => authorizationKey(a.namespace, a.name));
    version += 1;
    const change: MeshChange = deepFreeze({
      version,
      workloads: workloadChange.change,
      services: serviceChange.change,
      authorizations: policyChange.change,
      endpointsChanged: endpointsChanged(workloadChange.before, workloads),
      addressConflicts: addressConflicts(workloadChange.before, workloads),
      rejected: valid.rejected,
    });
    return { ...change, listenerFailures: notify(change) };
  }

  function notify(change: MeshChange): ListenerFailure[] {
    const failures: ListenerFailure[] = [];
    notifying = true;
    try {
      // `subscriptions` is replaced, never mutated, so this round's list is fixed: one subscribed now waits for
      // the next batch, and one unsubscribed by an earlier listener is skipped through its flag.
      for (const subscription of subscriptions) {
        if (!subscription.active) continue;
        try {
          subscription.listener(change);
        } catch (error: unknown) {
          failures.push({ listener: subscription.listener, error });
        }
      }
    } finally {
      notifying = false;
    }
    return failures;
  }

  return {
    get version() {
      return version;
    },
    apply,
    subscribe(listener) {
      const subscription: Subscription = { listener, active: true };
      subscriptions = [...subscriptions, subscription];
      return () => {
        subscription.active = false;
        subscriptions = subscriptions.filter((s) => s !== subscription);
      };
    },
    workloadByUid: (uid) => workloads.get(uid),
    workloadByAddress: (network, ip) => workloads.byAddressKey(networkAddressKey(network, ip)),
    workloadsByAddress: (network, ip) => workloads.allByAddressKey(networkAddressKey(network, ip)),
    servicesByVip: (network, ip) => services.byVipAll(network, ip),
    serviceForVip: (network, ip, sourceNamespace) => chooseService(services.byVipAll(network, ip), sourceNamespace),
    serviceByKey: (key) => services.get(key),
    servicesByHostname: (hostname) => services.byHostnameAll(hostname),
    serviceForHostname: (hostname, sourceNamespace) => chooseService(services.byHostnameAll(hostname), sourceNamespace),
    endpointsOf: (key) => workloads.endpointsOf(key),
    endpointCandidatesOf: (key) =>
      workloads.endpointsOf(key).flatMap((endpoint) => {
        const workload = workloads.get(endpoint.workloadUid);
        return workload === undefined ? [] : [{ endpoint, workload }];
      }),
    authorizationByKey: (key) => policies.get(key),
    policiesFor: (workload) => policies.policiesFor(workload),
    workloads: () => workloads.values(),
    services: () => services.values(),
    authorizations: () => policies.values(),
  };
}

interface KeyedIndex<T> {
  get(key: string): T | undefined;
  put(value: T): void;
  delete(key: string): boolean;
}

/**
 * Applies one kind's removals, then its upserts, remembering each touched key's value from before the batch so the
 * reported change is the net difference. An upsert equal to what is stored is skipped: nothing is re-indexed.
 */
function applyKind<T>(
  index: KeyedIndex<T>,
  batch: { readonly upsert: readonly T[]; readonly remove: readonly string[] },
  keyOf: (value: T) => string,
): { change: KindChange; before: Map<string, T | undefined> } {
  const before = new Map<string, T | undefined>();
  const touch = (key: string): void => {
    if (!before.has(key)) before.set(key, index.get(key));
  };
  for (const key of batch.remove) {
    touch(key);
    index.delete(key);
  }
  for (const value of batch.upsert) {
    const key = keyOf(value);
    touch(key);
    const current = index.get(key);
    if (current === undefined || !structurallyEqual(current, value)) index.put(value);
  }
  const change: Record<keyof KindChange, string[]> = {
    added: [],
    updated: [],
    removed: [],
    unchanged: [],
    unknownRemovals: [],
  };
  for (const [key, previous] of before) {
    const now = index.get(key);
    if (previous === undefined) (now === undefined ? change.unknownRemovals : change.added).push(key);
    else if (now === undefined) change.removed.push(key);
    else (structurallyEqual(previous, now) ? change.unchanged : change.updated).push(key);
  }
  for (const list of Object.values(change)) list.sort();
  return { change, before };
}

/** Service keys of every workload that was added, removed or updated, on both sides of the change. */
function endpointsChanged(before: ReadonlyMap<string, Workload | undefined>, index: WorkloadIndex): string[] {
  const keys = new Set<string>();
  for (const [uid, previous] of before) {
    const now = index.get(uid);
    if (previous !== undefined && now !== undefined && structurallyEqual(previous, now)) continue;
    for (const w of [previous, now]) Object.keys(w?.services ?? {}).forEach((k) => keys.add(k));
  }
  return [...keys].sort();
}

/** Addresses of touched workloads that end the batch with more than one claimant. */
function addressConflicts(before: ReadonlyMap<string, Workload | undefined>, index: WorkloadIndex): AddressConflict[] {
  const addresses = new Set<string>();
  for (const [uid, previous] of before) {
    for (const w of [previous, index.get(uid)]) {
      if (w !== undefined) workloadAddressKeys(w).forEach((a) => addresses.add(a));
    }
  }
  const conflicts: AddressConflict[] = [];
  for (const address of [...addresses].sort()) {
    const claimants = index.allByAddressKey(address);
    const chosen = index.byAddressKey(address);
    if (claimants.length > 1 && chosen !== undefined) {
      conflicts.push({ address, uids: claimants.map((w) => w.uid), chosen: chosen.uid });
    }
  }
  return conflicts;
}

/** Freezes a change for every listener to share; it holds only keys and reasons, nothing the caller owns. */
function deepFreeze<T extends object>(value: T): T {
  for (const field of Object.values(value)) {
    if (typeof field === 'object' && field !== null && !Object.isFrozen(field)) deepFreeze(field as object);
  }
  return Object.freeze(value);
}
