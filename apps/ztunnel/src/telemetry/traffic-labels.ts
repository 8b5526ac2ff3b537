// Istio's CommonTrafficLabels for ztunnel's TCP metrics (reference §8.1; ztunnel src/proxy/metrics.rs), built from
// a connection's two ends as the store knows them. Label order and spelling are Istio's, so dashboards work as is.

import type { Service, Workload } from '@weft/mesh-model';
import { LOCALITY_LABEL_NAMES, localityLabels, PEER_LABEL_NAMES, peerLabels } from '@weft/metrics';

import { workloadSpiffeId } from '../routing';

export type Reporter = 'source' | 'destination';
export type SecurityPolicy = 'mutual_tls' | 'unknown';
/** ztunnel's `response_flags` values (reference §8.1). */
export type ResponseFlag = '-' | 'DENY' | 'CONNECT' | 'TLS_FAILURE' | 'H2_HANDSHAKE_FAILURE' | 'NETWORK_POLICY' | 'IDENTITY_ERROR' | 'CERT_REVOKED';

/** Every label, in Istio's order; the last four (locality) appear once either end is known, as in recent ztunnel. */
export const TRAFFIC_LABEL_NAMES = ['reporter', ...PEER_LABEL_NAMES, 'request_protocol', 'response_flags', 'connection_security_policy', ...LOCALITY_LABEL_NAMES] as const;

export type TrafficLabelName = (typeof TRAFFIC_LABEL_NAMES)[number];
export type TrafficLabels = Readonly<Partial<Record<TrafficLabelName, string>>>;

export { UNKNOWN } from '@weft/metrics';

export interface TrafficEnds {
  readonly reporter: Reporter;
  /** The client workload: the local pod on outbound, the peer looked up by IP (or from baggage) on inbound. */
  readonly source?: Workload;
  /**
   * `spiffe://…` of the client as proven by mTLS: the local identity on outbound HBONE, the peer certificate's on
   * inbound 15008. Absent on plaintext, so `source_principal` is never guessed from an IP.
   */
  readonly sourcePrincipal?: string;
  /** The workload reached (the chosen endpoint, or the waypoint when it is the next hop). */
  readonly destination?: Workload;
  readonly destinationService?: Service;
  readonly securityPolicy: SecurityPolicy;
  readonly responseFlags?: ResponseFlag;
}

/**
 * The label set of a connection (reference §8.1): Istio's source/destination labels (libs/metrics), the TCP ones,
 * and locality once either end is known, as in recent ztunnel.
 */
export function trafficLabels(ends: TrafficEnds): TrafficLabels {
  const { source: s, destination: d } = ends;
  const labels: Record<string, string> = {
    reporter: ends.reporter,
    ...peerLabels({
      ...(s === undefined ? {} : { source: s }),
      ...(ends.sourcePrincipal === undefined ? {} : { sourcePrincipal: ends.sourcePrincipal }),
      ...(d === undefined ? {} : { destination: d, destinationPrincipal: workloadSpiffeId(d) }),
      ...(ends.destinationService === undefined ? {} : { destinationService: ends.destinationService }),
    }),
    request_protocol: 'tcp',
    response_flags: ends.responseFlags ?? '-',
    connection_security_policy: ends.securityPolicy,
  };
  return s !== undefined || d !== undefined || ends.sourcePrincipal !== undefined ? { ...labels, ...localityLabels(ends) } : labels;
}
