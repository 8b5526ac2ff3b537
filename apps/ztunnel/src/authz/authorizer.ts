// ztunnel's `assert_rbac` (reference §6.5) over the store: candidate policies per destination workload, compiled once
// per policy version and evaluated per connection with @weft/policy. STRICT mTLS (§6.6) and the implicit
// waypoint allow (§6.7) arrive from the control plane as ordinary policies attached to the workload, so they are
// enforced by the same evaluation: a 15006 connection simply has no peer identity.

import type { Authorization, MeshState, Workload } from '@weft/mesh-model';
import { compileL4, evaluateL4, type CompiledL4, type DryRunOutcome, type L4Connection } from '@weft/policy';

export interface AuthorizationRequest {
  /** The destination: the pod the inbound listener belongs to. */
  readonly workload: Workload;
  readonly connection: L4Connection;
}

export interface AuthzDecision {
  readonly allow: boolean;
  /** `ns/name` of the deciding policy. */
  readonly policy?: string;
  /** ztunnel's wording: `explicitly denied by: ns/name`, `allow policies exist, but none allowed`, … */
  readonly reason: string;
  readonly dryRun: readonly DryRunOutcome[];
  /** Listed policy keys the store does not hold (skipped, as ztunnel does, with a warning). */
  readonly unknownPolicies: readonly string[];
}

export interface Authorizer {
  authorize(request: AuthorizationRequest): AuthzDecision;
  /** The compiled candidate set of a workload at the store's current version (for admin and tests). */
  compiledFor(workload: Workload): CompiledL4;
}

/** The text ztunnel logs and closes with when RBAC rejects a connection (reference §8.3). */
export function rejectionMessage(decision: AuthzDecision): string {
  return `connection closed due to policy rejection: ${decision.reason}`;
}

/** The text for a live connection a policy change no longer allows (reference §2.4). */
export function policyChangeMessage(decision: AuthzDecision): string {
  return `connection closed due to policy change: ${decision.reason}`;
}

interface Assembled {
  readonly compiled: CompiledL4;
  readonly unknown: readonly string[];
}

/**
 * Builds an authorizer reading `state`. Each Authorization is compiled once per stored version (the store replaces
 * the object on every change, so the object itself is the version key); a workload's assembled candidate set is
 * cached until the store's version moves.
 */
export function createAuthorizer(state: MeshState): Authorizer {
  const compiledPolicies = new WeakMap<Authorization, CompiledL4>();
  let cacheVersion = -1;
  let assembled = new Map<string, { workload: Workload; value: Assembled }>();

  /** compileL4 of one policy: exactly one compiled policy, plus the values it dropped. */
  function compileOne(auth: Authorization): CompiledL4 {
    const cached = compiledPolicies.get(auth);
    if (cached !== undefined) return cached;
    const compiled = compileL4([auth]);
    compiledPolicies.set(auth, compiled);
    return compiled;
  }

  function assemble(workload: Workload): Assembled {
    if (state.version !== cacheVersion) {
      cacheVersion = state.version;
      assembled = new Map();
    }
    const hit = assembled.get(workload.uid);
    // The caller may hold a workload newer or older than the store's; reuse only for the same object.
    if (hit !== undefined && hit.workload === workload) return hit.value;
    const candidates = state.policiesFor(workload);
    const parts = candidates.policies.map(compileOne);
    const value: Assembled = {
      compiled: { policies: parts.flatMap((p) => p.policies), warnings: parts.flatMap((p) => p.warnings) },
      unknown: candidates.unknown,
    };
    assembled.set(workload.uid, { workload, value });
    return value;
  }

  return {
    authorize({ workload, connection }) {
      const { compiled, unknown } = assemble(workload);
      const decision = evaluateL4(compiled, connection, { explain: false });
      return {
        allow: decision.allow,
        ...(decision.policy === undefined ? {} : { policy: decision.policy }),
        reason: decision.reason,
        dryRun: decision.dryRun,
        unknownPolicies: unknown,
      };
    },
    compiledFor: (workload) => assemble(workload).compiled,
  };
}
