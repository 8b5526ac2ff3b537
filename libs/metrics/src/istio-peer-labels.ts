// The source/destination labels Istio puts on every traffic metric (reference §8.1–8.2), shared by ztunnel's TCP
// metrics and the waypoint's request metrics so that a request and the connection carrying it agree on every value.
// `*_workload` is the owner name, `*_app`/`*_version` repeat the canonical service and revision, and an unknown
// value reads `unknown`.

import { formatSpiffeId, identityFromWorkload } from '@weft/identity';
import type { Workload } from '@weft/mesh-model';

export const UNKNOWN = 'unknown';

/** `source_workload` … `destination_cluster`, in Istio's order: the names `peerLabels` fills. */
export const PEER_LABEL_NAMES = [
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
] as const;
export type PeerLabelName = (typeof PEER_LABEL_NAMES)[number];

/** The locality labels recent ztunnels and waypoints put last: the names `localityLabels` fills. */
export const LOCALITY_LABEL_NAMES = ['source_region', 'source_zone', 'destination_region', 'destination_zone'] as const;
export type LocalityLabelName = (typeof LOCALITY_LABEL_NAMES)[number];

const orUnknown = (value: string | undefined): string => (value === undefined || value === '' ? UNKNOWN : value);

export interface PeerEnds {
  readonly source?: Workload;
  /** The client's identity as mTLS proved it; absent on plaintext (never guessed from an IP). */
  readonly sourcePrincipal?: string;
  readonly destination?: Workload;
  /** The destination's proven identity; defaults to the destination workload's own. */
  readonly destinationPrincipal?: string;
  readonly destinationService?: { readonly hostname: string; readonly namespace: string; readonly name: string };
}

/** `spiffe://<td>/ns/<ns>/sa/<sa>` of a workload. */
export function workloadPrincipal(workload: Workload): string {
  return formatSpiffeId(identityFromWorkload(workload.trustDomain, workload.namespace, workload.serviceAccount));
}

/** `source_workload` … `destination_cluster`, in Istio's order. */
export function peerLabels(ends: PeerEnds): Record<PeerLabelName, string> {
  const { source: s, destination: d, destinationService: svc } = ends;
  return {
    source_workload: orUnknown(s?.workloadName),
    source_canonical_service: orUnknown(s?.canonicalName),
    source_canonical_revision: orUnknown(s?.canonicalRevision),
    source_workload_namespace: orUnknown(s?.namespace),
    source_principal: orUnknown(ends.sourcePrincipal),
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
    destination_principal: orUnknown(ends.destinationPrincipal ?? (d === undefined ? undefined : workloadPrincipal(d))),
    destination_app: orUnknown(d?.canonicalName),
    destination_version: orUnknown(d?.canonicalRevision),
    destination_cluster: orUnknown(d?.clusterId),
  };
}

/** `source_region` … `destination_zone`. */
export function localityLabels(ends: Pick<PeerEnds, 'source' | 'destination'>): Record<LocalityLabelName, string> {
  return {
    source_region: orUnknown(ends.source?.locality?.region),
    source_zone: orUnknown(ends.source?.locality?.zone),
    destination_region: orUnknown(ends.destination?.locality?.region),
    destination_zone: orUnknown(ends.destination?.locality?.zone),
  };
}
