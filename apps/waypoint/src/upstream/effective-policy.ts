// Which DestinationRule traffic policy applies to one subset and port of a service, merged the way istiod builds a
// subset cluster (`MergeSubsetTrafficPolicy` / `GetPortLevelTrafficPolicy` in pilot/pkg/networking/util).

import type {
  ConnectionPool,
  LoadBalancer,
  OutlierDetection,
  TrafficPolicy,
  WaypointService,
} from '@weft/mesh-model';

export interface EffectivePolicy {
  readonly loadBalancer?: LoadBalancer;
  readonly connectionPool?: ConnectionPool;
  readonly outlierDetection?: OutlierDetection;
}

/**
 * The policy that applies: subset's traffic policy over the service's, port-level over whole-service, field by field
 * as Istio merges:
 *
 * 1. A policy (the service's or the subset's) with a `portLevel` entry for `port` is replaced by that entry
 *    **wholesale**: a part the entry leaves out takes the default, it is not inherited from the same policy's
 *    top level (Istio: "port level policies do not inherit").
 * 2. The subset's resolved policy then overrides the service's resolved one part by part (load balancer, connection
 *    pool, outlier detection); a part the subset leaves out is inherited — unless the subset's policy came from a
 *    port-level entry, which replaces every part, again leaving omitted ones at their defaults.
 *
 * `subset` "" (or a name the service does not define) means the service's own policy.
 */
export function effectivePolicy(service: WaypointService, subset: string, port: number): EffectivePolicy {
  const base = service.trafficPolicy === undefined ? undefined : forPort(service.trafficPolicy, port);
  const subsetPolicy = subset === '' ? undefined : service.subsets.find((s) => s.name === subset)?.trafficPolicy;
  if (subsetPolicy === undefined) return base?.policy ?? {};
  const override = forPort(subsetPolicy, port);
  if (base === undefined || override.portLevel) return override.policy;
  const inherited = base.policy;
  const own = override.policy;
  return compact({
    loadBalancer: own.loadBalancer ?? inherited.loadBalancer,
    connectionPool: own.connectionPool ?? inherited.connectionPool,
    outlierDetection: own.outlierDetection ?? inherited.outlierDetection,
  });
}

/** A policy as it applies to one port, and whether a port-level entry supplied it. */
function forPort(
  policy: TrafficPolicy,
  port: number,
): { readonly policy: EffectivePolicy; readonly portLevel: boolean } {
  // Istio takes the first entry for the port; validation rejects duplicates anyway.
  const entry = policy.portLevel.find((p) => p.port === port);
  const parts = entry ?? policy;
  return {
    policy: compact({
      loadBalancer: parts.loadBalancer,
      connectionPool: parts.connectionPool,
      outlierDetection: parts.outlierDetection,
    }),
    portLevel: entry !== undefined,
  };
}

/** Drops absent parts so that results compare equal however they were built. */
function compact(policy: {
  loadBalancer: LoadBalancer | undefined;
  connectionPool: ConnectionPool | undefined;
  outlierDetection: OutlierDetection | undefined;
}): EffectivePolicy {
  return {
    ...(policy.loadBalancer === undefined ? {} : { loadBalancer: policy.loadBalancer }),
    ...(policy.connectionPool === undefined ? {} : { connectionPool: policy.connectionPool }),
    ...(policy.outlierDetection === undefined ? {} : { outlierDetection: policy.outlierDetection }),
  };
}
