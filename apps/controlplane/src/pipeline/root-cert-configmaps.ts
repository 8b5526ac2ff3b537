// Which namespaces need the mesh root certificate written into their `istio-ca-root-cert` ConfigMap: the decisions
// of istiod's namespace controller (pilot/pkg/serviceregistry/kube/controller/namespacecontroller.go), pure.

import type { KubeObject } from '@weft/mesh-config';

/** The ConfigMap istiod keeps in every namespace; proxies mount it at /var/run/secrets/istio. */
export const ROOT_CERT_CONFIGMAP_NAME = 'istio-ca-root-cert';
/** Its data key (Istio's `CACertNamespaceConfigMapDataName`). */
export const ROOT_CERT_CONFIGMAP_KEY = 'root-cert.pem';
/** The label istiod puts on it. */
export const ROOT_CERT_CONFIGMAP_LABELS: Readonly<Record<string, string>> = { 'istio.io/config': 'true' };

/**
 * Namespaces that never get the ConfigMap: Istio's `inject.IgnoredNamespaces` without kube-system, which istiod
 * serves so that ztunnel can run there.
 */
export const ROOT_CERT_SKIPPED_NAMESPACES: ReadonlySet<string> = new Set(['kube-public', 'kube-node-lease', 'local-path-storage']);

export interface RootCertWrite {
  readonly namespace: string;
  /** `missing`: no ConfigMap (new namespace, or someone deleted it); `stale`: its `root-cert.pem` differs. */
  readonly reason: 'missing' | 'stale';
  readonly configMap: KubeObject;
}

export interface RootCertPlanInput {
  /** Namespace objects. */
  readonly namespaces: readonly KubeObject[];
  /** The `istio-ca-root-cert` ConfigMaps that exist (others are ignored). */
  readonly configMaps: readonly KubeObject[];
  /** The PEM bundle to publish. */
  readonly rootCertPem: string;
}

/** The ConfigMap as Weft applies it: only the label and the key it owns, so other keys and labels stay. */
export function rootCertConfigMap(namespace: string, rootCertPem: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: ROOT_CERT_CONFIGMAP_NAME, namespace, labels: { ...ROOT_CERT_CONFIGMAP_LABELS } },
    data: { [ROOT_CERT_CONFIGMAP_KEY]: rootCertPem },
  };
}

/**
 * Whether a namespace gets the ConfigMap. istiod skips the system namespaces above and namespaces being deleted
 * (phase `Terminating`): the API server refuses new objects there, and the namespace's ConfigMaps are going anyway.
 */
export function publishesRootCert(namespace: KubeObject): boolean {
  if (ROOT_CERT_SKIPPED_NAMESPACES.has(namespace.metadata.name)) return false;
  return phaseOf(namespace) !== 'Terminating' && namespace.metadata.deletionTimestamp === undefined;
}

/**
 * The ConfigMaps to write, one per namespace whose ConfigMap is missing or whose `root-cert.pem` is not the bundle
 * (istiod's `InsertDataToConfigMap`: other keys are left alone and an up-to-date ConfigMap is not written). Ordered by
 * namespace name; empty when there is no bundle to publish.
 */
export function planRootCertConfigMaps(input: RootCertPlanInput): RootCertWrite[] {
  if (input.rootCertPem === '') return [];
  const published = new Map<string, unknown>();
  for (const configMap of input.configMaps) {
    const namespace = configMap.metadata.namespace;
    if (configMap.metadata.name !== ROOT_CERT_CONFIGMAP_NAME || namespace === undefined) continue;
    published.set(namespace, dataOf(configMap)[ROOT_CERT_CONFIGMAP_KEY]);
  }
  const writes: RootCertWrite[] = [];
  const names = input.namespaces.filter(publishesRootCert).map((namespace) => namespace.metadata.name);
  for (const namespace of [...new Set(names)].sort()) {
    const current = published.get(namespace);
    if (current === input.rootCertPem) continue;
    const reason = published.has(namespace) ? 'stale' : 'missing';
    writes.push({ namespace, reason, configMap: rootCertConfigMap(namespace, input.rootCertPem) });
  }
  return writes;
}

function phaseOf(namespace: KubeObject): unknown {
  const status = namespace.status;
  return typeof status === 'object' && status !== null ? (status as { phase?: unknown }).phase : undefined;
}

function dataOf(configMap: KubeObject): Readonly<Record<string, unknown>> {
  const data = configMap['data'];
  return typeof data === 'object' && data !== null ? (data as Record<string, unknown>) : {};
}
