// What istiod derives from a Pod's own metadata for its `Workload` (reference §4.2 fields 5, 10–14, 17, 24, 25):
// owner workload name, canonical name/revision, tunnel protocol, health, locality, addresses.

import { canonicalIp, type Locality, type TunnelProtocol, type WorkloadStatus } from '@weft/mesh-model';

import type { KubeObject } from './kube-object';
import { isPodReady } from './translate-inventory';
import { asArray, asRecord, asString } from './translate-types';

export const REDIRECTION_ANNOTATION = 'ambient.istio.io/redirection';
export const TUNNEL_LABEL = 'networking.istio.io/tunnel';

// istio pkg/kube GetDeployMetaFromPod: a Job named `<cronjob>-<8..10 digit timestamp>` belongs to a CronJob.
const CRONJOB_JOB_NAME = /^(.+)-\d{8,10}$/;

/**
 * istio `GetDeployMetaFromPod` name: the first owner's name, with a ReplicaSet's `-<pod-template-hash>` trimmed
 * (Deployment) and a CronJob's Job timestamp trimmed; the pod name when it has no owner.
 */
export function workloadNameOf(pod: KubeObject): string {
  const owner = pod.metadata.ownerReferences?.[0];
  if (owner === undefined) return pod.metadata.name;
  const hash = pod.metadata.labels?.['pod-template-hash'];
  if (owner.kind === 'ReplicaSet' && hash !== undefined && hash !== '' && owner.name.endsWith(`-${hash}`)) {
    return owner.name.slice(0, -(hash.length + 1));
  }
  if (owner.kind === 'Job') {
    const cron = CRONJOB_JOB_NAME.exec(owner.name);
    if (cron?.[1] !== undefined) return cron[1];
  }
  return owner.name;
}

function firstLabel(labels: Readonly<Record<string, string>>, keys: readonly string[]): string | undefined {
  for (const key of keys) {
    const value = labels[key];
    if (value !== undefined && value !== '') return value;
  }
  return undefined;
}

/** istio `labels.CanonicalService`: name and revision with their label fallbacks (§4.2 fields 10, 11). */
export function canonicalServiceOf(pod: KubeObject, workloadName: string): { name: string; revision: string } {
  const labels = pod.metadata.labels ?? {};
  return {
    name: firstLabel(labels, ['service.istio.io/canonical-name', 'app.kubernetes.io/name', 'app']) ?? workloadName,
    revision: firstLabel(labels, ['service.istio.io/canonical-revision', 'app.kubernetes.io/version', 'version']) ?? 'latest',
  };
}

/**
 * §4.4/§5.1: HBONE once the CNI agent has annotated the pod `ambient.istio.io/redirection: enabled`; an
 * HBONE-capable sidecar (label `networking.istio.io/tunnel: http`) is HBONE with `native_tunnel`; otherwise NONE.
 */
export function tunnelOf(pod: KubeObject): { tunnelProtocol: TunnelProtocol; nativeTunnel: boolean } {
  if (pod.metadata.labels?.[TUNNEL_LABEL] === 'http') return { tunnelProtocol: 'HBONE', nativeTunnel: true };
  if (pod.metadata.annotations?.[REDIRECTION_ANNOTATION] === 'enabled') return { tunnelProtocol: 'HBONE', nativeTunnel: false };
  return { tunnelProtocol: 'NONE', nativeTunnel: false };
}

/** UNHEALTHY when not Ready or being deleted (§4.2 field 17). */
export function statusOf(pod: KubeObject): WorkloadStatus {
  return pod.metadata.deletionTimestamp === undefined && isPodReady(pod) ? 'HEALTHY' : 'UNHEALTHY';
}

/** Succeeded and Failed pods are terminal: istiod sends no workload for them. */
export function isTerminal(pod: KubeObject): boolean {
  const phase = asString(asRecord(pod.status)?.['phase']);
  return phase === 'Succeeded' || phase === 'Failed';
}

/** `status.podIPs[].ip`, else `status.podIP`, canonicalized; empty when the pod has no IP yet. */
export function podAddresses(pod: KubeObject): string[] {
  const status = asRecord(pod.status);
  const listed = asArray(status?.['podIPs']).map((entry) => asString(asRecord(entry)?.['ip']));
  const texts = listed.length > 0 ? listed : [asString(status?.['podIP'])];
  const addresses: string[] = [];
  for (const text of texts) {
    const ip = text === undefined ? undefined : canonicalIp(text);
    if (ip !== undefined && !addresses.includes(ip)) addresses.push(ip);
  }
  return addresses;
}

/**
 * istiod `getPodLocality`: the Node's `topology.kubernetes.io/region|zone` and `topology.istio.io/subzone`
 * labels; none when the pod is unscheduled, the Node is unknown or it has none of the labels.
 */
export function localityOf(node: KubeObject | undefined): Locality | undefined {
  const labels = node?.metadata.labels ?? {};
  const region = labels['topology.kubernetes.io/region'] ?? '';
  const zone = labels['topology.kubernetes.io/zone'] ?? '';
  const subzone = labels['topology.istio.io/subzone'] ?? '';
  return region === '' && zone === '' && subzone === '' ? undefined : { region, zone, subzone };
}
