// Waypoints and the binding of Services and Pods to them (reference §4.4, §4.5, §7.1), after istiod's
// pilot/pkg/serviceregistry/ambient/waypoints.go: a Gateway of class `istio-waypoint` is a waypoint; objects bind
// through `istio.io/use-waypoint[-namespace]` on themselves, else on their namespace.

import { DEFAULT_HBONE_PORT, canonicalIp, type GatewayAddress } from '@weft/mesh-model';

import { WAYPOINT_GATEWAY_CLASS, type KubeObject } from './kube-object';
import { isPodReady, labelsOf, namespaceOf, type MeshInventory } from './translate-inventory';
import {
  asArray,
  asRecord,
  asString,
  asStringMap,
  message,
  selectorMatches,
  serviceHostname,
  type TranslateSettings,
  type TranslationMessage,
  type WaypointInfo,
  type WaypointTrafficType,
} from './translate-types';

export const USE_WAYPOINT_LABEL = 'istio.io/use-waypoint';
export const USE_WAYPOINT_NAMESPACE_LABEL = 'istio.io/use-waypoint-namespace';
export const WAYPOINT_FOR_LABEL = 'istio.io/waypoint-for';
/** Set by the gateway controller on the pods (and Service) it deploys for a Gateway. */
export const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';

const TRAFFIC_TYPES: readonly WaypointTrafficType[] = ['service', 'workload', 'all', 'none'];

/** A waypoint with what binding needs beyond the public info: which namespaces may attach. */
export interface WaypointEntry {
  readonly info: WaypointInfo;
  readonly allowsNamespace: (namespace: KubeObject | undefined, name: string) => boolean;
}

export type WaypointIndex = ReadonlyMap<string, WaypointEntry>;

function trafficTypeOf(gateway: KubeObject): WaypointTrafficType {
  const value = gateway.metadata.labels?.[WAYPOINT_FOR_LABEL];
  // Absent: istiod defaults to service (it would also consult the GatewayClass label, which is not read here).
  if (value === undefined) return 'service';
  return (TRAFFIC_TYPES as readonly string[]).includes(value) ? (value as WaypointTrafficType) : 'none';
}

/**
 * istiod `getGatewayAddress`: a Hostname entry of `status.addresses` wherever it is, else the first IPAddress entry
 * (the waypoint class reports both); until the controller writes any, the Service hostname.
 */
function addressOf(gateway: KubeObject, settings: TranslateSettings): GatewayAddress {
  const namespace = gateway.metadata.namespace ?? '';
  const entries = asArray(asRecord(gateway.status)?.['addresses'])
    .map(asRecord)
    .map((entry) => ({ type: asString(entry?.['type']), value: asString(entry?.['value']) ?? '' }))
    .filter((entry) => entry.value !== '');
  const hostname = entries.find((entry) => entry.type === 'Hostname')?.value;
  if (hostname !== undefined) return { destination: { kind: 'hostname', namespace, hostname }, hboneMtlsPort: DEFAULT_HBONE_PORT };
  for (const entry of entries) {
    // Gateway API: an absent type means IPAddress.
    const ip = entry.type === undefined || entry.type === 'IPAddress' ? canonicalIp(entry.value) : undefined;
    if (ip !== undefined) return { destination: { kind: 'address', network: settings.network, address: ip }, hboneMtlsPort: DEFAULT_HBONE_PORT };
  }
  const serviceHost = serviceHostname(gateway.metadata.name, namespace, settings.domainSuffix);
  return { destination: { kind: 'hostname', namespace, hostname: serviceHost }, hboneMtlsPort: DEFAULT_HBONE_PORT };
}

/** §4.5: an address exists once `status.addresses` is set, which happens when a waypoint pod is Ready. */
function isReady(gateway: KubeObject, inventory: MeshInventory): boolean {
  if (asArray(asRecord(gateway.status)?.['addresses']).length > 0) return true;
  return inventory.pods.some(
    (pod) =>
      pod.metadata.namespace === gateway.metadata.namespace &&
      pod.metadata.labels?.[GATEWAY_NAME_LABEL] === gateway.metadata.name &&
      pod.metadata.deletionTimestamp === undefined &&
      isPodReady(pod),
  );
}

/** Listener `allowedRoutes.namespaces` (from: Same by default, All, Selector with matchLabels). */
function attachmentRule(gateway: KubeObject): WaypointEntry['allowsNamespace'] {
  const listeners = asArray(asRecord(gateway.spec)?.['listeners']).map(asRecord);
  const hbone = listeners.filter((l) => asString(l?.['protocol']) === 'HBONE');
  const rules = (hbone.length > 0 ? hbone : listeners).map((l) => asRecord(asRecord(l?.['allowedRoutes'])?.['namespaces']));
  if (rules.length === 0) rules.push(undefined);
  return (namespace, name) =>
    rules.some((rule) => {
      const from = asString(rule?.['from']) ?? 'Same';
      if (from === 'All') return true;
      if (from === 'Selector') return selectorMatches(asStringMap(asRecord(rule?.['selector'])?.['matchLabels']), labelsOf(namespace));
      return name === gateway.metadata.namespace;
    });
}

/** Every `istio-waypoint` Gateway, keyed `ns/name`. */
export function collectWaypoints(inventory: MeshInventory, settings: TranslateSettings): WaypointIndex {
  const index = new Map<string, WaypointEntry>();
  for (const gateway of inventory.gateways) {
    if (asString(asRecord(gateway.spec)?.['gatewayClassName']) !== WAYPOINT_GATEWAY_CLASS) continue;
    const namespace = gateway.metadata.namespace ?? '';
    const info: WaypointInfo = {
      namespace,
      name: gateway.metadata.name,
      trafficType: trafficTypeOf(gateway),
      // istiod's waypoint template runs the pods as a ServiceAccount named after the Gateway (§7.1).
      serviceAccount: gateway.metadata.name,
      address: addressOf(gateway, settings),
      ready: isReady(gateway, inventory),
    };
    index.set(`${namespace}/${gateway.metadata.name}`, { info, allowsNamespace: attachmentRule(gateway) });
  }
  return index;
}

export type WaypointPurpose = 'service' | 'workload';

export interface WaypointBinding {
  readonly waypoint?: GatewayAddress;
  /** The waypoint the object asked for, even when it could not be bound. */
  readonly requested?: WaypointInfo;
  readonly messages: readonly TranslationMessage[];
}

const FIELD = `metadata.labels.${USE_WAYPOINT_LABEL}`;

/**
 * istiod `fetchWaypointForService` / `fetchWaypointForWorkload`: the subject's own `use-waypoint` label, else its
 * namespace's; `none` opts out. Binds only a ready waypoint whose traffic type covers the purpose and whose listener
 * admits the subject's namespace.
 */
export function bindWaypoint(
  subject: KubeObject,
  purpose: WaypointPurpose,
  waypoints: WaypointIndex,
  inventory: MeshInventory,
): WaypointBinding {
  const namespace = namespaceOf(inventory, subject);
  const source = subject.metadata.labels?.[USE_WAYPOINT_LABEL] !== undefined ? subject : namespace;
  const name = source?.metadata.labels?.[USE_WAYPOINT_LABEL];
  if (source === undefined || name === undefined || name === '' || name === 'none') return { messages: [] };
  const ownNamespace = source.kind === 'Namespace' ? source.metadata.name : source.metadata.namespace ?? '';
  const waypointNamespace = source.metadata.labels?.[USE_WAYPOINT_NAMESPACE_LABEL] ?? ownNamespace;
  const entry = waypoints.get(`${waypointNamespace}/${name}`);
  if (entry === undefined) {
    const text = `${USE_WAYPOINT_LABEL} names waypoint ${waypointNamespace}/${name}, which does not exist (no Gateway of class ${WAYPOINT_GATEWAY_CLASS}); traffic goes direct`;
    return { messages: [message(source, 'warning', 'WARN_WAYPOINT_NOT_FOUND', text, FIELD)] };
  }
  const { info } = entry;
  if (info.trafficType !== purpose && info.trafficType !== 'all') {
    // Inheriting a service waypoint is the normal case for pods: only an explicit label is worth a message.
    if (source !== subject) return { requested: info, messages: [] };
    const text = `waypoint ${waypointNamespace}/${name} is for ${info.trafficType} traffic (${WAYPOINT_FOR_LABEL}), not ${purpose} traffic; it is not used`;
    return { requested: info, messages: [message(source, 'warning', 'WARN_WAYPOINT_TRAFFIC_TYPE', text, FIELD)] };
  }
  const subjectNamespace = subject.metadata.namespace ?? '';
  if (!entry.allowsNamespace(namespace, subjectNamespace)) {
    const text = `waypoint ${waypointNamespace}/${name} does not allow attachment from namespace ${subjectNamespace} (listener allowedRoutes.namespaces)`;
    return { requested: info, messages: [message(subject, 'warning', 'WARN_WAYPOINT_NAMESPACE_NOT_ALLOWED', text, FIELD)] };
  }
  if (!info.ready) {
    const text = `waypoint ${waypointNamespace}/${name} has no address yet (no status.addresses, no Ready pod); traffic goes direct until it has one`;
    return { requested: info, messages: [message(source, 'info', 'INFO_WAYPOINT_NOT_READY', text, FIELD)] };
  }
  return { waypoint: info.address, requested: info, messages: [] };
}
