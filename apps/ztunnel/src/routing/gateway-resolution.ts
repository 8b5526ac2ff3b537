// Resolution of a `GatewayAddress` (a waypoint or an east-west network gateway, reference §4.2) to the workloads
// behind it: by hostname through the service table, by address as a service VIP or a workload IP. Also
// ztunnel's `check_from_waypoint`: whether a workload is one of those instances.

import {
  pickWeighted,
  selectEndpoint,
  serviceKey,
  type GatewayAddress,
  type MeshState,
  type Service,
  type Workload,
} from '@weft/mesh-model';

import { expectedIdentities, workloadAddressFor } from './addressing';

/** The Service a gateway address names, if it names one (the usual case: istiod prefers the hostname form). */
export function gatewayService(state: MeshState, gateway: GatewayAddress): Service | undefined {
  const d = gateway.destination;
  if (d.kind === 'hostname') return state.serviceByKey(serviceKey(d.namespace, d.hostname)) ?? state.serviceForHostname(d.hostname, d.namespace);
  return state.servicesByVip(d.network, d.address)[0];
}

/** Every workload instance behind a gateway address. */
export function gatewayInstances(state: MeshState, gateway: GatewayAddress): readonly Workload[] {
  const svc = gatewayService(state, gateway);
  if (svc !== undefined) return state.endpointCandidatesOf(serviceKey(svc.namespace, svc.hostname)).map((c) => c.workload);
  const d = gateway.destination;
  return d.kind === 'address' ? state.workloadsByAddress(d.network, d.address) : [];
}

/**
 * ztunnel `check_from_waypoint`/`check_gateway_address`: the workload (identified by its identity and IPs, here by
 * its uid since the store's workload carries both) is an instance of the gateway. A sandwich waypoint sending
 * traffic onward must not be routed back to itself.
 */
export function isGatewayInstance(state: MeshState, gateway: GatewayAddress | undefined, workload: Workload): boolean {
  if (gateway === undefined) return false;
  const d = gateway.destination;
  if (d.kind === 'address' && d.network === workload.network && workload.addresses.includes(d.address)) return true;
  return gatewayInstances(state, gateway).some((w) => w.uid === workload.uid);
}

/** The waypoint of a service for one connection: `weighted_waypoints` sampled by weight, else `waypoint`. */
export function pickServiceWaypoint(service: Service, random: () => number): GatewayAddress | undefined {
  if (service.weightedWaypoints.length > 0) {
    return pickWeighted(service.weightedWaypoints, (w) => w.weight, random)?.destination;
  }
  return service.waypoint;
}

export type GatewayUpstream =
  | {
      readonly ok: true;
      /** The instance chosen. */
      readonly workload: Workload;
      /** Its address (of the original destination's family), or its hostname when `dns`. */
      readonly host: string;
      readonly dns: boolean;
      /** `hbone_mtls_port` of the gateway address. */
      readonly port: number;
      readonly service?: Service;
      /** The instance's identity plus the gateway service's SANs. */
      readonly expectedIdentities: readonly string[];
    }
  | { readonly ok: false; readonly code: 'ERR_GATEWAY_NOT_FOUND' | 'ERR_GATEWAY_NO_HEALTHY_UPSTREAM'; readonly reason: string };

/**
 * Picks one instance of a gateway for a connection from `source` (ztunnel `fetch_waypoint` in waypoint resolution
 * mode: the service port need not exist, health and locality preferences still apply, the port is the HBONE port).
 */
export function resolveGatewayUpstream(
  state: MeshState,
  gateway: GatewayAddress,
  source: Workload,
  familyOf: string,
  random: () => number,
): GatewayUpstream {
  const port = gateway.hboneMtlsPort;
  const svc = gatewayService(state, gateway);
  let chosen: Workload | undefined;
  if (svc !== undefined) {
    const ports = svc.ports.some((p) => p.servicePort === port)
      ? svc.ports
      : [...svc.ports, { servicePort: port, targetPort: port, appProtocol: 'UNKNOWN' as const }];
    // A gateway is always load-balanced: PASSTHROUGH would mean "dial the VIP", which is no instance at all.
    const { loadBalancing, ...rest } = svc;
    const view: Service = { ...rest, ports, ...(loadBalancing?.mode === 'PASSTHROUGH' || loadBalancing === undefined ? {} : { loadBalancing }) };
    const candidates = state.endpointCandidatesOf(serviceKey(svc.namespace, svc.hostname));
    const selection = selectEndpoint({ service: view, servicePort: port, source, candidates, random });
    if (!selection.ok) {
      return { ok: false, code: 'ERR_GATEWAY_NO_HEALTHY_UPSTREAM', reason: `no healthy upstream for gateway ${describeGateway(gateway)}` };
    }
    chosen = selection.workload;
  } else if (gateway.destination.kind === 'address') {
    chosen = state.workloadByAddress(gateway.destination.network, gateway.destination.address);
  }
  if (chosen === undefined) return { ok: false, code: 'ERR_GATEWAY_NOT_FOUND', reason: `unknown gateway ${describeGateway(gateway)}` };
  const address = workloadAddressFor(chosen, familyOf);
  return {
    ok: true,
    workload: chosen,
    host: address ?? chosen.hostname,
    dns: address === undefined,
    port,
    ...(svc === undefined ? {} : { service: svc }),
    expectedIdentities: expectedIdentities(chosen, svc),
  };
}

export function describeGateway(gateway: GatewayAddress): string {
  const d = gateway.destination;
  return d.kind === 'hostname' ? `${d.namespace}/${d.hostname}` : `${d.network}/${d.address}`;
}
