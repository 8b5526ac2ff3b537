// `meshctl local apply -f` / `delete -f` (DESIGN.md §5): the local cluster's scheduler and kubelet. Pods and
// Deployments (expanded into pods owned by a ReplicaSet) get a node, a netns of the run, the node's CNI chain run
// as a container runtime runs it, and their containers' local programs (images.ts) as recorded processes; every
// other object is written to the controlplane's manifest directory as it is (Services get a clusterIP).
//
// Safety: the pod netns and processes are created through LocalCluster, which records them before they exist, so
// `local down` removes them after any crash. What `delete` needs (CNI result, process names) is kept per pod under
// `<state-dir>/pods`.

import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

import { parseAllDocuments, stringify } from 'yaml';

import { cniAdd, cniDel, type ChainInvocation } from './cni-chain';
import type { LocalCluster } from './cluster';
import { planContainer, sampleAppEntry, type ContainerSpec } from './images';
import { isRunning, netnsPath, stopProcess } from './system';

/** A Kubernetes object as read from YAML. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; [key: string]: unknown };
  spec?: Record<string, unknown>;
  [key: string]: unknown;
}

/** What `delete` needs to undo a pod. */
interface PodRecord {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly node: string;
  readonly netns: string;
  readonly containerId: string;
  readonly processes: string[];
  readonly manifest: string;
  cniResult?: unknown;
}

export interface ApplyReport {
  readonly lines: string[];
  readonly warnings: string[];
}

const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'GatewayClass', 'StorageClass']);

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

const hash = (text: string, length: number): string => createHash('sha256').update(text).digest('hex').slice(0, length);

function namespaceOf(obj: KubeObject): string {
  return CLUSTER_SCOPED.has(obj.kind ?? '') ? '' : (obj.metadata?.namespace ?? 'default');
}

/** The manifest file of an object in the controlplane's directory (deterministic, so delete finds it). */
function manifestFile(cluster: LocalCluster, kind: string, namespace: string, name: string): string {
  return path.join(cluster.manifests, `${kind.toLowerCase()}.${namespace === '' ? '_' : namespace}.${name}.yaml`);
}

function writeAtomic(file: string, text: string): void {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.tmp`);
  writeFileSync(temp, text);
  renameSync(temp, file);
}

function podsDir(cluster: LocalCluster): string {
  return path.join(cluster.stateDir, 'pods');
}

function podRecordFile(cluster: LocalCluster, namespace: string, name: string): string {
  return path.join(podsDir(cluster), `${namespace}.${name}.json`);
}

function podRecords(cluster: LocalCluster): PodRecord[] {
  if (!existsSync(podsDir(cluster))) return [];
  return readdirSync(podsDir(cluster))
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(path.join(podsDir(cluster), f), 'utf8')) as PodRecord);
}

function saveRecord(cluster: LocalCluster, record: PodRecord): void {
  mkdirSync(podsDir(cluster), { recursive: true });
  writeAtomic(podRecordFile(cluster, record.namespace, record.name), JSON.stringify(record, null, 2));
}

/** The node with the fewest pods (ties: node order). */
function pickNode(cluster: LocalCluster): string {
  const counts = new Map(cluster.nodes.map((n) => [n.name, 0]));
  for (const r of podRecords(cluster)) counts.set(r.node, (counts.get(r.node) ?? 0) + 1);
  let best = cluster.nodes[0]?.name ?? '';
  for (const n of cluster.nodes) if ((counts.get(n.name) ?? 0) < (counts.get(best) ?? 0)) best = n.name;
  return best;
}

/** The Services' clusterIPs in the manifest directory. */
function usedClusterIps(cluster: LocalCluster): Set<string> {
  const used = new Set<string>();
  for (const f of readdirSync(cluster.manifests)) {
    if (!f.startsWith('service.')) continue;
    try {
      const obj = readManifests(path.join(cluster.manifests, f))[0];
      const ip = obj?.spec?.['clusterIP'];
      if (typeof ip === 'string') used.add(ip);
    } catch {
      // not ours to judge
    }
  }
  return used;
}

/** The next free address of 10.96.0.0/12 from 10.96.0.10. */
function allocateClusterIp(cluster: LocalCluster): string {
  const used = usedClusterIps(cluster);
  for (let i = 10; i < 1 << 20; i++) {
    const ip = `10.${96 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
    if (!used.has(ip)) return ip;
  }
  throw new Error('the service CIDR 10.96.0.0/12 is exhausted');
}

interface PodToRun {
  readonly object: KubeObject;
  readonly namespace: string;
  readonly name: string;
}

/** A Deployment's pods: `<deploy>-<hash>-<n>`, the template's labels plus pod-template-hash, owned by the ReplicaSet. */
export function expandDeployment(deploy: KubeObject): PodToRun[] {
  const name = deploy.metadata?.name ?? '';
  const namespace = deploy.metadata?.namespace ?? 'default';
  const spec = deploy.spec ?? {};
  const template = (spec['template'] ?? {}) as KubeObject;
  const replicas = typeof spec['replicas'] === 'number' ? spec['replicas'] : 1;
  const templateHash = hash(JSON.stringify(template), 10);
  const rsName = `${name}-${templateHash}`;
  const rsUid = `${hash(`${namespace}/${rsName}`, 8)}-${hash(`rs/${namespace}/${rsName}`, 4)}-4000-8000-${hash(`uid/${namespace}/${rsName}`, 12)}`;
  return Array.from({ length: replicas }, (_, n) => {
    const podName = `${rsName}-${n}`;
    const object: KubeObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        ...(template.metadata ?? {}),
        name: podName,
        namespace,
        labels: { ...(template.metadata?.labels ?? {}), 'pod-template-hash': templateHash },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rsName, uid: rsUid, controller: true, blockOwnerDeletion: true }],
      },
      spec: template.spec ?? {},
    };
    return { object, namespace, name: podName };
  });
}

function podsOf(obj: KubeObject): PodToRun[] {
  if (obj.kind === 'Pod') return [{ object: obj, namespace: obj.metadata?.namespace ?? 'default', name: obj.metadata?.name ?? '' }];
  if (obj.kind === 'Deployment') return expandDeployment(obj);
  return [];
}

function chainFor(cluster: LocalCluster, record: PodRecord, conflist: ChainInvocation['conflist']): ChainInvocation {
  return {
    conflist,
    binDirs: cluster.cniBinDirs(record.node),
    nodeNetns: cluster.node(record.node).netns,
    containerId: record.containerId,
    netnsPath: netnsPath(record.netns),
    ifName: 'eth0',
    args: { IgnoreUnknown: 'true', K8S_POD_NAMESPACE: record.namespace, K8S_POD_NAME: record.name, K8S_POD_INFRA_CONTAINER_ID: record.containerId, K8S_POD_UID: record.uid },
  };
}

const LOOPBACK: ChainInvocation['conflist'] = { cniVersion: '1.0.0', name: 'cni-loopback', plugins: [{ type: 'loopback' }] };

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function waitListening(cluster: LocalCluster, netns: string, ports: readonly number[], processNames: readonly string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const port of ports) {
    for (;;) {
      for (const name of processNames) {
        const p = cluster.process(name);
        if (p !== undefined && !isRunning(p)) throw new Error(`${name} exited; see ${p.log}`);
      }
      const r = await cluster.httpGet(netns, `http://127.0.0.1:${port}/`, 1_000);
      if (r.status !== 0) break;
      if (Date.now() > deadline) throw new Error(`nothing listens on port ${port} in ${netns} after ${timeoutMs} ms`);
      await sleep(100);
    }
  }
}

async function runPod(cluster: LocalCluster, pod: PodToRun, report: ApplyReport): Promise<void> {
  if (existsSync(podRecordFile(cluster, pod.namespace, pod.name))) {
    report.lines.push(`pod/${pod.name} unchanged`);
    return;
  }
  const spec = (pod.object.spec ?? {}) as { containers?: ContainerSpec[]; serviceAccountName?: string; nodeName?: string };
  const containers = spec.containers ?? [];
  if (containers.length === 0) throw new Error(`pod ${pod.namespace}/${pod.name} has no containers`);
  const plans = containers.map((c) => planContainer(c, { namespace: pod.namespace, name: pod.name }));
  for (const plan of plans) report.warnings.push(...plan.warnings);

  const node = spec.nodeName !== undefined && cluster.nodes.some((n) => n.name === spec.nodeName) ? spec.nodeName : pickNode(cluster);
  const uid = randomUUID();
  const suffix = `pod-${hash(`${pod.namespace}/${pod.name}`, 10)}`;
  const record: PodRecord = {
    namespace: pod.namespace,
    name: pod.name,
    uid,
    node,
    netns: `${cluster.prefix}-${suffix}`,
    containerId: hash(uid, 32),
    processes: plans.map((_, i) => `pod-${pod.namespace}-${pod.name}-${containers[i]?.name ?? i}`),
    manifest: manifestFile(cluster, 'Pod', pod.namespace, pod.name),
  };
  // Recorded before anything exists: delete (and down) undo whatever of it was made.
  saveRecord(cluster, record);
  const podObject: KubeObject = {
    ...pod.object,
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { ...(pod.object.metadata ?? {}), name: pod.name, namespace: pod.namespace, uid },
    spec: { ...spec, nodeName: node, serviceAccountName: spec.serviceAccountName ?? 'default' },
  };
  writeAtomic(record.manifest, stringify(podObject));
  cluster.addNetns(suffix);
  await cniAdd(chainFor(cluster, record, LOOPBACK));
  const result = await cniAdd(chainFor(cluster, record, await cluster.conflist(node)));
  record.cniResult = result;
  saveRecord(cluster, record);
  const ips = ((result['ips'] ?? []) as { address?: string }[]).map((ip) => String(ip.address ?? '').split('/')[0] ?? '').filter((ip) => ip !== '');
  plans.forEach((plan, i) => {
    const argv = plan.launch.kind === 'sample-app' ? [process.execPath, sampleAppEntry(plan.launch.app), ...plan.launch.args] : [plan.launch.file, ...plan.launch.args];
    cluster.startProcess('app', record.processes[i] ?? pod.name, record.netns, argv, plan.env, node);
  });
  await waitListening(
    cluster,
    record.netns,
    plans.flatMap((p) => p.listenPorts),
    record.processes,
    30_000,
  );
  const now = new Date().toISOString();
  const status = {
    phase: 'Running',
    hostIP: cluster.node(node).underlayIp,
    podIP: ips[0],
    podIPs: ips.map((ip) => ({ ip })),
    startTime: now,
    conditions: [
      { type: 'Initialized', status: 'True', lastTransitionTime: now },
      { type: 'ContainersReady', status: 'True', lastTransitionTime: now },
      { type: 'Ready', status: 'True', lastTransitionTime: now },
    ],
  };
  writeAtomic(record.manifest, stringify({ ...podObject, status }));
  report.lines.push(`pod/${pod.name} created on ${node} (${ips.join(', ')})`);
}

/** Applies every object of `files` (a file or a directory each) to the cluster. */
export async function applyManifests(cluster: LocalCluster, files: readonly string[]): Promise<ApplyReport> {
  const report: ApplyReport = { lines: [], warnings: [] };
  const objects = files.flatMap((f) => readManifests(f));
  // Everything that is not a workload first (namespaces, service accounts, services): pods find them in place.
  for (const obj of objects) {
    if (obj.kind === 'Pod' || obj.kind === 'Deployment') continue;
    const namespace = namespaceOf(obj);
    const out: KubeObject = { ...obj, metadata: { ...(obj.metadata ?? {}), ...(namespace === '' ? {} : { namespace }) } };
    const file = manifestFile(cluster, obj.kind ?? '', namespace, obj.metadata?.name ?? '');
    if (obj.kind === 'Service') {
      const spec = { ...(obj.spec ?? {}) };
      if (spec['clusterIP'] === undefined && spec['type'] !== 'ExternalName') {
        let previous: unknown;
        try {
          previous = existsSync(file) ? readManifests(file)[0]?.spec?.['clusterIP'] : undefined;
        } catch {
          previous = undefined;
        }
        const ip = typeof previous === 'string' ? previous : allocateClusterIp(cluster);
        spec['clusterIP'] = ip;
        spec['clusterIPs'] = [ip];
      }
      out.spec = spec;
    }
    const existed = existsSync(file);
    writeAtomic(file, stringify(out));
    report.lines.push(`${obj.kind?.toLowerCase() ?? ''}/${obj.metadata?.name ?? ''} ${existed ? 'configured' : 'created'}`);
  }
  for (const obj of objects) {
    if (obj.kind === 'Deployment') report.lines.push(`deployment.apps/${obj.metadata?.name ?? ''} applied`);
    for (const pod of podsOf(obj)) await runPod(cluster, pod, report);
  }
  return report;
}

async function removePod(cluster: LocalCluster, record: PodRecord): Promise<void> {
  for (const name of record.processes) {
    const p = cluster.process(name);
    if (p !== undefined && isRunning(p) && !(await stopProcess(p, 5_000))) throw new Error(`${name} (pid ${p.pid}) did not exit`);
  }
  cluster.forgetProcesses(record.processes);
  if (cluster.state.netns.includes(record.netns)) {
    const errors: unknown[] = [];
    if (existsSync(netnsPath(record.netns))) {
      await cniDel(chainFor(cluster, record, await cluster.conflist(record.node)), record.cniResult).catch((e: unknown) => errors.push(e));
      await cniDel(chainFor(cluster, record, LOOPBACK)).catch((e: unknown) => errors.push(e));
    }
    cluster.removeNetns(record.netns);
    if (errors.length > 0) throw new Error(`CNI DEL of pod ${record.namespace}/${record.name}: ${String(errors[0])}`);
  }
  rmSync(record.manifest, { force: true });
  rmSync(podRecordFile(cluster, record.namespace, record.name), { force: true });
}

/** Deletes every object of `files` (pods of Deployments: every pod the Deployment owns). */
export async function deleteManifests(cluster: LocalCluster, files: readonly string[]): Promise<ApplyReport> {
  const report: ApplyReport = { lines: [], warnings: [] };
  const objects = files.flatMap((f) => readManifests(f));
  const records = podRecords(cluster);
  for (const obj of [...objects].reverse()) {
    const namespace = namespaceOf(obj);
    const name = obj.metadata?.name ?? '';
    if (obj.kind === 'Pod' || obj.kind === 'Deployment') {
      const mine = records.filter((r) => r.namespace === namespace && (obj.kind === 'Pod' ? r.name === name : new RegExp(`^${name.replace(/[.]/g, '\\.')}-[0-9a-f]{10}-\\d+$`).test(r.name)));
      for (const r of mine) {
        await removePod(cluster, r);
        report.lines.push(`pod/${r.name} deleted`);
      }
      if (obj.kind === 'Deployment') report.lines.push(`deployment.apps/${name} deleted`);
      continue;
    }
    const file = manifestFile(cluster, obj.kind ?? '', namespace, name);
    if (existsSync(file)) {
      rmSync(file, { force: true });
      report.lines.push(`${obj.kind?.toLowerCase() ?? ''}/${name} deleted`);
    } else {
      report.lines.push(`${obj.kind?.toLowerCase() ?? ''}/${name} not found`);
    }
  }
  return report;
}
