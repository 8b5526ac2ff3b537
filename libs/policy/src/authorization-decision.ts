// The decision value both evaluators return, and the ALLOW/DENY ordering they share (Istio's documented order,
// as ztunnel's `assert_rbac` implements it): dry-run set aside, any DENY match denies, no ALLOW allows, an ALLOW
// match allows, otherwise deny.

/** What a dry-run policy would have done; never enforced. */
export interface DryRunOutcome {
  readonly policy: string;
  readonly action: string;
  readonly matched: boolean;
  /** A matching DENY would deny; an ALLOW would allow only if it matches. */
  readonly wouldAllow: boolean;
}

export interface AuthorizationDecision {
  readonly allow: boolean;
  /** `ns/name` of the deciding policy, when one decided. */
  readonly policy?: string;
  readonly reason: string;
  readonly dryRun: readonly DryRunOutcome[];
  /** One line per policy, rule and clause decision, for `authz explain`. */
  readonly trace: readonly string[];
}

export const REASON_NO_ALLOW_POLICIES = 'no allow policies';
export const REASON_NONE_ALLOWED = 'allow policies exist, but none allowed';

/** ztunnel's rejection text for a matching DENY. */
export function explicitlyDeniedReason(policy: string): string {
  return `explicitly denied by: ${policy}`;
}

export function allowedByReason(policy: string): string {
  return `allowed by: ${policy}`;
}

/** A compiled policy as far as ordering is concerned. */
export interface OrderedPolicy {
  readonly key: string;
  readonly action: string;
  readonly dryRun: boolean;
}

export interface OrderOutcome {
  readonly allow: boolean;
  readonly policy?: string;
  readonly reason: string;
  readonly dryRun: DryRunOutcome[];
}

/**
 * Applies the ALLOW/DENY order to `policies` (other actions are ignored here). `matches` evaluates one policy and
 * appends its own trace lines. Dry-run policies are evaluated first, reported, and never decide.
 */
export function decideAllowDeny<P extends OrderedPolicy>(
  policies: readonly P[],
  matches: (policy: P) => boolean,
  trace: string[] | undefined,
): OrderOutcome {
  const dryRun: DryRunOutcome[] = [];
  const relevant = policies.filter((p) => p.action === 'ALLOW' || p.action === 'DENY');
  for (const policy of relevant.filter((p) => p.dryRun)) {
    const matched = matches(policy);
    const wouldAllow = policy.action === 'DENY' ? !matched : matched;
    dryRun.push({ policy: policy.key, action: policy.action, matched, wouldAllow });
    trace?.push(`dry-run ${policy.key} (${policy.action}): ${matched ? 'matched' : 'no match'}, would ${wouldAllow ? 'allow' : 'deny'}; not enforced`);
  }
  const enforced = relevant.filter((p) => !p.dryRun);
  for (const policy of enforced.filter((p) => p.action === 'DENY')) {
    if (matches(policy)) {
      trace?.push(`decision: deny, DENY policy ${policy.key} matched`);
      return { allow: false, policy: policy.key, reason: explicitlyDeniedReason(policy.key), dryRun };
    }
  }
  const allows = enforced.filter((p) => p.action === 'ALLOW');
  if (allows.length === 0) {
    trace?.push('decision: allow, no ALLOW policy applies');
    return { allow: true, reason: REASON_NO_ALLOW_POLICIES, dryRun };
  }
  for (const policy of allows) {
    if (matches(policy)) {
      trace?.push(`decision: allow, ALLOW policy ${policy.key} matched`);
      return { allow: true, policy: policy.key, reason: allowedByReason(policy.key), dryRun };
    }
  }
  const count = allows.length === 1 ? '1 ALLOW policy applies' : `${allows.length} ALLOW policies apply`;
  trace?.push(`decision: deny, ${count} and none matched`);
  return { allow: false, reason: REASON_NONE_ALLOWED, dryRun };
}
