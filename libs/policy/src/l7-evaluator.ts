// Waypoint (L7) authorization: compiles the AuthorizationPolicies attached to a waypoint (the caller selects the
// targetRef'd ones) and decides requests in Istio's order (§6.1): CUSTOM, DENY, no ALLOW, ALLOW, deny; AUDIT only
// reports. The ext-authz provider's answer for a matching CUSTOM policy is an input, keeping this pure.

import { actionOf, isDryRun, policyKey, type AuthorizationPolicy, type AuthorizationPolicyAction } from './authorization-policy';
import { decideAllowDeny, type AuthorizationDecision, type DryRunOutcome } from './authorization-decision';
import {
  compileCondition,
  compileOperation,
  compileSource,
  requestFacts,
  type Compiled,
  type FieldMatcher,
  type L7Request,
  type RequestFacts,
} from './l7-request-match';

interface CompiledRule {
  readonly index: number;
  /** Any source must match (absent: no constraint). Each source is the AND of its field matchers. */
  readonly from?: readonly (readonly FieldMatcher[])[];
  readonly to?: readonly (readonly FieldMatcher[])[];
  /** Every condition must match. */
  readonly when: readonly (readonly FieldMatcher[])[];
}

export interface CompiledL7Policy {
  readonly key: string;
  readonly action: AuthorizationPolicyAction;
  readonly provider?: string;
  readonly dryRun: boolean;
  readonly rules: readonly CompiledRule[];
}

export interface CompiledL7 {
  readonly policies: readonly CompiledL7Policy[];
  /** Rules skipped at compile time, as istiod skips rules it cannot generate ("skipped rule ..."). */
  readonly warnings: readonly string[];
}

export interface CustomCheck {
  readonly policy: string;
  readonly provider: string;
  /** The provider's answer; undefined when the caller supplied none. */
  readonly allowed?: boolean;
}

export interface L7Decision extends AuthorizationDecision {
  /** Matching AUDIT policies (never decide). */
  readonly audited: readonly string[];
  /** Matching CUSTOM policies, so the caller knows which provider to consult. */
  readonly custom: readonly CustomCheck[];
  /** Set when the decision is a fail-closed error rather than a policy outcome. */
  readonly error?: { readonly code: 'ERR_AUTHZ_CUSTOM_RESULT_MISSING'; readonly message: string };
}

function collect(list: readonly Compiled<FieldMatcher[]>[]): Compiled<FieldMatcher[][]> {
  const out: FieldMatcher[][] = [];
  for (const item of list) {
    if (!item.ok) return item;
    out.push(item.value);
  }
  return { ok: true, value: out };
}

function compilePolicy(policy: AuthorizationPolicy, warnings: string[]): CompiledL7Policy {
  const key = policyKey(policy);
  const namespace = policy.metadata.namespace;
  const rules: CompiledRule[] = [];
  (policy.spec.rules ?? []).forEach((rule, index) => {
    const from = rule.from === undefined || rule.from.length === 0 ? undefined : collect(rule.from.map(({ source }) => compileSource(source, namespace)));
    const to = rule.to === undefined || rule.to.length === 0 ? undefined : collect(rule.to.map(({ operation }) => compileOperation(operation)));
    const when = collect((rule.when ?? []).map((c) => compileCondition(c, namespace)));
    const problem = [from, to, when].find((c): c is { ok: false; problem: string } => c !== undefined && !c.ok);
    if (problem !== undefined) {
      warnings.push(`${key}: skipped rule ${index}: ${problem.problem}`);
      return;
    }
    const compiled: { index: number; from?: FieldMatcher[][]; to?: FieldMatcher[][]; when: FieldMatcher[][] } = {
      index,
      when: when.ok ? when.value : [],
    };
    if (from?.ok) compiled.from = from.value;
    if (to?.ok) compiled.to = to.value;
    rules.push(compiled);
  });
  const provider = policy.spec.provider?.name;
  return {
    key,
    action: actionOf(policy),
    ...(provider === undefined ? {} : { provider }),
    dryRun: isDryRun(policy),
    rules,
  };
}

/** Compiles the policies that apply to a waypoint's destination; compile once, evaluate many requests. */
export function compileL7(policies: readonly AuthorizationPolicy[]): CompiledL7 {
  const warnings: string[] = [];
  return { policies: policies.map((p) => compilePolicy(p, warnings)), warnings };
}

function firstFailure(matchers: readonly FieldMatcher[], facts: RequestFacts): string | undefined {
  return matchers.find((m) => !m.test(facts))?.field;
}

function anyEntry(label: string, entries: readonly (readonly FieldMatcher[])[], facts: RequestFacts): { pass: boolean; note: string } {
  const failures: string[] = [];
  for (const [i, matchers] of entries.entries()) {
    const failed = firstFailure(matchers, facts);
    if (failed === undefined) return { pass: true, note: `${label}[${i}] matched` };
    failures.push(`${label}[${i}] failed on ${failed}`);
  }
  return { pass: false, note: failures.join(', ') };
}

/** rule = any from AND any to AND every when; an empty rule matches everything. */
function policyMatches(policy: CompiledL7Policy, facts: RequestFacts, trace: string[]): boolean {
  const head = `${policy.key} (${policy.action})`;
  if (policy.rules.length === 0) {
    trace.push(`${head}: no rules, matches nothing`);
    return false;
  }
  for (const rule of policy.rules) {
    const notes: string[] = [];
    let pass = true;
    if (rule.from !== undefined) {
      const from = anyEntry('from', rule.from, facts);
      notes.push(from.note);
      pass = from.pass;
    }
    if (pass && rule.to !== undefined) {
      const to = anyEntry('to', rule.to, facts);
      notes.push(to.note);
      pass = to.pass;
    }
    for (const [i, condition] of rule.when.entries()) {
      if (!pass) break;
      const failed = firstFailure(condition, facts);
      notes.push(failed === undefined ? `when[${i}] matched` : `when[${i}] failed on ${failed}`);
      pass = failed === undefined;
    }
    trace.push(`${head} rule ${rule.index}: ${pass ? 'match' : 'no match'} [${notes.length > 0 ? notes.join('; ') : 'empty rule matches everything'}]`);
    if (pass) return true;
  }
  return false;
}

/** Decides one request. */
export function evaluateL7(compiled: CompiledL7, request: L7Request): L7Decision {
  const facts = requestFacts(request);
  const trace: string[] = [
    `request ${request.method} ${request.host}${request.path} (normalized path ${facts.path}) from ${request.sourceIp}, ` +
      `${facts.principal === undefined ? 'no peer identity' : `peer ${facts.principal}`}, ` +
      `${request.requestPrincipal === undefined ? 'no request principal' : `request principal ${request.requestPrincipal}`}`,
  ];
  const matches = (p: CompiledL7Policy) => policyMatches(p, facts, trace);
  const dryRunCustom: DryRunOutcome[] = [];
  const custom: CustomCheck[] = [];
  let denial: Omit<L7Decision, 'dryRun' | 'trace' | 'audited' | 'custom'> | undefined;

  for (const policy of compiled.policies.filter((p) => p.action === 'CUSTOM')) {
    if (!matches(policy)) continue;
    const provider = policy.provider ?? '';
    const allowed = request.customResults?.get(policy.key);
    if (policy.dryRun) {
      dryRunCustom.push({ policy: policy.key, action: 'CUSTOM', matched: true, wouldAllow: allowed === true });
      continue;
    }
    custom.push({ policy: policy.key, provider, ...(allowed === undefined ? {} : { allowed }) });
    if (denial !== undefined) continue;
    if (allowed === undefined) {
      const message = `CUSTOM policy ${policy.key} matched but provider "${provider}" gave no result; failing closed`;
      denial = { allow: false, policy: policy.key, reason: message, error: { code: 'ERR_AUTHZ_CUSTOM_RESULT_MISSING', message } };
    } else if (!allowed) {
      denial = { allow: false, policy: policy.key, reason: `denied by ext-authz provider "${provider}" (CUSTOM policy ${policy.key})` };
    }
  }

  const audited: string[] = [];
  for (const policy of compiled.policies.filter((p) => p.action === 'AUDIT')) {
    if (matches(policy)) {
      audited.push(policy.key);
      trace.push(`AUDIT policy ${policy.key} matched; the request is marked for audit (does not decide)`);
    }
  }

  if (denial !== undefined) {
    trace.push(`decision: deny, ${denial.reason}`);
    return { ...denial, dryRun: dryRunCustom, trace, audited, custom };
  }
  const outcome = decideAllowDeny(compiled.policies, matches, trace);
  return { ...outcome, dryRun: [...dryRunCustom, ...outcome.dryRun], trace, audited, custom };
}
