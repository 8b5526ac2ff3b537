// The pure half of the Kubernetes source: which API resources back the watched kinds, how an informer's object
// becomes a KubeObject, what to do when a watch fails, and the patches that carry status back. No client here.
import type { KubeObject, WatchedKind } from '@weft/mesh-config';
import type { ObjectStatus } from './config-source';

/** An API resource the client lists, watches and writes. */
export interface ApiResource {
  readonly kind: string;
  /** Empty for the core group. */
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly namespaced: boolean;
  /**
   * Lists and watches only the objects it selects (`metadata.name=istio-ca-root-cert`), so a controller that needs
   * one object per namespace does not cache every ConfigMap of the cluster.
   */
  readonly fieldSelector?: string;
}

/** A resource backing one of the kinds the config source watches. */
export interface KubeResource extends ApiResource {
  readonly kind: WatchedKind;
}

export const KUBE_RESOURCES: readonly KubeResource[] = [
  { kind: 'Namespace', group: '', version: 'v1', plural: 'namespaces', namespaced: false },
  { kind: 'ServiceAccount', group: '', version: 'v1', plural: 'serviceaccounts', namespaced: true },
  { kind: 'Node', group: '', version: 'v1', plural: 'nodes', namespaced: false },
  { kind: 'Pod', group: '', version: 'v1', plural: 'pods', namespaced: true },
  { kind: 'Service', group: '', version: 'v1', plural: 'services', namespaced: true },
  { kind: 'EndpointSlice', group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices', namespaced: true },
  { kind: 'AuthorizationPolicy', group: 'security.istio.io', version: 'v1', plural: 'authorizationpolicies', namespaced: true },
  { kind: 'PeerAuthentication', group: 'security.istio.io', version: 'v1', plural: 'peerauthentications', namespaced: true },
  { kind: 'RequestAuthentication', group: 'security.istio.io', version: 'v1', plural: 'requestauthentications', namespaced: true },
  { kind: 'VirtualService', group: 'networking.istio.io', version: 'v1', plural: 'virtualservices', namespaced: true },
  { kind: 'DestinationRule', group: 'networking.istio.io', version: 'v1', plural: 'destinationrules', namespaced: true },
  { kind: 'ServiceEntry', group: 'networking.istio.io', version: 'v1', plural: 'serviceentries', namespaced: true },
  { kind: 'Gateway', group: 'gateway.networking.k8s.io', version: 'v1', plural: 'gateways', namespaced: true },
  { kind: 'HTTPRoute', group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes', namespaced: true },
];

export function apiVersionOf(resource: ApiResource): string {
  return resource.group === '' ? resource.version : `${resource.group}/${resource.version}`;
}

/** The list/watch path of a resource across all namespaces. */
export function resourcePath(resource: ApiResource): string {
  const base = resource.group === '' ? `/api/${resource.version}` : `/apis/${resource.group}/${resource.version}`;
  return `${base}/${resource.plural}`;
}

export function isIstioResource(resource: ApiResource): boolean {
  return resource.group.endsWith('.istio.io');
}

/**
 * An informer's object as a KubeObject: a plain JSON copy (the client's models hold Dates), with apiVersion and
 * kind filled in (items of a list response lack them) and managedFields dropped (large, never read).
 */
export function toKubeObject(resource: ApiResource, raw: unknown): KubeObject | undefined {
  const copy: unknown = JSON.parse(JSON.stringify(raw ?? null));
  if (typeof copy !== 'object' || copy === null || Array.isArray(copy)) return undefined;
  const record = copy as Record<string, unknown>;
  const metadata = record.metadata;
  if (typeof metadata !== 'object' || metadata === null || typeof (metadata as { name?: unknown }).name !== 'string') {
    return undefined;
  }
  const { managedFields: _managedFields, ...meta } = metadata as Record<string, unknown>;
  return { ...record, apiVersion: apiVersionOf(resource), kind: resource.kind, metadata: meta } as unknown as KubeObject;
}

/** First retry after a failed watch; doubles per failure up to the maximum. */
export const INFORMER_RETRY_MIN_MS = 1_000;
export const INFORMER_RETRY_MAX_MS = 30_000;

export interface InformerRestart {
  /** A fresh list is needed (the watch's resourceVersion expired): replace everything of the kind. */
  readonly relist: boolean;
  readonly delayMs: number;
}

/**
 * What to do after an informer reported an error and stopped. `410 Gone` means our resourceVersion is older than
 * the server's watch cache window: re-list at once (client-go's behaviour). Anything else: retry the watch from
 * the last resourceVersion with exponential backoff; `failures` counts consecutive failures, starting at 1.
 */
export function informerRestart(error: unknown, failures: number): InformerRestart {
  if (statusCodeOf(error) === 410) return { relist: true, delayMs: 0 };
  const delayMs = Math.min(INFORMER_RETRY_MAX_MS, INFORMER_RETRY_MIN_MS * 2 ** Math.max(0, failures - 1));
  return { relist: false, delayMs };
}

/** The HTTP status of a client error, whichever shape it came in (ApiException, watch error, Status object). */
export function statusCodeOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as { statusCode?: unknown; code?: unknown; body?: unknown };
  for (const candidate of [e.statusCode, e.code, (e.body as { code?: unknown } | undefined)?.code]) {
    if (typeof candidate === 'number') return candidate;
  }
  if (typeof e.body === 'string') {
    try {
      const code: unknown = (JSON.parse(e.body) as { code?: unknown }).code;
      if (typeof code === 'number') return code;
    } catch {
      return undefined; // not a Status body
    }
  }
  return undefined;
}

/**
 * Whether a client error is a Kubernetes Status naming this cause among `details.causes` (apimachinery's
 * `HasStatusCause`), e.g. `NamespaceTerminating` on a write into a namespace being deleted.
 */
export function hasStatusCause(error: unknown, reason: string): boolean {
  return statusBodyOf(error)?.details?.causes?.some((cause) => cause.reason === reason) ?? false;
}

interface StatusBody {
  readonly details?: { readonly causes?: readonly { readonly reason?: unknown }[] };
}

function statusBodyOf(error: unknown): StatusBody | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const body = (error as { body?: unknown }).body;
  if (typeof body === 'object' && body !== null) return body as StatusBody;
  if (typeof body !== 'string') return undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    return typeof parsed === 'object' && parsed !== null ? (parsed as StatusBody) : undefined;
  } catch {
    return undefined; // not a Status body
  }
}

/** Parses `Kind/namespace/name` back into its parts. */
export function parseObjectKey(key: string): { kind: string; namespace: string; name: string } | undefined {
  const parts = key.split('/');
  if (parts.length !== 3 || parts[0] === '' || parts[2] === '') return undefined;
  return { kind: parts[0] ?? '', namespace: parts[1] ?? '', name: parts[2] ?? '' };
}

/**
 * The merge patch for the annotations the mesh owns on an object. Keys reported before but not now are set to
 * null, which a JSON merge patch (RFC 7386) turns into a removal.
 */
export function annotationPatch(
  previous: Readonly<Record<string, string>> | undefined,
  next: Readonly<Record<string, string>> | undefined,
): { metadata: { annotations: Record<string, string | null> } } | undefined {
  const annotations: Record<string, string | null> = {};
  for (const key of Object.keys(previous ?? {})) if (next?.[key] === undefined) annotations[key] = null;
  for (const [key, value] of Object.entries(next ?? {})) if (previous?.[key] !== value) annotations[key] = value;
  return Object.keys(annotations).length === 0 ? undefined : { metadata: { annotations } };
}

/**
 * Istio-style status (istio.meta.v1alpha1.IstioStatus) for the status subresource. Istio's AnalysisMessageBase
 * has no free-text field; its CRDs preserve unknown status fields, so `field` and `message` ride along.
 */
export function istioStatusPatch(status: ObjectStatus | undefined): { status: Record<string, unknown> } {
  return {
    status: {
      conditions: status?.conditions ?? null,
      validationMessages:
        status?.validationMessages?.map((m) => ({
          type: { name: 'WeftValidation', code: m.level === 'error' ? 'WEFT0001' : 'WEFT0002' },
          level: m.level === 'error' ? 'ERROR' : 'WARNING',
          field: m.field,
          message: m.message,
        })) ?? null,
    },
  };
}
