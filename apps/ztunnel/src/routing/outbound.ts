// Outbound (15001) routing: ztunnel's `OutboundConnection::build_request` (reference §2.6) as one pure function
// from the mesh state and the captured connection to where and how to send it.

import { selectEndpoint, serviceKey, type MeshState, type Service, type Workload } from '@weft/mesh-model';

import {
  HBONE_PORT,
  expectedIdentities,
  formatHostPort,
  illegalPorts,
  isLoopback,
  normalizeIp,
  workloadAddressFor,
  workloadSpiffeId,
  type SocketTarget,
} from './addressing';
import { describeGateway, isGatewayInstance, pickServiceWaypoint, resolveGatewayUpstream, type GatewayUpstream } from './gateway-resolution';

export interface OutboundInput {
  /** The pod owning the 15001 listener the connection was captured on. */
  readonly source: Workload;
  /** `SO_ORIGINAL_DST` of the captured connection. */
  readonly originalDestination: SocketTarget;
  /** Uniform in [0, 1); drives weighted waypoint and endpoint choice. Injected so tests are deterministic. */
  readonly random: () => number;
  /** Whether the SOCKS5 listener (15080) is on, which makes its port illegal too. */
  readonly socks5Enabled?: boolean;
}

/** Where a hop dials: an IP, or a hostname the caller must resolve first (DNS ServiceEntry endpoints). */
export interface NextHop {
  readonly host: string;
  readonly port: number;
  readonly dns: boolean;
}

export type OutboundRoute = 'direct' | 'service-waypoint' | 'workload-waypoint';

/** What telemetry and the access log need about the far end, whatever the route. */
interface DestinationFacts {
  /** The workload the connection reaches: the chosen endpoint, or the waypoint when one is the next hop. */
  readonly destinationWorkload?: Workload;
  /** The service the client addressed (VIP), when it addressed one. */
  readonly destinationService?: Service;
}

export type OutboundDecision =
  | (DestinationFacts & {
      readonly kind: 'hbone';
      readonly route: OutboundRoute;
      /** TCP target of the mTLS connection: the pod or waypoint IP on its HBONE port. */
      readonly nextHop: NextHop;
      /** `:authority` of the CONNECT. */
      readonly authority: string;
      /** SPIFFE IDs the server certificate must present one of (`upstream_sans`). */
      readonly expectedIdentities: readonly string[];
      /** The client certificate to use: the source pod's SPIFFE ID. */
      readonly sourceIdentity: string;
      readonly destinationWorkload: Workload;
    })
  | (DestinationFacts & {
      /** Double HBONE through an east-west gateway (reference §2.8): outer CONNECT to the gateway, inner to the target. */
      readonly kind: 'double-hbone';
      readonly route: OutboundRoute;
      readonly nextHop: NextHop;
      /** `<service hostname>:<service port>`, on both the outer and the inner CONNECT. */
      readonly authority: string;
      /** SANs the gateway must present on the outer handshake. */
      readonly gatewayIdentities: readonly string[];
      /** SANs the final workload (or waypoint) must present on the inner handshake. */
      readonly expectedIdentities: readonly string[];
      readonly sourceIdentity: string;
      /** Sent as `x-forwarded-network` on the inner CONNECT. */
      readonly sourceNetwork: string;
      readonly destinationWorkload: Workload;
      readonly destinationService: Service;
    })
  | (DestinationFacts & {
      /** Plain TCP to a workload not in the mesh (`tunnel_protocol` NONE); ztunnel never sends mTLS to it. */
      readonly kind: 'tcp';
      readonly nextHop: NextHop;
      readonly destinationWorkload: Workload;
    })
  | (DestinationFacts & {
      /** Unknown or external destination (or a PASSTHROUGH service): plain TCP to the original address. */
      readonly kind: 'passthrough';
      readonly nextHop: NextHop;
    })
  | {
      readonly kind: 'refused';
      readonly code: OutboundErrorCode;
      readonly reason: string;
    };

export type OutboundErrorCode =
  | 'ERR_SELF_CALL'
  | 'ERR_NO_HEALTHY_UPSTREAM'
  | 'ERR_WAYPOINT_UNRESOLVED'
  | 'ERR_NETWORK_GATEWAY_UNRESOLVED'
  | 'ERR_NO_ADDRESS';

/** Decides one captured outbound connection (reference §2.6 steps 1–5). */
export function routeOutbound(state: MeshState, input: OutboundInput): OutboundDecision {
  const { source, random } = input;
  const dst: SocketTarget = { ip: normalizeIp(input.originalDestination.ip), port: input.originalDestination.port };
  // Outbound checks its own ports only for loopback destinations (reference §1.1): a pod may well talk to another
  // pod's 15008, but 127.0.0.1:15001 would loop into this listener.
  if (isLoopback(dst.ip) && illegalPorts(input.socks5Enabled).has(dst.port)) {
    return refused('ERR_SELF_CALL', `refusing to proxy to ztunnel's own port ${formatHostPort(dst.ip, dst.port)}`);
  }

  // Step 1: a Service VIP in the source's network, the namespace-local one preferred.
  const svc = state.serviceForVip(source.network, dst.ip, source.namespace);
  if (svc !== undefined) {
    const waypoint = pickServiceWaypoint(svc, random);
    if (waypoint !== undefined && !isGatewayInstance(state, waypoint, source)) {
      const upstream = resolveGatewayUpstream(state, waypoint, source, dst.ip, random);
      if (!upstream.ok) return refused('ERR_WAYPOINT_UNRESOLVED', `${upstream.reason} (service waypoint of ${svc.hostname})`);
      return viaWaypoint(state, input, dst, upstream, 'service-waypoint', svc);
    }
    // Step 2, service half: load balancing (reference §4.6).
    const selection = selectEndpoint({
      service: svc,
      servicePort: dst.port,
      source,
      candidates: state.endpointCandidatesOf(serviceKey(svc.namespace, svc.hostname)),
      random,
    });
    if (!selection.ok) {
      if (selection.reason === 'passthrough') return passthrough(dst, svc);
      const detail = selection.reason === 'service port not found' ? ` (service ${svc.hostname} has no port ${dst.port})` : ` for ${svc.hostname}`;
      return refused('ERR_NO_HEALTHY_UPSTREAM', `no healthy upstream${detail}`);
    }
    return toWorkload(state, input, dst, selection.workload, selection.targetPort, svc);
  }

  // Step 2, workload half: a workload IP; anything else is passed through untouched.
  const target = state.workloadByAddress(source.network, dst.ip);
  if (target === undefined) return passthrough(dst);
  return toWorkload(state, input, dst, target, dst.port, undefined);
}

/** Steps 3–5 for a chosen workload. */
function toWorkload(
  state: MeshState,
  input: OutboundInput,
  dst: SocketTarget,
  target: Workload,
  targetPort: number,
  svc: Service | undefined,
): OutboundDecision {
  const { source, random } = input;
  // Step 3: a workload on another network is reached through its network gateway, addressed by service hostname.
  if (target.network !== source.network) {
    return throughNetworkGateway(state, input, dst, target, expectedIdentities(target, svc), svc);
  }
  // Step 4: workload-addressed traffic honours the workload's waypoint, unless the source is that waypoint.
  if (svc === undefined && target.waypoint !== undefined && !isGatewayInstance(state, target.waypoint, source)) {
    const upstream = resolveGatewayUpstream(state, target.waypoint, source, dst.ip, random);
    if (!upstream.ok) return refused('ERR_WAYPOINT_UNRESOLVED', `${upstream.reason} (workload waypoint of ${target.name})`);
    return viaWaypoint(state, input, dst, upstream, 'workload-waypoint', undefined);
  }
  // Step 5: direct.
  const address = workloadAddressFor(target, dst.ip);
  const host = address ?? target.hostname;
  if (host === '') return refused('ERR_NO_ADDRESS', `workload ${target.uid} has neither an address nor a hostname`);
  const facts = { destinationWorkload: target, ...(svc === undefined ? {} : { destinationService: svc }) };
  if (target.tunnelProtocol === 'HBONE') {
    return {
      kind: 'hbone',
      route: 'direct',
      nextHop: { host, port: HBONE_PORT, dns: address === undefined },
      authority: formatHostPort(host, targetPort),
      expectedIdentities: expectedIdentities(target, svc),
      sourceIdentity: workloadSpiffeId(source),
      ...facts,
    };
  }
  // NONE, and LEGACY_ISTIO_MTLS, which ztunnel never sends: plain TCP to the target port.
  return { kind: 'tcp', nextHop: { host, port: targetPort, dns: address === undefined }, ...facts };
}

/** HBONE to a waypoint instance; `:authority` keeps the original VIP (or pod IP) and port (reference §2.3). */
function viaWaypoint(
  state: MeshState,
  input: OutboundInput,
  dst: SocketTarget,
  upstream: Extract<GatewayUpstream, { ok: true }>,
  route: OutboundRoute,
  svc: Service | undefined,
): OutboundDecision {
  const waypoint = upstream.workload;
  if (waypoint.network !== input.source.network) {
    if (svc === undefined) {
      const reason = `waypoint ${waypoint.uid} is on network "${waypoint.network}" and the traffic is not service-addressed`;
      return refused('ERR_NETWORK_GATEWAY_UNRESOLVED', reason);
    }
    return throughNetworkGateway(state, input, dst, waypoint, upstream.expectedIdentities, svc, route);
  }
  return {
    kind: 'hbone',
    route,
    nextHop: { host: upstream.host, port: upstream.port, dns: upstream.dns },
    authority: formatHostPort(dst.ip, dst.port),
    expectedIdentities: upstream.expectedIdentities,
    sourceIdentity: workloadSpiffeId(input.source),
    destinationWorkload: waypoint,
    ...(svc === undefined ? {} : { destinationService: svc }),
  };
}

/** Double HBONE (reference §2.8): outer to the target's `network_gateway`, both CONNECTs to `svc-host:port`. */
function throughNetworkGateway(
  state: MeshState,
  input: OutboundInput,
  dst: SocketTarget,
  target: Workload,
  finalIdentities: readonly string[],
  svc: Service | undefined,
  route: OutboundRoute = 'direct',
): OutboundDecision {
  if (svc === undefined) {
    return refused('ERR_NETWORK_GATEWAY_UNRESOLVED', `workload ${target.uid} is on network "${target.network}"; crossing networks needs a service`);
  }
  if (target.networkGateway === undefined) {
    return refused('ERR_NETWORK_GATEWAY_UNRESOLVED', `workload ${target.uid} is on network "${target.network}" and has no network gateway`);
  }
  const gateway = resolveGatewayUpstream(state, target.networkGateway, input.source, dst.ip, input.random);
  if (!gateway.ok) {
    return refused('ERR_NETWORK_GATEWAY_UNRESOLVED', `${gateway.reason} (network gateway ${describeGateway(target.networkGateway)})`);
  }
  return {
    kind: 'double-hbone',
    route,
    nextHop: { host: gateway.host, port: gateway.port, dns: gateway.dns },
    authority: formatHostPort(svc.hostname, dst.port),
    gatewayIdentities: gateway.expectedIdentities,
    expectedIdentities: finalIdentities,
    sourceIdentity: workloadSpiffeId(input.source),
    sourceNetwork: input.source.network,
    destinationWorkload: target,
    destinationService: svc,
  };
}

function passthrough(dst: SocketTarget, svc?: Service): OutboundDecision {
  return { kind: 'passthrough', nextHop: { host: dst.ip, port: dst.port, dns: false }, ...(svc === undefined ? {} : { destinationService: svc }) };
}

function refused(code: OutboundErrorCode, reason: string): OutboundDecision {
  return { kind: 'refused', code, reason };
}
