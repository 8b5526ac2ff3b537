// Host selection within one upstream cluster, as Envoy's load balancers do it for the policies a DestinationRule
// can name (`LoadBalancerSettings.simple`; Istio's default is LEAST_REQUEST, reference §7.4). Randomness is injected.

import type { LoadBalancer } from '@weft/mesh-model';
import type { Endpoint } from './resolve-endpoints';

export interface LoadBalancerState {
  /**
   * One endpoint of `endpoints` (undefined only when there are none). `exclude` holds hosts already tried for this
   * request (Envoy's `retry_ignore_previous_hosts` predicate); it is ignored when it would leave no host.
   */
  pick(endpoints: readonly Endpoint[], exclude?: ReadonlySet<string>): Endpoint | undefined;
  /** A request to `uid` began; LEAST_REQUEST compares these counts. */
  started(uid: string): void;
  /** A request to `uid` ended (each `started` is matched by one `finished`). */
  finished(uid: string): void;
}

/** Envoy's `choice_count` default: two random choices (P2C); Istio does not change it. */
const LEAST_REQUEST_CHOICES = 2;
/** Round robin starts at a random counter in [0, 2^32), like Envoy's 32-bit-or-wider `seed_`. */
const ROUND_ROBIN_SEED_RANGE = 2 ** 32;

/**
 * LEAST_REQUEST (default; Envoy's power-of-two-choices on active requests), ROUND_ROBIN, RANDOM.
 *
 * `consistentHash` falls back to LEAST_REQUEST: a ring-hash or Maglev pick needs the request's hash key (header,
 * cookie, source IP, query parameter), which this interface does not carry, so requests are spread instead of pinned.
 * PASSTHROUGH (Istio: an ORIGINAL_DST cluster, forward to the address the client dialled) is the caller's to honour
 * before choosing among endpoints; here it too falls back to LEAST_REQUEST.
 *
 * Host weights are not modelled: WDS capacity is uniform for pods, so Envoy's unweighted paths (plain P2C, plain
 * round robin) are the ones that run.
 */
export function createLoadBalancer(policy: LoadBalancer | undefined, random: () => number): LoadBalancerState {
  const active = new Map<string, number>();
  const activeOf = (uid: string): number => active.get(uid) ?? 0;
  const choose = chooser(policy, random, activeOf);
  return {
    pick(endpoints, exclude) {
      if (endpoints.length === 0) return undefined;
      const fresh = exclude === undefined ? endpoints : endpoints.filter((e) => !exclude.has(e.uid));
      return choose(fresh.length > 0 ? fresh : endpoints);
    },
    started(uid) {
      active.set(uid, activeOf(uid) + 1);
    },
    finished(uid) {
      const count = activeOf(uid) - 1;
      if (count > 0) active.set(uid, count);
      else active.delete(uid);
    },
  };
}

type Choose = (hosts: readonly Endpoint[]) => Endpoint;

function chooser(policy: LoadBalancer | undefined, random: () => number, activeOf: (uid: string) => number): Choose {
  const simple = policy?.kind === 'simple' ? policy.simple : 'LEAST_REQUEST';
  switch (simple) {
    case 'RANDOM':
      return (hosts) => at(hosts, index(random, hosts.length));
    case 'ROUND_ROBIN':
      return roundRobin(random);
    case 'LEAST_REQUEST':
    case 'PASSTHROUGH':
      return (hosts) => leastRequest(hosts, random, activeOf);
  }
}

/**
 * Envoy's unweighted N_CHOICES pick: draw `choice_count` hosts uniformly *with replacement*, keep the first drawn
 * unless a later draw has strictly fewer active requests (so ties go to the earlier draw).
 */
function leastRequest(hosts: readonly Endpoint[], random: () => number, activeOf: (uid: string) => number): Endpoint {
  let candidate = at(hosts, index(random, hosts.length));
  for (let choice = 1; choice < LEAST_REQUEST_CHOICES; choice += 1) {
    const sampled = at(hosts, index(random, hosts.length));
    if (activeOf(sampled.uid) < activeOf(candidate.uid)) candidate = sampled;
  }
  return candidate;
}

/**
 * Envoy's unweighted round robin: one counter, started at a random seed (so that many proxies do not march in
 * step), advanced on every pick and taken modulo the current host list — which may shrink or grow between picks.
 */
function roundRobin(random: () => number): Choose {
  let next: number | undefined;
  return (hosts) => {
    next ??= index(random, ROUND_ROBIN_SEED_RANGE);
    const chosen = at(hosts, next % hosts.length);
    next += 1;
    return chosen;
  };
}

/** `random() % n` in Envoy's terms: a uniform index in [0, n), clamped against a `random` that returns 1. */
function index(random: () => number, n: number): number {
  return Math.min(Math.floor(Math.max(random(), 0) * n), n - 1);
}

function at(hosts: readonly Endpoint[], i: number): Endpoint {
  const host = hosts[i];
  // Callers pass 0 <= i < hosts.length on a non-empty list.
  if (host === undefined) throw new RangeError(`host index ${i} outside 0..${hosts.length - 1}`);
  return host;
}
