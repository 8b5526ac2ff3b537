// AuthorizationPolicy at the waypoint (reference §6.1–6.2): adapts the controlplane's L7Authorization into
// @weft/policy's AuthorizationPolicy, compiles once, and decides each request in Istio's order with Envoy RBAC's
// denial reply. CUSTOM without a provider answer fails closed; AUDIT never decides.

import type { L7Authorization, L7Condition, L7Operation, L7Source } from '@weft/mesh-model';
import {
  DRY_RUN_ANNOTATION,
  compileL7,
  evaluateL7,
  type AuthorizationPolicy,
  type CompiledL7,
  type Condition,
  type Operation,
  type Rule,
  type Source,
} from '@weft/policy';
import type { AuthenticatedRequest } from './request-authenticator';

export interface AuthzInput {
  readonly method: string;
  /** `:path`, query included. */
  readonly path: string;
  /** `:authority`. */
  readonly host: string;
  readonly headers: Readonly<Record<string, string | readonly string[]>>;
  readonly sourceIp: string;
  /** `spiffe://td/ns/x/sa/y` of the HBONE peer. */
  readonly sourcePrincipal: string;
  readonly destinationIp: string;
  readonly destinationPort: number;
  /** Set when RequestAuthentication verified a token. */
  readonly request?: AuthenticatedRequest;
  /** ext-authz answers for matching CUSTOM policies, keyed `ns/name`; a missing answer denies. */
  readonly customResults?: ReadonlyMap<string, boolean>;
}

/** Envoy RBAC's local reply body. */
export const RBAC_DENIED_BODY = 'RBAC: access denied';

export type AuthzResult =
  | { readonly allow: true }
  | { readonly allow: false; readonly status: 403; readonly body: typeof RBAC_DENIED_BODY; readonly policy?: string; readonly reason: string };

/** Drops empty lists so the policy reads as a user would have written it. */
function present<T extends object>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => !Array.isArray(v) || v.length > 0)) as Partial<T>;
}

const toSource = (s: L7Source): { source: Source } => ({ source: present(s) });
const toOperation = (o: L7Operation): { operation: Operation } => ({ operation: present(o) });
const toCondition = (c: L7Condition): Condition => ({ key: c.key, ...present({ values: c.values, notValues: c.notValues }) });

/** L7Authorization (the controlplane's domain form) → AuthorizationPolicy (the policy library's input). */
export function toAuthorizationPolicy(policy: L7Authorization): AuthorizationPolicy {
  const rules: Rule[] = policy.rules.map((rule) => ({
    ...(rule.from.length > 0 ? { from: rule.from.map(toSource) } : {}),
    ...(rule.to.length > 0 ? { to: rule.to.map(toOperation) } : {}),
    ...(rule.when.length > 0 ? { when: rule.when.map(toCondition) } : {}),
  }));
  return {
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: {
      name: policy.name,
      namespace: policy.namespace,
      ...(policy.dryRun ? { annotations: { [DRY_RUN_ANNOTATION]: 'true' } } : {}),
    },
    spec: {
      targetRefs: policy.targets.map((t) => ({ group: t.group, kind: t.kind, name: t.name, ...(t.namespace === '' ? {} : { namespace: t.namespace }) })),
      action: policy.action,
      ...(policy.action === 'CUSTOM' ? { provider: { name: policy.provider } } : {}),
      rules,
    },
  };
}

const ALLOWED: AuthzResult = Object.freeze({ allow: true });

export class L7Authorizer {
  /** Rules skipped at compile time and policies that cannot work as written, for status and the admin dump. */
  readonly warnings: readonly string[];
  private readonly compiled: CompiledL7;

  /** `policies` are the ones attached to this request's destination (see `policiesFor`). */
  constructor(policies: readonly L7Authorization[]) {
    this.compiled = compileL7(policies.map(toAuthorizationPolicy));
    const custom = policies
      .filter((p) => p.action === 'CUSTOM' && p.provider === '')
      .map((p) => `${p.namespace}/${p.name}: CUSTOM policy without a provider; matching requests are denied`);
    this.warnings = [...this.compiled.warnings, ...custom];
  }

  decide(input: AuthzInput): AuthzResult {
    // No policy attached: Istio allows, and evaluating would only build the request facts and a trace nobody reads.
    if (this.compiled.policies.length === 0) return ALLOWED;
    const decision = evaluateL7(this.compiled, {
      method: input.method,
      path: input.path,
      host: input.host,
      port: input.destinationPort,
      headers: input.headers,
      sourceIp: input.sourceIp,
      // Without trusted proxies Envoy's remote address is the downstream peer itself.
      remoteIp: input.sourceIp,
      ...(input.sourcePrincipal === '' ? {} : { sourcePrincipal: input.sourcePrincipal }),
      ...(input.request?.principal === undefined ? {} : { requestPrincipal: input.request.principal }),
      ...(input.request?.claims === undefined ? {} : { claims: input.request.claims }),
      destinationIp: input.destinationIp,
      destinationPort: input.destinationPort,
      ...(input.customResults === undefined ? {} : { customResults: input.customResults }),
    });
    if (decision.allow) return ALLOWED;
    return {
      allow: false,
      status: 403,
      body: RBAC_DENIED_BODY,
      ...(decision.policy === undefined ? {} : { policy: decision.policy }),
      reason: decision.reason,
    };
  }
}
