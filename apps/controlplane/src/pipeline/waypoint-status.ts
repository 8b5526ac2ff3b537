// The status istiod's gateway controller writes on a waypoint Gateway (reportGatewayStatus for the istio-waypoint
// class): `Accepted`, `Programmed` once a Ready pod backs the waypoint's Service, and `status.addresses` — the
// Service's cluster IPs and its hostname, both, as istiod reports them for waypoints — which is what makes the
// waypoint usable for binding (reference §4.5). Until then the addresses are not written, and once written they are
// never removed. Pure: conditions keep their lastTransitionTime while their status holds (Kubernetes'
// meta.SetStatusCondition).

import { isPodReady, selectorMatches, type KubeObject } from '@weft/mesh-config';

import { fingerprint, isActiveWaypointGateway } from './waypoint-objects';

/** The HBONE port of a waypoint's Service (waypointWorkloadObjects' `mesh` port). */
const WAYPOINT_MESH_PORT = 15008;

/** A Gateway API `metav1.Condition`. */
export interface GatewayCondition {
  readonly type: 'Accepted' | 'Programmed';
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
  readonly lastTransitionTime: string;
  readonly observedGeneration?: number;
}

export interface GatewayStatusAddress {
  readonly type: 'IPAddress' | 'Hostname';
  readonly value: string;
}

/** The part of `Gateway.status` the controller owns; `addresses: null` removes stale ones in a merge patch. */
export interface WaypointGatewayStatus {
  readonly conditions: readonly GatewayCondition[];
  readonly addresses: readonly GatewayStatusAddress[] | null;
}

export interface GatewayStatusWrite {
  readonly namespace: string;
  readonly name: string;
  readonly status: WaypointGatewayStatus;
}

export interface WaypointStatusSettings {
  /** Kubernetes cluster domain of Service hostnames (`CLUSTER_DOMAIN`). */
  readonly domainSuffix: string;
  /** RFC 3339 time stamped on conditions whose status changes. */
  readonly now: string;
}

type ConditionText = Pick<GatewayCondition, 'type' | 'status' | 'reason' | 'message'>;

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function list(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

/** The Service's cluster IPs (`spec.clusterIPs`, else `spec.clusterIP`), without `None`. */
function clusterIps(service: KubeObject): string[] {
  const spec = record(service.spec);
  const ips = list(spec?.['clusterIPs']).length > 0 ? list(spec?.['clusterIPs']) : [spec?.['clusterIP']];
  return ips.filter((ip): ip is string => typeof ip === 'string' && ip !== '' && ip !== 'None');
}

function previousCondition(gateway: KubeObject, type: string): Record<string, unknown> | undefined {
  return list(record(gateway.status)?.['conditions'])
    .map(record)
    .find((condition) => condition?.['type'] === type);
}

function withTransition(gateway: KubeObject, text: ConditionText, now: string): GatewayCondition {
  const previous = previousCondition(gateway, text.type);
  const kept = previous?.['status'] === text.status ? previous['lastTransitionTime'] : undefined;
  const generation = gateway.metadata.generation;
  return {
    ...text,
    lastTransitionTime: typeof kept === 'string' ? kept : now,
    ...(generation === undefined ? {} : { observedGeneration: generation }),
  };
}

/**
 * The status of one waypoint Gateway given its Service as the snapshot holds it (undefined: not created yet) and
 * whether a Ready pod backs that Service (istiod: the Service has instances on the Gateway's port).
 */
export function waypointGatewayStatus(
  gateway: KubeObject,
  service: KubeObject | undefined,
  ready: boolean,
  settings: WaypointStatusSettings,
): WaypointGatewayStatus {
  const namespace = gateway.metadata.namespace ?? '';
  const hostname = `${gateway.metadata.name}.${namespace}.svc.${settings.domainSuffix}`;
  const accepted: ConditionText = { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'Resource accepted' };
  const conditions = (programmed: ConditionText): GatewayCondition[] => [accepted, programmed].map((c) => withTransition(gateway, c, settings.now));
  if (service === undefined || !ready) {
    // istiod's wording and reasons: a missing Service makes the address unusable, one without instances unassigned.
    const why = service === undefined ? `hostname "${hostname}" not found` : `no instances found for hostname "${hostname}"`;
    const pending: ConditionText = {
      type: 'Programmed',
      status: 'False',
      reason: service === undefined ? 'AddressNotUsable' : 'AddressNotAssigned',
      message: `Failed to assign to any requested addresses: ${why}`,
    };
    return { conditions: conditions(pending), addresses: observedStatus(gateway).addresses };
  }
  const addresses: GatewayStatusAddress[] = [...clusterIps(service).map((value) => ({ type: 'IPAddress' as const, value })), { type: 'Hostname', value: hostname }];
  // istiod's wording, so tools that match on it keep working.
  const programmed: ConditionText = {
    type: 'Programmed',
    status: 'True',
    reason: 'Programmed',
    message: `Resource programmed, assigned to service(s) ${hostname}:${WAYPOINT_MESH_PORT}`,
  };
  return { conditions: conditions(programmed), addresses };
}

/** A Ready, not terminating pod the Service selects (an endpoint the EndpointSlice controller would list as ready). */
function backedByReadyPod(service: KubeObject, pods: readonly KubeObject[]): boolean {
  const selector = record(record(service.spec)?.['selector']);
  if (selector === undefined || Object.keys(selector).length === 0) return false;
  const wanted = Object.fromEntries(Object.entries(selector).filter((e): e is [string, string] => typeof e[1] === 'string'));
  return pods.some(
    (pod) =>
      pod.metadata.namespace === service.metadata.namespace &&
      pod.metadata.deletionTimestamp === undefined &&
      selectorMatches(wanted, pod.metadata.labels ?? {}) &&
      isPodReady(pod),
  );
}

/** The owned fields of a Gateway's current status, normalised like {@link waypointGatewayStatus} output. */
function observedStatus(gateway: KubeObject): WaypointGatewayStatus {
  const status = record(gateway.status);
  const addresses = list(status?.['addresses']);
  return {
    conditions: list(status?.['conditions']) as GatewayCondition[],
    addresses: addresses.length === 0 ? null : (addresses as GatewayStatusAddress[]),
  };
}

/** Status writes for every waypoint Gateway whose status differs from what it should be. */
export function gatewayStatusWrites(objects: readonly KubeObject[], settings: WaypointStatusSettings): GatewayStatusWrite[] {
  const services = new Map<string, KubeObject>();
  for (const object of objects) {
    if (object.kind === 'Service') services.set(`${object.metadata.namespace ?? ''}/${object.metadata.name}`, object);
  }
  const pods = objects.filter((o) => o.kind === 'Pod');
  const writes: GatewayStatusWrite[] = [];
  for (const gateway of objects) {
    if (!isActiveWaypointGateway(gateway)) continue;
    const namespace = gateway.metadata.namespace ?? '';
    const name = gateway.metadata.name;
    const service = services.get(`${namespace}/${name}`);
    const status = waypointGatewayStatus(gateway, service, service !== undefined && backedByReadyPod(service, pods), settings);
    if (fingerprint(status) !== fingerprint(observedStatus(gateway))) writes.push({ namespace, name, status });
  }
  return writes;
}
