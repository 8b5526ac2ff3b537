// Kubernetes Service → ztunnel `Service` (reference §4.2 Service, §4.4 "Services → Service", §4.6 step 4), after
// istiod's ambient services.go `constructService`.

import {
  canonicalIp,
  mapKubernetesTrafficPolicy,
  TRAFFIC_DISTRIBUTION_ANNOTATION,
  type AppProtocol,
  type IpFamilies,
  type NetworkAddress,
  type PortMapping,
  type Service,
} from '@weft/mesh-model';

import type { KubeObject } from './kube-object';
import { namespaceOf, type MeshInventory } from './translate-inventory';
import { asArray, asNumber, asRecord, asString, message, serviceHostname, type TranslateSettings, type TranslationMessage } from './translate-types';
import { bindWaypoint, type WaypointIndex } from './translate-waypoints';

export const INGRESS_USE_WAYPOINT_LABEL = 'istio.io/ingress-use-waypoint';
/** istiod's label on the Services its gateway controller deploys for waypoints. */
const MANAGED_LABEL = 'gateway.istio.io/managed';
const MESH_CONTROLLER = 'istio.io-mesh-controller';
const EAST_WEST_CONTROLLER = 'istio.io-eastwest-controller';

/** One `spec.ports[]` entry; `targetPort` as written (a number, a container port name, or absent). */
export interface ServicePortSpec {
  readonly port: number;
  readonly name: string;
  readonly protocol: string;
  readonly appProtocol?: string;
  readonly targetPort: number | string | undefined;
}

export function servicePorts(service: KubeObject): ServicePortSpec[] {
  const ports: ServicePortSpec[] = [];
  for (const raw of asArray(asRecord(service.spec)?.['ports'])) {
    const entry = asRecord(raw);
    const port = asNumber(entry?.['port']);
    if (entry === undefined || port === undefined) continue;
    const target = entry['targetPort'];
    const appProtocol = asString(entry['appProtocol']);
    ports.push({
      port,
      name: asString(entry['name']) ?? '',
      protocol: asString(entry['protocol']) ?? 'TCP',
      ...(appProtocol === undefined ? {} : { appProtocol }),
      targetPort: typeof target === 'number' || typeof target === 'string' ? target : undefined,
    });
  }
  return ports;
}

/**
 * Numeric targetPort for the Service resource: the API server defaults a missing one to `port`; a named one is 0
 * ("resolve per endpoint through Workload.services"). A numeric string (`"8080"`) is an IntOrString number.
 */
export function numericTargetPort(spec: ServicePortSpec): number {
  if (spec.targetPort === undefined) return spec.port;
  if (typeof spec.targetPort === 'number') return spec.targetPort;
  return /^\d+$/.test(spec.targetPort) ? Number(spec.targetPort) : 0;
}

/**
 * istiod `toAppProtocolFromKube` over `kube.ConvertProtocol`: `appProtocol` wins, else the port name's prefix
 * before the first `-`. HTTP, HTTP2, gRPC, TLS (`tls`, `https`, `kubernetes.io/wss`) and TCP are told to ztunnel;
 * an unrecognised name on a well-known TCP port (SMTP 25, DNS 53, MySQL 3306, MongoDB 27017) is TCP; everything
 * else (UDP, `grpc-web`, `mongo`, `redis`, `mysql`, …) is UNKNOWN.
 */
export function appProtocolOf(spec: ServicePortSpec): AppProtocol {
  if (spec.protocol === 'UDP') return 'UNKNOWN';
  const declared = spec.appProtocol ?? spec.name;
  if (spec.appProtocol !== undefined) {
    switch (declared) {
      case 'kubernetes.io/h2c':
        return 'HTTP2';
      case 'kubernetes.io/ws':
        return 'HTTP11';
      case 'kubernetes.io/wss':
        return 'TLS';
    }
  }
  if (declared.toLowerCase().startsWith('grpc-web')) return 'UNKNOWN';
  return appProtocolOfName(declared.split('-')[0] ?? '') ?? (WELL_KNOWN_TCP_PORTS.has(spec.port) ? 'TCP' : 'UNKNOWN');
}

/**
 * istiod `toAppProtocolFromProtocol(protocol.Parse(name))`, case-insensitive: HTTP, HTTP2, gRPC, TLS (`tls`,
 * `https`) and TCP have an app protocol; the other protocols istiod knows are UNKNOWN; a name it does not know at
 * all (`protocol.Unsupported`) is undefined, for the caller's fallback.
 */
export function appProtocolOfName(name: string): AppProtocol | undefined {
  switch (name.toLowerCase()) {
    case 'http':
      return 'HTTP11';
    case 'http2':
      return 'HTTP2';
    case 'grpc':
      return 'GRPC';
    case 'tls':
    case 'https':
      return 'TLS';
    case 'tcp':
      return 'TCP';
    case 'udp':
    case 'grpc-web':
    case 'http_proxy':
    case 'mongo':
    case 'redis':
    case 'mysql':
      return 'UNKNOWN';
    default:
      return undefined;
  }
}

/** istiod `kube.wellKnownPorts`: ports taken as TCP when their name says nothing istiod recognises. */
const WELL_KNOWN_TCP_PORTS: ReadonlySet<number> = new Set([25, 53, 3306, 27017]);

/** `spec.clusterIPs` (else `spec.clusterIP`), without `None` and unparseable values. */
function vipsOf(service: KubeObject, network: string): NetworkAddress[] {
  const spec = asRecord(service.spec);
  const listed = asArray(spec?.['clusterIPs']).map(asString);
  const ips = listed.length > 0 ? listed : [asString(spec?.['clusterIP'])];
  const vips: NetworkAddress[] = [];
  for (const ip of ips) {
    const address = ip === undefined || ip === 'None' ? undefined : canonicalIp(ip);
    if (address !== undefined) vips.push({ network, address });
  }
  return vips;
}

/** istiod: two families ⇒ DUAL, one ⇒ that family only, none ⇒ AUTOMATIC. */
function ipFamiliesOf(service: KubeObject): IpFamilies {
  const families = asArray(asRecord(service.spec)?.['ipFamilies']).map(asString);
  if (families.length === 2) return 'DUAL';
  if (families[0] === 'IPv4') return 'IPV4_ONLY';
  if (families[0] === 'IPv6') return 'IPV6_ONLY';
  return 'AUTOMATIC';
}

/**
 * istiod `fetchWaypointForService`: the Services its gateway controller deploys for waypoints (and east-west
 * gateways), known by their `gateway.istio.io/managed` label, never get a waypoint themselves (§4.4). Any other
 * Service follows its labels and its namespace's, as istiod's does.
 */
export function isWaypointService(service: KubeObject): boolean {
  const managed = service.metadata.labels?.[MANAGED_LABEL];
  return managed === MESH_CONTROLLER || managed === EAST_WEST_CONTROLLER;
}

export interface ServiceTranslation {
  /** Absent for ExternalName Services, which ambient does not implement. */
  readonly service?: Service;
  readonly messages: readonly TranslationMessage[];
}

export function translateService(
  object: KubeObject,
  inventory: MeshInventory,
  waypoints: WaypointIndex,
  settings: TranslateSettings,
): ServiceTranslation {
  const namespace = object.metadata.namespace ?? '';
  const spec = asRecord(object.spec);
  if (asString(spec?.['type']) === 'ExternalName') {
    // istiod's ServicesCollection returns nothing for them (istio#49341).
    const text = 'ExternalName Services are not implemented by ambient mode; ztunnel gets no Service for it';
    return { messages: [message(object, 'info', 'INFO_EXTERNAL_NAME_SKIPPED', text, 'spec.type')] };
  }
  const ns = namespaceOf(inventory, object);
  const ports: PortMapping[] = servicePorts(object).map((p) => ({
    servicePort: p.port,
    targetPort: numericTargetPort(p),
    appProtocol: appProtocolOf(p),
  }));
  const nsAnnotation = ns?.metadata.annotations?.[TRAFFIC_DISTRIBUTION_ANNOTATION];
  const annotation = object.metadata.annotations?.[TRAFFIC_DISTRIBUTION_ANNOTATION];
  const internalTrafficPolicy = asString(spec?.['internalTrafficPolicy']);
  const trafficDistribution = asString(spec?.['trafficDistribution']);
  const loadBalancing = mapKubernetesTrafficPolicy({
    ...(internalTrafficPolicy === undefined ? {} : { internalTrafficPolicy }),
    ...(trafficDistribution === undefined ? {} : { trafficDistribution }),
    ...(annotation === undefined ? {} : { annotation }),
    ...(nsAnnotation === undefined ? {} : { namespaceAnnotation: nsAnnotation }),
    publishNotReadyAddresses: spec?.['publishNotReadyAddresses'] === true,
  });
  const binding = isWaypointService(object) ? { messages: [] } : bindWaypoint(object, 'service', waypoints, inventory);
  const ingressUseWaypoint =
    object.metadata.labels?.[INGRESS_USE_WAYPOINT_LABEL] === 'true' || ns?.metadata.labels?.[INGRESS_USE_WAYPOINT_LABEL] === 'true';
  const service: Service = {
    name: object.metadata.name,
    namespace,
    hostname: serviceHostname(object.metadata.name, namespace, settings.domainSuffix),
    vips: vipsOf(object, settings.network),
    ports,
    subjectAltNames: [],
    ...('waypoint' in binding && binding.waypoint !== undefined ? { waypoint: binding.waypoint } : {}),
    ...(loadBalancing === undefined ? {} : { loadBalancing }),
    ipFamilies: ipFamiliesOf(object),
    canonical: true,
    ingressUseWaypoint,
    weightedWaypoints: [],
    visibility: 'PUBLIC',
  };
  return { service, messages: binding.messages };
}
