// ztunnel's endpoint selection for a service-addressed connection (`ProxyState::load_balance` and
// `find_upstream_from_service`, reference §4.6) as pure functions: the caller passes the randomness.

import type { Endpoint, LoadBalancing, LoadBalancingScope, Service, Workload } from './types';

/** An endpoint of the service together with the workload behind it. */
export interface EndpointCandidate {
  readonly endpoint: Endpoint;
  readonly workload: Workload;
}

export interface SelectEndpointInput {
  readonly service: Service;
  /** The port the client dialled on the VIP. */
  readonly servicePort: number;
  /** The client workload; its network, node, cluster and locality drive routing preference. */
  readonly source: Workload;
  readonly candidates: readonly EndpointCandidate[];
  /** Uniform in [0, 1), like Math.random; injected so tests are deterministic. */
  readonly random: () => number;
}

/** How many candidates each filter removed, in the order the filters run; for an operator's "why". */
export interface ExcludedCounts {
  readonly unhealthy: number;
  /** No address and no network gateway to reach it through. */
  readonly unreachable: number;
  /** Neither the endpoint nor the service maps the port (named target port unresolved). */
  readonly noPortMapping: number;
  /** Outside the routing preference: not matching every scope (STRICT) or below the best rank (FAILOVER). */
  readonly routingPreference: number;
  /** Left after the other filters but with capacity 0, which a weighted choice never picks. */
  readonly zeroCapacity: number;
}

export type EndpointSelection =
  | {
      readonly ok: true;
      readonly workload: Workload;
      readonly endpoint: Endpoint;
      /** The port to dial on the workload (the `:authority` port under HBONE). */
      readonly targetPort: number;
    }
  /** The service's mode is PASSTHROUGH: no selection, the caller forwards to the original destination. */
  | { readonly ok: false; readonly reason: 'passthrough' }
  | {
      readonly ok: false;
      readonly reason: 'service port not found';
      readonly code: 'ERR_SERVICE_PORT_NOT_FOUND';
      readonly servicePort: number;
    }
  | {
      readonly ok: false;
      readonly reason: 'no healthy upstream';
      readonly code: 'ERR_NO_HEALTHY_UPSTREAM';
      readonly candidates: number;
      readonly excluded: ExcludedCounts;
    };

/**
 * The port to dial for `servicePort` on this endpoint: the endpoint's own mapping (named ports resolved per pod),
 * else the service's target port; undefined when neither resolves (0 means a named port left unresolved).
 */
export function targetPortFor(service: Service, endpoint: Endpoint, servicePort: number): number | undefined {
  const own = endpoint.ports.get(servicePort);
  if (own !== undefined && own > 0) return own;
  const shared = service.ports.find((p) => p.servicePort === servicePort)?.targetPort;
  return shared !== undefined && shared > 0 ? shared : undefined;
}

function scopeMatches(scope: LoadBalancingScope, source: Workload, target: Workload): boolean {
  switch (scope) {
    // A missing locality compares as empty strings, as ztunnel's default Locality does.
    case 'REGION':
      return (source.locality?.region ?? '') === (target.locality?.region ?? '');
    case 'ZONE':
      return (source.locality?.zone ?? '') === (target.locality?.zone ?? '');
    case 'SUBZONE':
      return (source.locality?.subzone ?? '') === (target.locality?.subzone ?? '');
    case 'NODE':
      return source.node === target.node;
    case 'CLUSTER':
      return source.clusterId === target.clusterId;
    case 'NETWORK':
      return source.network === target.network;
  }
}

function leadingMatches(scopes: readonly LoadBalancingScope[], source: Workload, target: Workload): number {
  const miss = scopes.findIndex((s) => !scopeMatches(s, source, target));
  return miss < 0 ? scopes.length : miss;
}

/**
 * FAILOVER rank of a target for a source: the number of leading scopes matched. When NETWORK is the first scope it
 * is preferred but not required (ztunnel#1980, istio#60829): the remaining scopes are ranked on both sides of the
 * network boundary and a same-network target gets a bonus of the whole list's length, so the worst same-network
 * target still outranks the best remote one, and a network outage fails over to the closest remote endpoints.
 */
export function routingRank(preference: readonly LoadBalancingScope[], source: Workload, target: Workload): number {
  if (preference[0] !== 'NETWORK') return leadingMatches(preference, source, target);
  const rest = leadingMatches(preference.slice(1), source, target);
  return rest + (source.network === target.network ? preference.length : 0);
}

/** Whether a target matches every scope, as STRICT mode requires. */
export function matchesAllScopes(
  preference: readonly LoadBalancingScope[],
  source: Workload,
  target: Workload,
): boolean {
  return preference.every((s) => scopeMatches(s, source, target));
}

/** Selects one endpoint of a service for a connection to `servicePort`, or says why there is none. */
export function selectEndpoint(input: SelectEndpointInput): EndpointSelection {
  const { service, servicePort, source, candidates } = input;
  const lb = service.loadBalancing;
  // ztunnel's find_upstream returns the original destination before looking at ports or endpoints.
  if (lb?.mode === 'PASSTHROUGH') return { ok: false, reason: 'passthrough' };
  if (!service.ports.some((p) => p.servicePort === servicePort)) {
    return { ok: false, reason: 'service port not found', code: 'ERR_SERVICE_PORT_NOT_FOUND', servicePort };
  }
  const excluded = { unhealthy: 0, unreachable: 0, noPortMapping: 0, routingPreference: 0, zeroCapacity: 0 };
  const usable: { candidate: EndpointCandidate; targetPort: number }[] = [];
  for (const candidate of candidates) {
    const { endpoint, workload } = candidate;
    // ALLOW_ALL is what istiod sets for publishNotReadyAddresses (and PASSTHROUGH ServiceEntries).
    if (workload.status === 'UNHEALTHY' && lb?.healthPolicy !== 'ALLOW_ALL') {
      excluded.unhealthy += 1;
      continue;
    }
    if (!reachable(workload, source)) {
      excluded.unreachable += 1;
      continue;
    }
    const targetPort = targetPortFor(service, endpoint, servicePort);
    if (targetPort === undefined) {
      excluded.noPortMapping += 1;
      continue;
    }
    usable.push({ candidate, targetPort });
  }
  const preferred = applyRoutingPreference(lb, source, usable);
  excluded.routingPreference = usable.length - preferred.length;
  const chosen = pickWeighted(preferred, (u) => u.candidate.workload.capacity, input.random);
  if (chosen === undefined) {
    excluded.zeroCapacity = preferred.length;
    const code = 'ERR_NO_HEALTHY_UPSTREAM';
    return { ok: false, reason: 'no healthy upstream', code, candidates: candidates.length, excluded };
  }
  const { workload, endpoint } = chosen.candidate;
  return { ok: true, workload, endpoint, targetPort: chosen.targetPort };
}

/**
 * A workload without an IP or hostname is reachable only through its network gateway from another network; WDS is
 * client-agnostic, so a gateway is sent even to same-network clients, which must never use it.
 */
function reachable(workload: Workload, source: Workload): boolean {
  if (workload.addresses.length > 0 || workload.hostname !== '') return true;
  return workload.network !== source.network && workload.networkGateway !== undefined;
}

function applyRoutingPreference<T extends { candidate: EndpointCandidate }>(
  lb: LoadBalancing | undefined,
  source: Workload,
  usable: readonly T[],
): readonly T[] {
  if (lb === undefined) return usable;
  const preference = lb.routingPreference;
  if (lb.mode === 'STRICT') return usable.filter((u) => matchesAllScopes(preference, source, u.candidate.workload));
  if (lb.mode !== 'FAILOVER') return usable;
  const ranks = usable.map((u) => routingRank(preference, source, u.candidate.workload));
  const best = ranks.reduce((max, r) => Math.max(max, r), 0);
  return usable.filter((_, i) => ranks[i] === best);
}

/**
 * Weighted random choice (rand's `choose_weighted`): an option of weight w is picked with probability w / Σw;
 * weight 0 is never picked, and no positive weight means no choice.
 */
export function pickWeighted<T>(
  options: readonly T[],
  weightOf: (option: T) => number,
  random: () => number,
): T | undefined {
  const weights = options.map((o) => {
    const w = weightOf(o);
    return Number.isFinite(w) && w > 0 ? w : 0;
  });
  const total = weights.reduce((sum, w) => sum + w, 0);
  if (total <= 0) return undefined;
  const draw = Math.min(Math.max(random(), 0), 1) * total;
  let cumulative = 0;
  let last: T | undefined;
  for (let i = 0; i < options.length; i += 1) {
    const w = weights[i] ?? 0;
    if (w === 0) continue;
    cumulative += w;
    last = options[i];
    if (draw < cumulative) return last;
  }
  // Only reached when random() returned 1 (or rounding pushed the draw to the total): take the last weighted one.
  return last;
}
