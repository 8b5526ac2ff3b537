// Inbound decisions as pure functions: a CONNECT arriving on 15008 (reference §2.4 steps 2–6) and a plaintext
// connection captured on 15006 (§2.5). RBAC (step 7) is the authz module's; these say where the bytes go.

import { parseIp, serviceKey, type MeshState, type Service, type Workload } from '@weft/mesh-model';

import { formatHostPort, illegalPorts, isGatewayInstance, normalizeIp, type SocketTarget } from '../routing';
import type { InboundErrorCode } from './inbound-error';

export interface ConnectRequest {
  /** `:method`. */
  readonly method: string;
  /** `:authority`. */
  readonly authority: string;
  /** The local IP the HBONE TCP connection arrived on (this pod's IP in in-pod mode). */
  readonly connectionDstIp: string;
  /** The `forwarded` header, read only for the destination_service metric label. */
  readonly forwarded?: string;
}

export interface InboundContext {
  /** The pod this listener belongs to, as resolved from xDS (the caller waits up to ~5s); undefined = unknown. */
  readonly localWorkload: Workload | undefined;
  readonly socks5Enabled?: boolean;
  /** `LOCALHOST_APP_TUNNEL` (default true): a PROXY application tunnel is dialled on loopback. */
  readonly localhostAppTunnel?: boolean;
}

export type InboundTarget =
  | {
      readonly ok: true;
      /** Where to connect from inside the pod netns, source spoofed to the HBONE peer IP. */
      readonly upstream: SocketTarget;
      /** Write a PROXY v2 header first (`application_tunnel.protocol == PROXY`, reference §2.9). */
      readonly proxyProtocol: boolean;
      /** Destination for RBAC: this pod's IP and the target port, before any application-tunnel override. */
      readonly rbacDestination: SocketTarget;
      /** The `destination_service` metric label, when one can be told. */
      readonly destinationService?: Service;
    }
  | { readonly ok: false; readonly code: InboundErrorCode; readonly reason: string };

export type Authority =
  | { readonly kind: 'ip'; readonly ip: string; readonly port: number }
  | { readonly kind: 'host'; readonly host: string; readonly port: number };

const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$/;
const PORT = /^[0-9]{1,5}$/;

/** `ip:port`, `[v6]:port` or `host:port`; undefined for anything else (step 3). */
export function parseAuthority(authority: string): Authority | undefined {
  let host: string;
  let portText: string;
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    if (close < 0 || authority[close + 1] !== ':') return undefined;
    host = authority.slice(1, close);
    portText = authority.slice(close + 2);
    if (parseIp(host)?.family !== 6) return undefined;
  } else {
    const colon = authority.lastIndexOf(':');
    if (colon <= 0 || authority.indexOf(':') !== colon) return undefined;
    host = authority.slice(0, colon);
    portText = authority.slice(colon + 1);
  }
  if (!PORT.test(portText)) return undefined;
  const port = Number(portText);
  if (port < 1 || port > 65535) return undefined;
  if (parseIp(host) !== undefined) return { kind: 'ip', ip: normalizeIp(host), port };
  return HOSTNAME.test(host) ? { kind: 'host', host: host.replace(/\.$/, '').toLowerCase(), port } : undefined;
}

/** Decides where an inbound CONNECT goes, or which status refuses it (reference §2.4 steps 2–6). */
export function decideInboundConnect(state: MeshState, request: ConnectRequest, context: InboundContext): InboundTarget {
  if (request.method !== 'CONNECT') return fail('ERR_INBOUND_METHOD_NOT_CONNECT', `method ${request.method} is not CONNECT`);
  const authority = parseAuthority(request.authority);
  if (authority === undefined) return fail('ERR_INBOUND_AUTHORITY_INVALID', `invalid :authority "${request.authority}"`);
  const local = context.localWorkload;
  if (local === undefined) return fail('ERR_INBOUND_UNKNOWN_LOCAL_WORKLOAD', 'the local workload is not known from xDS');
  const podIp = normalizeIp(request.connectionDstIp);

  if (authority.kind === 'ip' && authority.ip !== podIp && !mayForward(state, local, authority.ip)) {
    return fail('ERR_INBOUND_IP_MISMATCH', `ip mismatch: authority ${authority.ip} is not ${podIp}`);
  }

  // Step 6: the destination is always this pod; only the port is looked up.
  let targetPort: number;
  let service: Service | undefined;
  if (authority.kind === 'ip') {
    targetPort = authority.port;
    service = serviceForMetrics(state, local, request.forwarded, authority.ip);
  } else {
    service = localServiceByHostname(state, local, authority.host);
    const mapped = service === undefined ? undefined : targetPortOf(local, service, authority.port);
    if (mapped === undefined) {
      return fail('ERR_INBOUND_NO_PORT_MAPPING', `no target port on ${local.name} for ${authority.host}:${authority.port}`);
    }
    targetPort = mapped;
  }
  const tunnel = local.applicationTunnel;
  const proxyProtocol = tunnel?.protocol === 'PROXY';
  const port = tunnel !== undefined && tunnel.port > 0 ? tunnel.port : targetPort;
  if (illegalPorts(context.socks5Enabled).has(port)) {
    return fail('ERR_INBOUND_ILLEGAL_PORT', `refusing to proxy to ztunnel's own port ${port}`);
  }
  // A PROXY tunnel terminates on loopback (reference §2.9), so the app can tell tunnelled from direct traffic.
  const loopback = parseIp(podIp)?.family === 6 ? '::1' : '127.0.0.1';
  const host = proxyProtocol && context.localhostAppTunnel !== false ? loopback : podIp;
  return {
    ok: true,
    upstream: { ip: host, port },
    proxyProtocol,
    rbacDestination: { ip: podIp, port: targetPort },
    ...(service === undefined ? {} : { destinationService: service }),
  };
}

export interface PlaintextContext {
  readonly localWorkload: Workload | undefined;
  /** `SO_ORIGINAL_DST` of the captured connection. */
  readonly originalDestination: SocketTarget;
  readonly socks5Enabled?: boolean;
}

export type PlaintextTarget =
  | { readonly ok: true; readonly upstream: SocketTarget; readonly destinationService?: Service }
  | { readonly ok: false; readonly code: InboundErrorCode; readonly reason: string };

/**
 * Decides a plaintext connection captured on 15006 (reference §2.5): illegal port, then the local workload; the
 * caller then runs RBAC with no peer identity and connects to the original destination with the source spoofed.
 */
export function decideInboundPlaintext(state: MeshState, context: PlaintextContext): PlaintextTarget {
  const dst = { ip: normalizeIp(context.originalDestination.ip), port: context.originalDestination.port };
  if (illegalPorts(context.socks5Enabled).has(dst.port)) {
    return fail('ERR_INBOUND_ILLEGAL_PORT', `refusing to proxy to ztunnel's own port ${formatHostPort(dst.ip, dst.port)}`);
  }
  const local = context.localWorkload;
  if (local === undefined) return fail('ERR_INBOUND_UNKNOWN_LOCAL_WORKLOAD', 'the local workload is not known from xDS');
  const service = serviceForMetrics(state, local, undefined, dst.ip);
  return { ok: true, upstream: dst, ...(service === undefined ? {} : { destinationService: service }) };
}

/**
 * Step 5 exceptions (`validate_destination`): an application tunnel accepts any IP, and a waypoint accepts traffic
 * for the services and workloads it is the waypoint of.
 */
function mayForward(state: MeshState, local: Workload, ip: string): boolean {
  if (local.applicationTunnel !== undefined) return true;
  for (const svc of state.servicesByVip(local.network, ip)) {
    const waypoints = [svc.waypoint, ...svc.weightedWaypoints.map((w) => w.destination)];
    if (waypoints.some((w) => isGatewayInstance(state, w, local))) return true;
  }
  const target = state.workloadByAddress(local.network, ip);
  return target !== undefined && isGatewayInstance(state, target.waypoint, local);
}

/** The service of this pod with that hostname (the pod's own `services` first, then the usual preference). */
function localServiceByHostname(state: MeshState, local: Workload, host: string): Service | undefined {
  const all = state.servicesByHostname(host);
  return all.find((s) => serviceKey(s.namespace, s.hostname) in local.services) ?? state.serviceForHostname(host, local.namespace);
}

/** The endpoint's own mapping for the service port, else the service's (reference §2.4 step 6). */
function targetPortOf(local: Workload, service: Service, servicePort: number): number | undefined {
  const own = local.services[serviceKey(service.namespace, service.hostname)]?.find((p) => p.servicePort === servicePort);
  if (own !== undefined && own.targetPort > 0) return own.targetPort;
  const shared = service.ports.find((p) => p.servicePort === servicePort);
  return shared !== undefined && shared.targetPort > 0 ? shared.targetPort : undefined;
}

/**
 * `destination_service`: the `Forwarded: host=` service among those that select this pod; else the service whose
 * VIP was the authority (traffic a waypoint receives); else none.
 */
function serviceForMetrics(state: MeshState, local: Workload, forwarded: string | undefined, ip: string): Service | undefined {
  const host = forwardedHost(forwarded);
  if (host !== undefined) {
    const match = state.servicesByHostname(host).find((s) => serviceKey(s.namespace, s.hostname) in local.services);
    if (match !== undefined) return match;
  }
  return state.serviceForVip(local.network, ip, local.namespace);
}

/** `host=` of the first `Forwarded` element (RFC 7239), quotes and port removed. */
export function forwardedHost(forwarded: string | undefined): string | undefined {
  if (forwarded === undefined) return undefined;
  const first = forwarded.split(',')[0] ?? '';
  for (const pair of first.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0 || pair.slice(0, eq).trim().toLowerCase() !== 'host') continue;
    const value = pair.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
    const withoutPort = value.startsWith('[') ? value : value.replace(/:[0-9]+$/, '');
    return withoutPort === '' ? undefined : withoutPort.toLowerCase();
  }
  return undefined;
}

function fail(code: InboundErrorCode, reason: string): { ok: false; code: InboundErrorCode; reason: string } {
  return { ok: false, code, reason };
}
