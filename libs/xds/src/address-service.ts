// istio.workload.Service ⇄ the domain Service (reference §4.2, §4.6). Enum checks follow ztunnel's
// `TryFrom<&XdsService>`: an unknown value, or an unspecified load-balancing scope, rejects the whole service.

import {
  serviceKey,
  type HealthPolicy,
  type IpFamilies,
  type LoadBalancing,
  type LoadBalancingMode,
  type LoadBalancingScope,
  type Service,
  type ServiceVisibility,
  type WeightedWaypoint,
} from '@weft/mesh-model';
import {
  IPFamilies as WireIpFamilies,
  LoadBalancing_DnsConnectStrategy as WireDnsConnectStrategy,
  LoadBalancing_HealthPolicy as WireHealthPolicy,
  LoadBalancing_Mode as WireMode,
  LoadBalancing_Scope as WireScope,
  ServiceVisibility as WireServiceVisibility,
  type Address as WireAddress,
  type LoadBalancing as WireLoadBalancing,
  type Service as WireService,
  type WeightedWaypoint as WireWeightedWaypoint,
} from './generated/istio/workload/workload';
import {
  decodeGatewayAddress,
  decodeNetworkAddress,
  decodePortMappings,
  encodeGatewayAddress,
  encodeNetworkAddress,
  encodePortMapping,
} from './address-messages';
import { enumCodec, FieldRejection, invalid } from './xds-result';

// UNSPECIFIED_SCOPE is deliberately absent: ztunnel's `LoadBalancerScopes::try_from` refuses it.
const scope = enumCodec<LoadBalancingScope, WireScope>('istio.workload.LoadBalancing.Scope', {
  REGION: WireScope.REGION,
  ZONE: WireScope.ZONE,
  SUBZONE: WireScope.SUBZONE,
  NODE: WireScope.NODE,
  CLUSTER: WireScope.CLUSTER,
  NETWORK: WireScope.NETWORK,
});
const mode = enumCodec<LoadBalancingMode, WireMode>('istio.workload.LoadBalancing.Mode', {
  UNSPECIFIED_MODE: WireMode.UNSPECIFIED_MODE,
  STRICT: WireMode.STRICT,
  FAILOVER: WireMode.FAILOVER,
  PASSTHROUGH: WireMode.PASSTHROUGH,
});
const healthPolicy = enumCodec<HealthPolicy, WireHealthPolicy>('istio.workload.LoadBalancing.HealthPolicy', {
  ONLY_HEALTHY: WireHealthPolicy.ONLY_HEALTHY,
  ALLOW_ALL: WireHealthPolicy.ALLOW_ALL,
});
// Validated only: the domain LoadBalancing has no field for it yet, so a known value is dropped on decode.
const dnsConnectStrategy = enumCodec<'DEFAULT' | 'FIRST_HEALTHY_RACE', WireDnsConnectStrategy>(
  'istio.workload.LoadBalancing.DnsConnectStrategy',
  { DEFAULT: WireDnsConnectStrategy.DEFAULT, FIRST_HEALTHY_RACE: WireDnsConnectStrategy.FIRST_HEALTHY_RACE },
);
const ipFamilies = enumCodec<IpFamilies, WireIpFamilies>('istio.workload.IPFamilies', {
  AUTOMATIC: WireIpFamilies.AUTOMATIC,
  IPV4_ONLY: WireIpFamilies.IPV4_ONLY,
  IPV6_ONLY: WireIpFamilies.IPV6_ONLY,
  DUAL: WireIpFamilies.DUAL,
});
const visibility = enumCodec<ServiceVisibility, WireServiceVisibility>('istio.workload.ServiceVisibility', {
  PUBLIC: WireServiceVisibility.PUBLIC,
  NAMESPACE: WireServiceVisibility.NAMESPACE,
});

/** A wire Service as the domain type. Its resource name is `<namespace>/<hostname>` (reference §4.1). */
export function decodeService(wire: WireService, resourceName: string): Service {
  if (wire.hostname === '') invalid('service.hostname', 'must not be empty: it is part of the service key');
  const key = serviceKey(wire.namespace, wire.hostname);
  if (key !== resourceName) {
    throw new FieldRejection(
      'service.hostname',
      `resource name ${JSON.stringify(resourceName)} is not <namespace>/<hostname> ${JSON.stringify(key)}`,
      'ERR_XDS_RESOURCE_NAME_MISMATCH',
    );
  }
  const waypoint = wire.waypoint && decodeGatewayAddress(wire.waypoint, 'service.waypoint');
  const loadBalancing = wire.loadBalancing && decodeLoadBalancing(wire.loadBalancing);
  return {
    name: wire.name,
    namespace: wire.namespace,
    hostname: wire.hostname,
    vips: wire.addresses.map((vip, i) => decodeNetworkAddress(vip, `service.addresses[${i}]`)),
    ports: decodePortMappings(wire.ports, 'service.ports'),
    subjectAltNames: [...wire.subjectAltNames],
    ...(waypoint ? { waypoint } : {}),
    ...(loadBalancing ? { loadBalancing } : {}),
    ipFamilies: ipFamilies.decode(wire.ipFamilies, 'service.ip_families'),
    canonical: wire.canonical,
    ingressUseWaypoint: wire.ingressUseWaypoint,
    weightedWaypoints: wire.weightedWaypoints.map((w, i) => decodeWeightedWaypoint(w, `service.weighted_waypoints[${i}]`)),
    visibility: visibility.decode(wire.visibility, 'service.visibility'),
  };
}

function decodeLoadBalancing(wire: WireLoadBalancing): LoadBalancing {
  const path = 'service.load_balancing';
  dnsConnectStrategy.decode(wire.dnsConnectStrategy, `${path}.dns_connect_strategy`);
  return {
    routingPreference: wire.routingPreference.map((s, i) => scope.decode(s, `${path}.routing_preference[${i}]`)),
    mode: mode.decode(wire.mode, `${path}.mode`),
    healthPolicy: healthPolicy.decode(wire.healthPolicy, `${path}.health_policy`),
  };
}

function decodeWeightedWaypoint(wire: WireWeightedWaypoint, path: string): WeightedWaypoint {
  const destination = wire.destination ?? invalid(`${path}.destination`, 'must be set');
  return { destination: decodeGatewayAddress(destination, `${path}.destination`), weight: wire.weight };
}

/**
 * The wire form of a service, inside the `Address` oneof a WDS resource carries. Throws `XdsEncodeError` when a
 * VIP or gateway address is not IP text (a broken domain invariant).
 */
export function encodeService(service: Service): WireAddress {
  const s = service;
  const value: WireService = {
    name: s.name,
    namespace: s.namespace,
    hostname: s.hostname,
    addresses: s.vips.map((vip, i) => encodeNetworkAddress(vip, `service.addresses[${i}]`)),
    ports: s.ports.map(encodePortMapping),
    subjectAltNames: [...s.subjectAltNames],
    waypoint: s.waypoint && encodeGatewayAddress(s.waypoint, 'service.waypoint'),
    loadBalancing: s.loadBalancing && {
      routingPreference: s.loadBalancing.routingPreference.map((p) => scope.encode(p)),
      mode: mode.encode(s.loadBalancing.mode),
      healthPolicy: healthPolicy.encode(s.loadBalancing.healthPolicy),
      dnsConnectStrategy: WireDnsConnectStrategy.DEFAULT,
    },
    ipFamilies: ipFamilies.encode(s.ipFamilies),
    extensions: [],
    canonical: s.canonical,
    ingressUseWaypoint: s.ingressUseWaypoint,
    weightedWaypoints: s.weightedWaypoints.map((w, i) => ({
      destination: encodeGatewayAddress(w.destination, `service.weighted_waypoints[${i}].destination`),
      weight: w.weight,
    })),
    visibility: visibility.encode(s.visibility),
  };
  return { type: { $case: 'service', value } };
}
