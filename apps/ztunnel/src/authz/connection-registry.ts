// Live inbound connections and their authorization inputs, re-checked on every policy change so that a
// connection no longer allowed is closed (reference §2.4, §6.5 step 8; ztunnel ConnectionManager).

import type { MeshChange, MeshState, Workload } from '@weft/mesh-model';
import type { L4Connection } from '@weft/policy';

import { policyChangeMessage, type Authorizer, type AuthzDecision } from './authorizer';

export interface TrackedConnection {
  /** Unique per connection (the data path's connection id). */
  readonly id: string;
  /** The destination pod, as it was when the connection was admitted. */
  readonly workload: Workload;
  /** The inputs RBAC evaluated at admission. */
  readonly connection: L4Connection;
}

export interface RevokedConnection {
  readonly id: string;
  readonly decision: AuthzDecision;
  /** `connection closed due to policy change: <reason>`. */
  readonly message: string;
}

export interface ConnectionRegistry {
  /** Starts tracking an admitted connection; returns the (idempotent) untrack to call when it closes. */
  track(connection: TrackedConnection): () => void;
  untrack(id: string): void;
  readonly size: number;
  /**
   * Re-evaluates every tracked connection against the current policies. Those now denied are untracked, passed
   * to `onRevoked` and returned.
   */
  reevaluate(): readonly RevokedConnection[];
  /** A store listener: re-evaluates when the change can affect authorization. */
  onMeshChange(change: MeshChange): readonly RevokedConnection[];
}

export interface ConnectionRegistryOptions {
  readonly state: MeshState;
  readonly authorizer: Authorizer;
  /** Called once per revoked connection, after it has been untracked; the proxy closes it. */
  readonly onRevoked?: (revoked: RevokedConnection) => void;
}

/** Whether a change may alter a decision: any policy, or a workload whose attached-policy list may have moved. */
export function affectsAuthorization(change: MeshChange): boolean {
  const moved = (k: MeshChange['authorizations']) => k.added.length + k.updated.length + k.removed.length > 0;
  return moved(change.authorizations) || change.workloads.updated.length > 0 || change.workloads.removed.length > 0;
}

export function createConnectionRegistry(options: ConnectionRegistryOptions): ConnectionRegistry {
  const { state, authorizer, onRevoked } = options;
  const live = new Map<string, TrackedConnection>();

  function reevaluate(): RevokedConnection[] {
    const revoked: RevokedConnection[] = [];
    for (const tracked of [...live.values()]) {
      // The store's current workload carries its current policy list; a removed pod keeps its last known one.
      const workload = state.workloadByUid(tracked.workload.uid) ?? tracked.workload;
      const decision = authorizer.authorize({ workload, connection: tracked.connection });
      if (decision.allow) continue;
      live.delete(tracked.id);
      revoked.push({ id: tracked.id, decision, message: policyChangeMessage(decision) });
    }
    for (const r of revoked) onRevoked?.(r);
    return revoked;
  }

  return {
    track(connection) {
      live.set(connection.id, connection);
      return () => {
        if (live.get(connection.id) === connection) live.delete(connection.id);
      };
    },
    untrack(id) {
      live.delete(id);
    },
    get size() {
      return live.size;
    },
    reevaluate,
    onMeshChange: (change) => (affectsAuthorization(change) ? reevaluate() : []),
  };
}
