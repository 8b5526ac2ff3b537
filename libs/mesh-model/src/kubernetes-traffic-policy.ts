// How istiod turns a Kubernetes Service's traffic settings into `Service.load_balancing` (reference §4.6 step 4;
// istio `constructService` and `model.GetTrafficDistribution`). Used by the control plane; pure.

import type { LoadBalancing, LoadBalancingScope } from './types';

export interface KubernetesTrafficPolicy {
  /** `spec.internalTrafficPolicy`: `Cluster` (default) or `Local`. */
  readonly internalTrafficPolicy?: string;
  /** `spec.trafficDistribution`: `PreferClose`, `PreferSameZone` or `PreferSameNode` (exact spelling, as the API). */
  readonly trafficDistribution?: string;
  /** Annotation `networking.istio.io/traffic-distribution` on the Service (case-insensitive). */
  readonly annotation?: string;
  /** The same annotation on the Service's namespace, used when the Service has none. */
  readonly namespaceAnnotation?: string;
  /** `spec.publishNotReadyAddresses`: not-ready pods stay endpoints. */
  readonly publishNotReadyAddresses?: boolean;
}

export const TRAFFIC_DISTRIBUTION_ANNOTATION = 'networking.istio.io/traffic-distribution';

type Distribution = 'any' | 'same-zone' | 'same-node';

// Network first: prefer the local network but fail over across it to the closest endpoints (ztunnel#1980).
const SAME_ZONE: readonly LoadBalancingScope[] = ['NETWORK', 'REGION', 'ZONE'];
const SAME_NODE: readonly LoadBalancingScope[] = ['NETWORK', 'REGION', 'ZONE', 'SUBZONE', 'NODE'];

/**
 * The LoadBalancing istiod sends for these settings, or undefined for none:
 * `internalTrafficPolicy: Local` ⇒ `{[NODE], STRICT}` and wins over everything else;
 * otherwise PreferClose/PreferSameZone ⇒ `{[NETWORK, REGION, ZONE], FAILOVER}` and PreferSameNode ⇒
 * `{[NETWORK, REGION, ZONE, SUBZONE, NODE], FAILOVER}`, from the spec field, else the Service's annotation, else
 * the namespace's; `publishNotReadyAddresses` adds `health_policy: ALLOW_ALL`. Every call returns a fresh object
 * (istiod once shared one preset and leaked ALLOW_ALL into every service).
 */
export function mapKubernetesTrafficPolicy(settings: KubernetesTrafficPolicy): LoadBalancing | undefined {
  let routingPreference: readonly LoadBalancingScope[] = [];
  let mode: LoadBalancing['mode'] = 'UNSPECIFIED_MODE';
  if (settings.internalTrafficPolicy === 'Local') {
    routingPreference = ['NODE'];
    mode = 'STRICT';
  } else {
    const distribution = trafficDistribution(settings);
    if (distribution !== 'any') {
      routingPreference = [...(distribution === 'same-node' ? SAME_NODE : SAME_ZONE)];
      mode = 'FAILOVER';
    }
  }
  const healthPolicy = settings.publishNotReadyAddresses === true ? 'ALLOW_ALL' : 'ONLY_HEALTHY';
  if (mode === 'UNSPECIFIED_MODE' && healthPolicy === 'ONLY_HEALTHY') return undefined;
  return { routingPreference, mode, healthPolicy };
}

function trafficDistribution(settings: KubernetesTrafficPolicy): Distribution {
  switch (settings.trafficDistribution) {
    case 'PreferClose':
    case 'PreferSameZone':
      return 'same-zone';
    case 'PreferSameNode':
      return 'same-node';
  }
  // An unknown spec value falls through to the annotation, as istio's GetTrafficDistribution does. The first
  // annotation present decides, even with a value istiod does not know (it then warns and uses "any").
  const annotation = nonEmpty(settings.annotation) ?? nonEmpty(settings.namespaceAnnotation);
  switch (annotation?.toLowerCase()) {
    case 'preferclose':
    case 'prefersamezone':
      return 'same-zone';
    case 'prefersamenode':
      return 'same-node';
    default:
      return 'any';
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
