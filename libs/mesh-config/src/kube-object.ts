// The configuration objects the mesh reads, as plain Kubernetes-shaped values: whatever a config source read
// (a manifest file or the API server) before any validation. Kinds are told apart by `kind` (and `apiVersion`).

export interface KubeObjectMeta {
  readonly name: string;
  /** Absent for cluster-scoped kinds (Namespace, Node). */
  readonly namespace?: string;
  readonly uid?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly creationTimestamp?: string;
  readonly deletionTimestamp?: string;
  readonly resourceVersion?: string;
  readonly generation?: number;
  readonly ownerReferences?: readonly { readonly kind: string; readonly name: string; readonly uid?: string }[];
}

export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: KubeObjectMeta;
  readonly spec?: unknown;
  readonly status?: unknown;
  /** Core kinds that keep data at the top level (EndpointSlice `endpoints`/`ports`). */
  readonly [field: string]: unknown;
}

/** Kinds every config source watches (controlplane issue: manifest directory and Kubernetes informers). */
export const WATCHED_KINDS = [
  'Namespace',
  'ServiceAccount',
  'Node',
  'Pod',
  'Service',
  'EndpointSlice',
  'AuthorizationPolicy',
  'PeerAuthentication',
  'RequestAuthentication',
  'VirtualService',
  'DestinationRule',
  'ServiceEntry',
  'Gateway',
  'HTTPRoute',
] as const;
export type WatchedKind = (typeof WATCHED_KINDS)[number];

/** Identity of an object across sources: `Kind/namespace/name` (namespace empty for cluster-scoped kinds). */
export function objectKey(object: Pick<KubeObject, 'kind' | 'metadata'>): string {
  return `${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`;
}

/** How an object is named in messages: `AuthorizationPolicy default/httpbin-access`. */
export function objectRef(object: Pick<KubeObject, 'kind' | 'metadata'>): string {
  const ns = object.metadata.namespace;
  return `${object.kind} ${ns === undefined || ns === '' ? '' : `${ns}/`}${object.metadata.name}`;
}

/** The GatewayClass that makes a Gateway an Istio waypoint. */
export const WAYPOINT_GATEWAY_CLASS = 'istio-waypoint';
