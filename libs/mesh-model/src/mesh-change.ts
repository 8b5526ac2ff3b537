// What goes into the store (a batch: one decoded xDS push) and what comes out (one change notification per batch),
// after ztunnel's ProxyStateUpdater, which applies a whole response under one write lock (reference §4.1).

import type { Authorization, Service, Workload } from './types';

/** Upserts and removals of one kind; removal keys are the xDS resource names. */
export interface KindBatch<T> {
  readonly upsert?: readonly T[];
  readonly remove?: readonly string[];
}

/**
 * One unit of change, normally one decoded Delta xDS response. Within a kind, removals are applied before upserts
 * and a later upsert of the same key wins, so the change reported is the net difference per key.
 */
export interface MeshBatch {
  /** Upserted by `uid`; removed by uid. */
  readonly workloads?: KindBatch<Workload>;
  /** Upserted by `<namespace>/<hostname>`; removed by that key. */
  readonly services?: KindBatch<Service>;
  /** Upserted by `<namespace>/<name>`; removed by that key. */
  readonly authorizations?: KindBatch<Authorization>;
}

export type MeshKind = 'workload' | 'service' | 'authorization';

/** Net effect of a batch on one kind; every list is sorted. */
export interface KindChange {
  readonly added: readonly string[];
  readonly updated: readonly string[];
  readonly removed: readonly string[];
  /** Upserted with content identical to what the store held: nothing was re-indexed. */
  readonly unchanged: readonly string[];
  /** Removals of keys the store did not hold; a no-op, listed so that a caller can spot a drift. */
  readonly unknownRemovals: readonly string[];
}

/**
 * Several workloads claim one `network/ip` (for example a WorkloadEntry and a pod during a migration). ztunnel keeps
 * them all and answers lookups with one: Pods over other kinds, HBONE over plain, then the latest written.
 */
export interface AddressConflict {
  /** `<network>/<ip>`. */
  readonly address: string;
  /** Every uid on the address, oldest write first. */
  readonly uids: readonly string[];
  /** The uid that `workloadByAddress` returns. */
  readonly chosen: string;
}

/** A resource the store refused; the rest of the batch is still applied, as ztunnel NACKs one resource only. */
export interface MeshRejection {
  readonly kind: MeshKind;
  /** The resource's key, or its position in the batch when it has none. */
  readonly key: string;
  readonly code: MeshRejectionCode;
  readonly reason: string;
}

export type MeshRejectionCode = 'ERR_MESH_KEY_MISSING' | 'ERR_MESH_ADDRESS_INVALID' | 'ERR_MESH_CAPACITY_INVALID';

export interface MeshChange {
  /** The store's version after this batch. */
  readonly version: number;
  readonly workloads: KindChange;
  readonly services: KindChange;
  readonly authorizations: KindChange;
  /**
   * Service keys whose endpoints were added or removed, or whose backing workload was added, removed or updated
   * (address, port map, status, locality and capacity all feed endpoint selection). Sorted.
   */
  readonly endpointsChanged: readonly string[];
  /** Addresses touched by this batch that now hold more than one workload. */
  readonly addressConflicts: readonly AddressConflict[];
  readonly rejected: readonly MeshRejection[];
}

export type MeshListener = (change: MeshChange) => void;

/** A listener threw; the store caught it, kept its state and went on with the other listeners. */
export interface ListenerFailure {
  readonly listener: MeshListener;
  readonly error: unknown;
}

/** What `apply` returns: the change every listener saw, plus the failures of those listeners. */
export interface AppliedChange extends MeshChange {
  readonly listenerFailures: readonly ListenerFailure[];
}

/** Thrown only for misuse that would break the one-batch-one-notification contract. */
export class MeshStoreError extends Error {
  override readonly name = 'MeshStoreError';
  constructor(
    readonly code: 'ERR_MESH_STORE_REENTRANT_APPLY',
    message: string,
  ) {
    super(message);
  }
}

/** Whether a change carries no effect at all (every upsert unchanged, nothing removed or rejected). */
export function isEmptyChange(change: MeshChange): boolean {
  const kinds = [change.workloads, change.services, change.authorizations];
  return (
    kinds.every((k) => k.added.length === 0 && k.updated.length === 0 && k.removed.length === 0) &&
    change.rejected.length === 0
  );
}
