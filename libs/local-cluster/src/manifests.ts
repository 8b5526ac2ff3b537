// Kubernetes manifests as the local cluster reads and writes them: parsing files and directories into objects, and
// the controlplane's manifest directory, where each object is one file with a deterministic name.

import { readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

import { parseAllDocuments } from 'yaml';

import type { LocalCluster } from './cluster';

/** A Kubernetes object as read from YAML. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; [key: string]: unknown };
  spec?: Record<string, unknown>;
  [key: string]: unknown;
}

export const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'GatewayClass', 'StorageClass']);

/** Every *.yaml / *.yml / *.json file of a path (a directory: its files, sorted), parsed into objects (Lists expanded). */
export function readManifests(file: string): KubeObject[] {
  const files = statSync(file).isDirectory()
    ? readdirSync(file)
        .filter((f) => /\.(ya?ml|json)$/.test(f))
        .sort()
        .map((f) => path.join(file, f))
    : [file];
  const objects: KubeObject[] = [];
  for (const f of files) {
    for (const doc of parseAllDocuments(readFileSync(f, 'utf8'))) {
      if (doc.errors.length > 0) throw new Error(`${f}: ${doc.errors[0]?.message ?? 'invalid YAML'}`);
      const value = doc.toJS() as unknown;
      if (value === null || value === undefined) continue;
      if (typeof value !== 'object' || Array.isArray(value)) throw new Error(`${f}: a document is not an object`);
      const obj = value as KubeObject;
      if (obj.kind !== undefined && obj.kind.endsWith('List') && Array.isArray(obj['items'])) objects.push(...(obj['items'] as KubeObject[]));
      else objects.push(obj);
    }
  }
  for (const obj of objects) {
    if (typeof obj.kind !== 'string' || typeof obj.metadata?.name !== 'string') throw new Error(`an object without kind or metadata.name: ${JSON.stringify(obj).slice(0, 200)}`);
  }
  return objects;
}

export function namespaceOf(obj: KubeObject): string {
  return CLUSTER_SCOPED.has(obj.kind ?? '') ? '' : (obj.metadata?.namespace ?? 'default');
}

/** The manifest file of an object in the controlplane's directory (deterministic, so delete finds it). */
export function manifestFile(cluster: LocalCluster, kind: string, namespace: string, name: string): string {
  return path.join(cluster.manifests, `${kind.toLowerCase()}.${namespace === '' ? '_' : namespace}.${name}.yaml`);
}

export function writeAtomic(file: string, text: string): void {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.tmp`);
  writeFileSync(temp, text);
  renameSync(temp, file);
}

