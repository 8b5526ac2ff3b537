// Istio's request labels for the waypoint's HTTP metrics (reference §8.2), derived exactly as ztunnel derives its
// CommonTrafficLabels (apps/ztunnel/src/telemetry/traffic-labels.ts), so a request counted here and the connection
// ztunnel carried it on share every source/destination label value.

import type { Workload } from '@weft/mesh-model';
import { LOCALITY_LABEL_NAMES, localityLabels, PEER_LABEL_NAMES, peerLabels, UNKNOWN } from '@weft/metrics';

/** Every label, in ztunnel's order with the request labels Envoy's stats filter adds after `request_protocol`. */
export const REQUEST_LABEL_NAMES = [
  'reporter',
  ...PEER_LABEL_NAMES,
  'request_protocol',
  'response_code',
  'grpc_response_status',
  'response_flags',
  'connection_security_policy',
  ...LOCALITY_LABEL_NAMES,
] as const;

export type RequestLabelName = (typeof REQUEST_LABEL_NAMES)[number];
export type RequestLabels = Readonly<Record<RequestLabelName, string>>;

export { UNKNOWN };

/** Istio's stats reporter for a waypoint (`SERVER_GATEWAY`), exported as `reporter="waypoint"`. */
export const WAYPOINT_REPORTER = 'waypoint';

/** What the waypoint knows about one request when it is done; the input of metrics, and of the access log's identities. */
export interface RequestRecord {
  /** From @weft/mesh-model, looked up by the HBONE peer's source IP. */
  readonly source?: Workload;
  /** `spiffe://…` of the HBONE peer, proven by its certificate. */
  readonly sourcePrincipal: string;
  readonly destinationService?: { readonly hostname: string; readonly namespace: string; readonly name: string };
  /** The endpoint that answered last, if any. */
  readonly destination?: Workload;
  /** `spiffe://…` the upstream certificate proved; defaults to the destination workload's identity, as ztunnel's. */
  readonly destinationPrincipal?: string;
  readonly protocol: 'http' | 'grpc';
  /** 0 when no response was sent. */
  readonly responseCode: number;
  readonly grpcStatus?: number;
  /** Envoy flags (`UF`, `UH`, `NR`, …), '-' for none. */
  readonly responseFlags: string;
  readonly durationMs: number;
  readonly requestBytes: number;
  readonly responseBytes: number;
}

export function requestLabels(r: RequestRecord): RequestLabels {
  const labels = peerLabels({
    ...(r.source === undefined ? {} : { source: r.source }),
    sourcePrincipal: r.sourcePrincipal,
    ...(r.destination === undefined ? {} : { destination: r.destination }),
    ...(r.destinationPrincipal === undefined ? {} : { destinationPrincipal: r.destinationPrincipal }),
    ...(r.destinationService === undefined ? {} : { destinationService: r.destinationService }),
  });
  return {
    reporter: WAYPOINT_REPORTER,
    ...labels,
    request_protocol: r.protocol,
    response_code: String(r.responseCode),
    grpc_response_status: r.protocol === 'grpc' && r.grpcStatus !== undefined ? String(r.grpcStatus) : '',
    response_flags: r.responseFlags === '' ? '-' : r.responseFlags,
    connection_security_policy: 'mutual_tls',
    // ztunnel adds locality once either end is known; a waypoint request always has its HBONE peer.
    ...localityLabels(r),
  };
}
