// Authorizations by key and by namespace (GLOBAL under ""), and the candidate policies of a workload: ztunnel's
// PolicyStore and the first step of `assert_rbac` (reference §6.5 step 1).

import { type Authorization, type Workload, authorizationKey } from './types';

/** The policies that may apply to a workload, and the listed selector policies the store does not hold. */
export interface PolicyCandidates {
  /** Namespace-scoped ones (by key), then GLOBAL ones (by key), then the workload's own list in its order. */
  readonly policies: readonly Authorization[];
  /**
   * Keys in `Workload.authorizationPolicies` the store does not know. ztunnel skips them with a warning: usually a
   * policy not pushed yet or just removed.
   */
  readonly unknown: readonly string[];
}

/** The by-namespace bucket of a policy: "" for GLOBAL, its namespace for NAMESPACE, none for selector policies. */
function bucketOf(policy: Authorization): string | undefined {
  switch (policy.scope) {
    case 'GLOBAL':
      return '';
    case 'NAMESPACE':
      return policy.namespace;
    case 'WORKLOAD_SELECTOR':
      // Selector policies reach a workload only through its `authorizationPolicies` list (reference §4.4).
      return undefined;
  }
}

export class PolicyIndex {
  private readonly byKey = new Map<string, Authorization>();
  private readonly byNamespace = new Map<string, Set<string>>();

  get size(): number {
    return this.byKey.size;
  }

  get(key: string): Authorization | undefined {
    return this.byKey.get(key);
  }

  values(): Authorization[] {
    return [...this.byKey.keys()].sort().flatMap((k) => this.byKey.get(k) ?? []);
  }

  /** Inserts or replaces a policy. Unlike ztunnel's `insert`, a scope change moves it out of its old bucket. */
  put(policy: Authorization): void {
    const key = authorizationKey(policy.namespace, policy.name);
    this.delete(key);
    this.byKey.set(key, policy);
    const bucket = bucketOf(policy);
    if (bucket === undefined) return;
    const keys = this.byNamespace.get(bucket);
    if (keys === undefined) this.byNamespace.set(bucket, new Set([key]));
    else keys.add(key);
  }

  /** Removes a policy from every index; false when the key was unknown. */
  delete(key: string): boolean {
    const previous = this.byKey.get(key);
    if (previous === undefined) return false;
    this.byKey.delete(key);
    const bucket = bucketOf(previous);
    if (bucket !== undefined) {
      const keys = this.byNamespace.get(bucket);
      keys?.delete(key);
      if (keys?.size === 0) this.byNamespace.delete(bucket);
    }
    return true;
  }

  /**
   * by_namespace[workload.namespace] ∪ by_namespace[""] ∪ workload.authorizationPolicies, deduplicated by key, in
   * ztunnel's order (namespace, global, workload) with each bucket sorted so the result does not depend on history.
   */
  policiesFor(workload: Workload): PolicyCandidates {
    const seen = new Set<string>();
    const policies: Authorization[] = [];
    const unknown: string[] = [];
    const bucketKeys = (bucket: string): string[] => [...(this.byNamespace.get(bucket) ?? [])].sort();
    for (const key of [...bucketKeys(workload.namespace), ...bucketKeys(''), ...workload.authorizationPolicies]) {
      if (seen.has(key)) continue;
      seen.add(key);
      const policy = this.byKey.get(key);
      if (policy === undefined) unknown.push(key);
      else policies.push(policy);
    }
    return { policies, unknown };
  }

  /** Index sizes, for tests and admin output: proves removal leaves nothing behind. */
  stats(): { policies: number; namespaces: number } {
    return { policies: this.byKey.size, namespaces: this.byNamespace.size };
  }
}
