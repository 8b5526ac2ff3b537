// Istio's request labels for the waypoint's HTTP metrics (reference §8.2), derived exactly as ztunnel derives its
// CommonTrafficLabels (apps/ztunnel/src/telemetry/traffic-labels.ts), so a request counted here and the connection
// ztunnel carried it on share every source/destination label value.

import { formatSpiffeId, identityFromWorkload } from '@weft/identity';
import type { Workload } from '@weft/mesh-model';

/** Every label, in ztunnel's order with the request labels Envoy's stats filter adds after `request_protocol`. */
export const REQUEST_LABEL_NAMES = [
  'reporter',
  'source_workload',
  'source_canonical_service',
  'source_canonical_revision',
  'source_workload_namespace',
  'source_principal',
  'source_app',
  'source_version',
  'source_cluster',
  'destination_service',
  'destination_service_namespace',
  'destination_service_name',
  'destination_workload',
  'destination_canonical_service',
  'destination_canonical_revision',
  'destination_workload_namespace',
  'destination_principal',
  'destination_app',
  'destination_version',
  'destination_cluster',
  'request_protocol',
  'response_code',
  'grpc_response_status',
  'response_flags',
  'connection_security_policy',
  'source_region',
  'source_zone',
  'destination_region',
  'destination_zone',
] as const;

export type RequestLabelName = (typeof REQUEST_LABEL_NAMES)[number];
export type RequestLabels = Readonly<Record<RequestLabelName, string>>;

export const UNKNOWN = 'unknown';
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

const orUnknown = (value: string | undefined): string => (value === undefined || value === '' ? UNKNOWN : value);

/** The workload's own identity, `spiffe://<td>/ns/<ns>/sa/<sa>` (ztunnel `workloadSpiffeId`). */
export function workloadPrincipal(workload: Workload): string {
  return formatSpiffeId(identityFromWorkload(workload.trustDomain, workload.namespace, workload.serviceAccount));
}

/**
 * The label set of a request. Source and destination labels follow ztunnel's rules (`*_workload` is the owner name,
 * `*_app`/`*_version` repeat the canonical service and revision, unknown values read `unknown`); the request labels
 * follow Envoy's Istio stats filter: `response_code` is `0` when nothing was sent, `grpc_response_status` is empty
 * unless a gRPC status was seen, and the downstream is always HBONE, so the policy is `mutual_tls`.
 */
export function requestLabels(r: RequestRecord): RequestLabels {
  const { source: s, destination: d, destinationService: svc } = r;
  return {
    reporter: WAYPOINT_REPORTER,
    source_workload: orUnknown(s?.workloadName),
    source_canonical_service: orUnknown(s?.canonicalName),
    source_canonical_revision: orUnknown(s?.canonicalRevision),
    source_workload_namespace: orUnknown(s?.namespace),
    source_principal: orUnknown(r.sourcePrincipal),
    source_app: orUnknown(s?.canonicalName),
    source_version: orUnknown(s?.canonicalRevision),
    source_cluster: orUnknown(s?.clusterId),
    destination_service: orUnknown(svc?.hostname),
    destination_service_namespace: orUnknown(svc?.namespace),
    destination_service_name: orUnknown(svc?.name),
    destination_workload: orUnknown(d?.workloadName),
    destination_canonical_service: orUnknown(d?.canonicalName),
    destination_canonical_revision: orUnknown(d?.canonicalRevision),
    destination_workload_namespace: orUnknown(d?.namespace),
    destination_principal: orUnknown(r.destinationPrincipal ?? (d === undefined ? undefined : workloadPrincipal(d))),
    destination_app: orUnknown(d?.canonicalName),
    destination_version: orUnknown(d?.canonicalRevision),
    destination_cluster: orUnknown(d?.clusterId),
    request_protocol: r.protocol,
    response_code: String(r.responseCode),
    grpc_response_status: r.protocol === 'grpc' && r.grpcStatus !== undefined ? String(r.grpcStatus) : '',
    response_flags: r.responseFlags === '' ? '-' : r.responseFlags,
    connection_security_policy: 'mutual_tls',
    // ztunnel adds locality once either end is known; a waypoint request always has its HBONE peer.
    source_region: orUnknown(s?.locality?.region),
    source_zone: orUnknown(s?.locality?.zone),
    destination_region: orUnknown(d?.locality?.region),
    destination_zone: orUnknown(d?.locality?.zone),
  };
}
