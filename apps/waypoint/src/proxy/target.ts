// Where a tunnelled connection is going (reference §7.2 steps 2–3): the CONNECT `:authority` names a service VIP and
// port (service-addressed) or a pod IP and port (workload-addressed). Only services and workloads bound to this
// waypoint are served; anything else matches no chain and is refused. Pure.

import type { MeshState, Service, WaypointPortProtocol, WaypointService, Workload } from '@weft/mesh-model';

import type { L7Config } from '../xds/l7-config';

export interface WaypointSelf {
  /** The waypoint Gateway. */
  readonly name: string;
  readonly namespace: string;
  /** `<name>.<namespace>.svc.<domain>`: the hostname WDS bindings name. */
  readonly hostname: string;
}

export type Target =
  | {
      readonly kind: 'service';
      readonly service: Service;
      /** Absent: the service is bound but has no L7 resource yet; it is forwarded as it is. */
      readonly l7?: WaypointService;
      readonly port: number;
      readonly protocol: WaypointPortProtocol;
    }
  | { readonly kind: 'workload'; readonly workload: Workload; readonly port: number }
  | { readonly kind: 'refused'; readonly reason: string };

/** Whether a WDS binding (`waypoint` of a Service or Workload) names this waypoint. */
export function boundToSelf(binding: Service['waypoint'], self: WaypointSelf, state: MeshState): boolean {
  if (binding === undefined) return false;
  const destination = binding.destination;
  if (destination.kind === 'hostname') return destination.hostname === self.hostname && destination.namespace === self.namespace;
  const own = state.serviceByKey(`${self.namespace}/${self.hostname}`);
  return own?.vips.some((vip) => vip.address === destination.address) === true;
}

/**
 * The port's protocol from the WaypointService (port name / appProtocol, as istiod reads them), else WDS's
 * appProtocol. UNKNOWN, which Istio would sniff, is served as HTTP (HTTP/1.1 or h2c by the connection's first bytes,
 * and upstream in the client's codec) — the common case of the guides' unnamed ports; a port for another protocol
 * should be named `tcp-*` or have `appProtocol: tcp`.
 */
export function protocolOf(l7: WaypointService | undefined, service: Service, port: number): WaypointPortProtocol {
  const declared = l7?.ports.find((p) => p.port === port)?.protocol;
  if (declared !== undefined && declared !== 'UNKNOWN') return declared;
  switch (service.ports.find((p) => p.servicePort === port)?.appProtocol) {
    case 'HTTP2':
      return 'HTTP2';
    case 'GRPC':
      return 'GRPC';
    case 'HTTP11':
      return 'HTTP';
    case 'TCP':
    case 'TLS':
      return 'TCP';
    default:
      return 'UNKNOWN';
  }
}

/** Resolves a CONNECT authority (`host:port`, host an IP or a service hostname). */
export function resolveTarget(authority: { readonly host: string; readonly port: number }, self: WaypointSelf, state: MeshState, l7: L7Config, network = ''): Target {
  const { host, port } = authority;
  const byVip = state.servicesByVip(network, host);
  const byName = byVip.length > 0 ? byVip : state.servicesByHostname(host);
  const service = byName.find((s) => boundToSelf(s.waypoint, self, state));
  if (service !== undefined) {
    if (!service.ports.some((p) => p.servicePort === port)) return { kind: 'refused', reason: `service ${service.namespace}/${service.hostname} has no port ${port}` };
    const waypointService = l7.service(service.namespace, service.hostname);
    const protocol = protocolOf(waypointService, service, port);
    return { kind: 'service', service, ...(waypointService === undefined ? {} : { l7: waypointService }), port, protocol };
  }
  if (byName.length > 0) return { kind: 'refused', reason: `service ${byName[0]?.namespace ?? ''}/${byName[0]?.hostname ?? host} is not bound to waypoint ${self.namespace}/${self.name}` };
  const workload = state.workloadByAddress(network, host);
  if (workload !== undefined) {
    if (boundToSelf(workload.waypoint, self, state)) return { kind: 'workload', workload, port };
    return { kind: 'refused', reason: `workload ${workload.namespace}/${workload.name} is not bound to waypoint ${self.namespace}/${self.name}` };
  }
  return { kind: 'refused', reason: `no service or workload at ${host}` };
}
