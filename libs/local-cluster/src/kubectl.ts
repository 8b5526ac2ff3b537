// The kubectl verbs the local cluster offers besides apply/delete: label (live — the controlplane and cni-node watch
// the manifest directory, so a label change takes effect without restarting anything), exec, logs, and finding a
// pod by name or by its Deployment.

import { existsSync, readFileSync } from 'node:fs';

import { stringify } from 'yaml';

import { podRecords, type PodRecord } from './apply';
import type { LocalCluster } from './cluster';
import { manifestFile, readManifests, writeAtomic, type KubeObject } from './manifests';
import { syncServiceNetworking } from './networking';

/** One `k=v` (set) or `k-` (remove) of `kubectl label`. */
export type LabelChange = { readonly key: string; readonly value: string } | { readonly key: string; readonly remove: true };

const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/** Parses `k=v` / `k-` as kubectl does; throws naming the argument that is wrong. */
export function parseLabelChange(arg: string): LabelChange {
  if (arg.endsWith('-') && !arg.includes('=')) {
    const key = arg.slice(0, -1);
    if (!LABEL_KEY.test(key)) throw new Error(`invalid label key "${key}" in "${arg}"`);
    return { key, remove: true };
  }
  const eq = arg.indexOf('=');
  if (eq <= 0) throw new Error(`"${arg}" is neither key=value nor key-`);
  const key = arg.slice(0, eq);
  const value = arg.slice(eq + 1);
  if (!LABEL_KEY.test(key)) throw new Error(`invalid label key "${key}" in "${arg}"`);
  if (!LABEL_VALUE.test(value)) throw new Error(`invalid label value "${value}" for ${key}: 63 characters at most, alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric`);
  return { key, value };
}

/** Applies label changes to a label set; kubectl's refusal to change a value without `--overwrite`. */
export function applyLabelChanges(labels: Readonly<Record<string, string>>, changes: readonly LabelChange[], overwrite: boolean): Record<string, string> {
  const out: Record<string, string> = { ...labels };
  for (const change of changes) {
    if ('remove' in change) {
      delete out[change.key];
      continue;
    }
    const current = out[change.key];
    if (current !== undefined && current !== change.value && !overwrite) throw new Error(`'${change.key}' already has a value (${current}), and --overwrite is false`);
    out[change.key] = change.value;
  }
  return out;
}

export type LabelTarget = { readonly kind: 'namespace'; readonly name: string } | { readonly kind: 'pod'; readonly namespace: string; readonly name: string };

/**
 * `kubectl label`: rewrites the object's manifest with the new labels (a Namespace that was never applied — like
 * `default` — is created, as it exists in every cluster). Pod label changes also move Service endpoints.
 */
export function labelObject(cluster: LocalCluster, target: LabelTarget, changes: readonly LabelChange[], overwrite = false): string {
  if (target.kind === 'namespace') {
    const file = manifestFile(cluster, 'Namespace', '', target.name);
    const current: KubeObject = existsSync(file) ? (readManifests(file)[0] ?? {}) : { apiVersion: 'v1', kind: 'Namespace', metadata: { name: target.name } };
    const labels = applyLabelChanges(current.metadata?.labels ?? {}, changes, overwrite);
    writeAtomic(file, stringify({ ...current, metadata: { ...(current.metadata ?? {}), name: target.name, labels } }));
    return `namespace/${target.name} labeled`;
  }
  const record = findPod(cluster, target.namespace, target.name);
  const current = existsSync(record.manifest) ? readManifests(record.manifest)[0] : undefined;
  if (current === undefined) throw new Error(`pods "${target.name}" not found in namespace ${target.namespace}`);
  const labels = applyLabelChanges(current.metadata?.labels ?? {}, changes, overwrite);
  writeAtomic(record.manifest, stringify({ ...current, metadata: { ...(current.metadata ?? {}), labels } }));
  syncServiceNetworking(
    cluster,
    podRecords(cluster).map((r) => ({ namespace: r.namespace, name: r.name, netns: r.netns })),
  );
  return `pod/${record.name} labeled`;
}

/**
 * A pod by name, or by `deployment/NAME` (`deploy/NAME`): the Deployment's first pod, as `kubectl exec deploy/x`
 * picks one. Throws kubectl's not-found message.
 */
export function findPod(cluster: LocalCluster, namespace: string, ref: string): PodRecord {
  const records = podRecords(cluster).filter((r) => r.namespace === namespace);
  const slash = ref.indexOf('/');
  if (slash > 0) {
    const kind = ref.slice(0, slash);
    const name = ref.slice(slash + 1);
    if (kind === 'pod' || kind === 'pods' || kind === 'po') return findPod(cluster, namespace, name);
    if ((kind !== 'deployment' && kind !== 'deploy' && kind !== 'deployments') || name === '') throw new Error(`"${ref}": only pod/NAME and deployment/NAME are supported`);
    const owned = records.filter((r) => r.deployment === `${namespace}/${name}`).sort((a, b) => a.name.localeCompare(b.name));
    const first = owned[0];
    if (first === undefined) throw new Error(`deployments.apps "${name}" has no pods in namespace ${namespace}`);
    return first;
  }
  const record = records.find((r) => r.name === ref);
  if (record === undefined) throw new Error(`pods "${ref}" not found in namespace ${namespace}`);
  return record;
}

/** The argv that runs `command` inside the pod (its network namespace and its hosts/resolv.conf). */
export function execArgv(record: PodRecord, command: readonly string[]): string[] {
  if (command.length === 0) throw new Error('exec needs a command after --');
  return ['ip', 'netns', 'exec', record.netns, ...command];
}

/** A container's log: what its program wrote to stdout and stderr. `container` defaults to the only (or first) one. */
export function podLogFile(cluster: LocalCluster, record: PodRecord, container?: string): string {
  const names = record.processes;
  const wanted = container === undefined ? names[0] : names.find((n) => n === `pod-${record.namespace}-${record.name}-${container}`);
  if (wanted === undefined) {
    const containers = names.map((n) => n.slice(`pod-${record.namespace}-${record.name}-`.length));
    throw new Error(`container ${container ?? ''} is not valid for pod ${record.name}: choose one of [${containers.join(' ')}]`);
  }
  const process = cluster.process(wanted);
  if (process === undefined) throw new Error(`pod ${record.name} has no running container ${wanted}`);
  return process.log;
}

export function podLogs(cluster: LocalCluster, record: PodRecord, container?: string): string {
  const file = podLogFile(cluster, record, container);
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}
