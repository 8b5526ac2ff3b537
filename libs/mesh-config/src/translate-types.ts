// Shared vocabulary of the translation from Kubernetes/Istio objects to ztunnel's resources (reference §4.4): the
// input options with istiod's defaults, the messages every step reports, and defensive readers for `spec`/`status`
// values that arrive unvalidated.

import type { Authorization, GatewayAddress, Service, Workload } from '@weft/mesh-model';

import { objectRef, type KubeObject } from './kube-object';

export interface TranslateMeshOptions {
  /** istiod `CLUSTER_ID`; first segment of every Pod workload uid. */
  readonly clusterId?: string;
  readonly trustDomain?: string;
  /** Kubernetes DNS domain, `<name>.<ns>.svc.<domainSuffix>`. */
  readonly domainSuffix?: string;
  /** Mesh root namespace: selector policies there apply in every namespace. */
  readonly rootNamespace?: string;
  /** Network of this cluster; "" is the default network. */
  readonly network?: string;
}

/** The options with istiod's defaults filled in. */
export interface TranslateSettings {
  readonly clusterId: string;
  readonly trustDomain: string;
  readonly domainSuffix: string;
  readonly rootNamespace: string;
  readonly network: string;
}

export function translateSettings(options: TranslateMeshOptions = {}): TranslateSettings {
  return {
    clusterId: options.clusterId ?? 'Kubernetes',
    trustDomain: options.trustDomain ?? 'cluster.local',
    domainSuffix: options.domainSuffix ?? 'cluster.local',
    rootNamespace: options.rootNamespace ?? 'istio-system',
    network: options.network ?? '',
  };
}

export type TranslationMessageLevel = 'error' | 'warning' | 'info';

export type TranslationMessageCode =
  /** A policy object failed to parse and was left out (the policy library's error code is in `code`). */
  | `ERR_POLICY_${string}`
  | `WARN_${string}`
  | 'WARN_WAYPOINT_NOT_FOUND'
  | 'WARN_WAYPOINT_TRAFFIC_TYPE'
  | 'WARN_WAYPOINT_NAMESPACE_NOT_ALLOWED'
  | 'INFO_WAYPOINT_NOT_READY'
  | 'INFO_EXTERNAL_NAME_SKIPPED';

export interface TranslationMessage {
  readonly level: TranslationMessageLevel;
  /** `Kind ns/name`, e.g. `Pod default/httpbin-5d9c7b6f4-0`. */
  readonly object: string;
  readonly field?: string;
  readonly code: TranslationMessageCode;
  readonly message: string;
}

/** Value of `istio.io/waypoint-for`. */
export type WaypointTrafficType = 'service' | 'workload' | 'all' | 'none';

/** A Gateway of class `istio-waypoint` (reference §7.1). */
export interface WaypointInfo {
  readonly namespace: string;
  readonly name: string;
  readonly trafficType: WaypointTrafficType;
  /** The waypoint pods' service account; istiod's template names it after the Gateway. */
  readonly serviceAccount: string;
  readonly address: GatewayAddress;
  /** Has an address (status.addresses, or a Ready pod); only a ready waypoint is bound (§4.5). */
  readonly ready: boolean;
}

export interface TranslationResult {
  readonly workloads: Workload[];
  readonly services: Service[];
  readonly authorizations: Authorization[];
  readonly waypoints: WaypointInfo[];
  readonly messages: TranslationMessage[];
}

export function message(
  object: Pick<KubeObject, 'kind' | 'metadata'>,
  level: TranslationMessageLevel,
  code: TranslationMessageCode,
  text: string,
  field?: string,
): TranslationMessage {
  return field === undefined
    ? { level, object: objectRef(object), code, message: text }
    : { level, object: objectRef(object), field, code, message: text };
}

// ---- readers for unvalidated values ----

export type PlainRecord = Readonly<Record<string, unknown>>;

export function asRecord(value: unknown): PlainRecord | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as PlainRecord) : undefined;
}

export function asArray(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

export function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function asNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) ? value : undefined;
}

/** A `map[string]string` such as `matchLabels`; non-string values are dropped. */
export function asStringMap(value: unknown): Readonly<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(asRecord(value) ?? {})) if (typeof v === 'string') out[k] = v;
  return out;
}

/** labels.Instance.SubsetOf: every selector label is present with the same value (an empty selector matches all). */
export function selectorMatches(selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `<name>.<ns>.svc.<domainSuffix>`. */
export function serviceHostname(name: string, namespace: string, domainSuffix: string): string {
  return `${name}.${namespace}.svc.${domainSuffix}`;
}
