// `meshctl local apply -f` / `delete -f` (DESIGN.md §5): the local cluster's scheduler and kubelet. Pods and
// Deployments (expanded into pods owned by a ReplicaSet) get a node, a netns of the run, the node's CNI chain run
// as a container runtime runs it, and their containers' local programs (images.ts) as recorded processes; every
// other object is written to the controlplane's manifest directory as it is (Services get a clusterIP).
//
// Safety: the pod netns and processes are created through LocalCluster, which records them before they exist, so
// `local down` removes them after any crash. What `delete` needs (CNI result, process names) is kept per pod under
// `<state-dir>/pods`.

import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';

import { stringify } from 'yaml';

import { isWaypointGateway, waypointWorkloadObjects, type KubeObject as MeshKubeObject } from '@weft/mesh-config';

import { cniAdd, cniDel, type ChainInvocation } from './cni-chain';
import type { LocalCluster } from './cluster';
import { planContainer, sampleAppEntry, type ContainerSpec } from './images';
import { manifestFile, namespaceOf, readManifests, writeAtomic, type KubeObject } from './manifests';
import { removePodEtc, syncServiceNetworking, writePodEtc, clusterServices } from './networking';
import { isRunning, netnsPath, stopProcess, tcpSocketsIn } from './system';

/** What `delete` needs to undo a pod. */
export interface PodRecord {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly node: string;
  readonly netns: string;
  readonly containerId: string;
  readonly processes: string[];
  readonly manifest: string;
  /** `<namespace>/<name>` of the Deployment that owns the pod. */
  readonly deployment?: string;
  /** The ports its programs listen on (their connections are drained before the pod goes). */
  readonly ports?: readonly number[];
  cniResult?: unknown;
}

export interface ApplyReport {
  readonly lines: string[];
  readonly warnings: string[];
}

const hash = (text: string, length: number): string => createHash('sha256').update(text).digest('hex').slice(0, length);

function podsDir(cluster: LocalCluster): string {
  return path.join(cluster.stateDir, 'pods');
}

function podRecordFile(cluster: LocalCluster, namespace: string, name: string): string {
  return path.join(podsDir(cluster), `${namespace}.${name}.json`);
}

export function podRecords(cluster: LocalCluster): PodRecord[] {
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
  /** `<namespace>/<name>` of the owning Deployment. */
  readonly deployment?: string;
}

interface DeploymentShape {
  readonly namespace: string;
  readonly name: string;
  readonly replicas: number;
  readonly template: KubeObject;
  readonly templateHash: string;
  readonly rsName: string;
}

function deploymentShape(deploy: KubeObject): DeploymentShape {
  const name = deploy.metadata?.name ?? '';
  const namespace = deploy.metadata?.namespace ?? 'default';
  const spec = deploy.spec ?? {};
  const template = (spec['template'] ?? {}) as KubeObject;
  const replicas = spec['replicas'] === undefined ? 1 : spec['replicas'];
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
    throw new Error(`Deployment ${namespace}/${name}: spec.replicas must be a whole number ≥ 0, not ${JSON.stringify(replicas)}`);
  }
  const templateHash = hash(JSON.stringify(template), 10);
  return { namespace, name, replicas, template, templateHash, rsName: `${name}-${templateHash}` };
}

/** Pod `index` of a Deployment: `<deploy>-<template hash>-<index>`, the template's labels plus pod-template-hash, owned by the ReplicaSet. */
export function deploymentPod(deploy: KubeObject, index: number): PodToRun {
  const { namespace, name, template, templateHash, rsName } = deploymentShape(deploy);
  const rsUid = `${hash(`${namespace}/${rsName}`, 8)}-${hash(`rs/${namespace}/${rsName}`, 4)}-4000-8000-${hash(`uid/${namespace}/${rsName}`, 12)}`;
  const podName = `${rsName}-${index}`;
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
  return { object, namespace, name: podName, deployment: `${namespace}/${name}` };
}

/** A Deployment's pods at its current size: indexes 0..replicas-1. */
export function expandDeployment(deploy: KubeObject): PodToRun[] {
  return Array.from({ length: deploymentShape(deploy).replicas }, (_, n) => deploymentPod(deploy, n));
}

function deploymentsDir(cluster: LocalCluster): string {
  return path.join(cluster.stateDir, 'deployments');
}

function deploymentFile(cluster: LocalCluster, namespace: string, name: string): string {
  return path.join(deploymentsDir(cluster), `${namespace}.${name}.yaml`);
}

/** The Deployment as last applied (scaled, restarted); throws kubectl's not-found message when there is none. */
export function loadDeployment(cluster: LocalCluster, namespace: string, name: string): KubeObject {
  const file = deploymentFile(cluster, namespace, name);
  const found = existsSync(file) ? readManifests(file)[0] : undefined;
  if (found === undefined) throw new Error(`deployments.apps "${name}" not found in namespace ${namespace}`);
  return found;
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

function tailOf(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines - 1).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Waits until every port has a listening TCP socket in the pod (any protocol: HTTP, TLS, raw TCP). */
async function waitListening(cluster: LocalCluster, netns: string, ports: readonly number[], processNames: readonly string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const name of processNames) {
      const p = cluster.process(name);
      if (p !== undefined && !isRunning(p)) throw new Error(`${name} exited; its log ${p.log}:\n${tailOf(p.log, 20)}`);
    }
    const listening = new Set((await tcpSocketsIn(netns)).filter((s) => s.state === 'LISTEN').map((s) => s.localPort));
    const missing = ports.filter((port) => !listening.has(port));
    if (missing.length === 0) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on port ${missing.join(', ')} in ${netns} after ${timeoutMs} ms`);
    await sleep(100);
  }
}

async function waitHttpOk(cluster: LocalCluster, netns: string, url: string, processNames: readonly string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const name of processNames) {
      const p = cluster.process(name);
      if (p !== undefined && !isRunning(p)) throw new Error(`${name} exited; its log ${p.log}:\n${tailOf(p.log, 20)}`);
    }
    const r = await cluster.httpGet(netns, url, 1_000);
    if (r.status === 200) return;
    if (Date.now() > deadline) throw new Error(`${url} in ${netns} did not answer 200 after ${timeoutMs} ms (last: ${r.status} ${r.body.slice(0, 200)})`);
    await sleep(200);
  }
}

/** How long apply/delete wait for every ztunnel to learn of a pod that became Ready or went away. */
const MESH_CONVERGENCE_MS = 15_000;

type WorkloadView = { readonly uid?: string; readonly status?: string } | undefined;

/**
 * Waits until every running ztunnel's `/config_dump` shows the pod's workload as `want` says: a new pod takes
 * traffic only once the whole mesh knows it, and a leaving pod stops only after no ztunnel sends to it.
 * Returns false on timeout (a warning for the caller, not a failure: the pod itself is fine).
 */
async function waitWorkload(cluster: LocalCluster, record: PodRecord, want: (workload: WorkloadView) => boolean): Promise<boolean> {
  if (cluster.state.phase !== 'up') return true;
  const uid = `Kubernetes//Pod/${record.namespace}/${record.name}`;
  const deadline = Date.now() + MESH_CONVERGENCE_MS;
  for (;;) {
    const dumps = await Promise.all(
      cluster.nodes.filter((n) => cluster.process(`ztunnel-${n.name}`) !== undefined).map((n) => cluster.httpGet(n.netns, 'http://127.0.0.1:15000/config_dump', 2_000)),
    );
    const settled = dumps.every((d) => {
      if (d.status !== 200) return false;
      try {
        const workloads = (JSON.parse(d.body) as { workloads?: { uid?: string; status?: string }[] }).workloads ?? [];
        return want(workloads.find((w) => w.uid === uid));
      } catch {
        return false;
      }
    });
    if (settled) return true;
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
}

const serving = (w: WorkloadView): boolean => w?.status === 'Healthy';
const gone = (w: WorkloadView): boolean => w === undefined;
/** Out of every load-balancing choice: unhealthy (terminating) or already gone. */
const notServing = (w: WorkloadView): boolean => w === undefined || w.status !== 'Healthy';

/** The pod records' identities (for the /etc files of every pod). */
function podNetns(cluster: LocalCluster): { namespace: string; name: string; netns: string }[] {
  return podRecords(cluster).map((r) => ({ namespace: r.namespace, name: r.name, netns: r.netns }));
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
    ...(pod.deployment === undefined ? {} : { deployment: pod.deployment }),
    ports: plans.flatMap((p) => p.listenPorts),
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
  // Before the programs start: `ip netns exec` binds these over /etc for them.
  writePodEtc(record.netns, { namespace: pod.namespace, name: pod.name, ip: ips[0] }, clusterServices(cluster));
  const fields: Readonly<Record<string, string>> = {
    'metadata.name': pod.name,
    'metadata.namespace': pod.namespace,
    'metadata.uid': uid,
    'spec.serviceAccountName': spec.serviceAccountName ?? 'default',
    'spec.nodeName': node,
    'status.podIP': ips[0] ?? '',
    'status.hostIP': cluster.node(node).underlayIp,
  };
  plans.forEach((plan, i) => {
    // The kubelet's part of the downward API: fieldRef env values, known once the pod has its IP.
    const downward = Object.fromEntries(
      (containers[i]?.env ?? []).flatMap((e) => {
        const fieldPath = e.valueFrom?.fieldRef?.fieldPath;
        return fieldPath === undefined ? [] : [[e.name, fields[fieldPath] ?? '']];
      }),
    );
    const env = { ...(plan.launch.kind === 'mesh' ? cluster.meshComponentEnv(node) : {}), ...plan.env, ...downward };
    const argv =
      plan.launch.kind === 'sample-app'
        ? [process.execPath, sampleAppEntry(plan.launch.app), ...plan.launch.args]
        : plan.launch.kind === 'mesh'
          ? [process.execPath, cluster.binary(plan.launch.component)]
          : [plan.launch.file, ...plan.launch.args];
    cluster.startProcess('app', record.processes[i] ?? pod.name, record.netns, argv, env, node);
  });
  await waitListening(
    cluster,
    record.netns,
    plans.flatMap((p) => p.listenPorts),
    record.processes,
    30_000,
  );
  // A mesh component is Ready when its readiness probe says so (the waypoint: xDS synced, certificate held).
  if (plans.some((p) => p.launch.kind === 'mesh')) await waitHttpOk(cluster, record.netns, 'http://127.0.0.1:15021/healthz/ready', record.processes, 30_000);
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
  syncServiceNetworking(cluster, podNetns(cluster));
  if (!(await waitWorkload(cluster, record, serving))) report.warnings.push(`pod/${pod.name}: not every ztunnel knew the pod after ${MESH_CONVERGENCE_MS} ms`);
  report.lines.push(`pod/${pod.name} created on ${node} (${ips.join(', ')})`);
}

/** Rewrites a Pod manifest as the API server shows a pod being deleted: deletionTimestamp set, Ready false. */
function markTerminating(manifest: string, now: Date): void {
  const pod = readManifests(manifest)[0];
  if (pod === undefined) return;
  const status = (pod['status'] ?? {}) as { conditions?: { type?: string; status?: string }[] };
  const conditions = (status.conditions ?? []).map((c) => (c.type === 'Ready' || c.type === 'ContainersReady' ? { ...c, status: 'False', lastTransitionTime: now.toISOString() } : c));
  writeAtomic(manifest, stringify({ ...pod, metadata: { ...(pod.metadata ?? {}), deletionTimestamp: now.toISOString(), deletionGracePeriodSeconds: 30 }, status: { ...status, conditions } }));
}

/** Sockets that are neither listening nor finished: a connection still in progress. */
const IDLE_STATES = new Set(['LISTEN', 'TIME-WAIT', 'CLOSED', 'UNCONN']);

/** How long no connection may be seen before a pod counts as drained: covers a CONNECT already on its way. */
const DRAIN_QUIET_MS = 300;

/**
 * Waits (at most `timeoutMs`) until no connection to or from the pod's program ports has been in progress for
 * {@link DRAIN_QUIET_MS}: requests routed to the pod before it left every load-balancing choice arrive and finish,
 * and what the program wrote before it exited is relayed by ztunnel before CNI DEL makes ztunnel drop the pod's
 * connections (reference §5.4).
 */
async function drainConnections(record: PodRecord, timeoutMs: number): Promise<void> {
  const ports = new Set(record.ports ?? []);
  if (ports.size === 0) return;
  const deadline = Date.now() + timeoutMs;
  let quietSince = Date.now();
  for (;;) {
    const busy = (await tcpSocketsIn(record.netns)).some((s) => !IDLE_STATES.has(s.state) && (ports.has(s.localPort) || ports.has(s.peerPort)));
    if (busy) quietSince = Date.now();
    else if (Date.now() - quietSince >= DRAIN_QUIET_MS) return;
    if (Date.now() > deadline) return;
    await sleep(50);
  }
}

/**
 * Removes a pod as Kubernetes does on delete. It is first marked terminating (deletionTimestamp, not Ready): out of
 * the Service endpoints and, once every ztunnel shows it unhealthy, out of every load-balancing choice — while
 * connections already routed to it are still accepted. Connections in progress then finish (at most 5 s), its
 * programs stop (SIGTERM, SIGKILL after 5 s) and what they wrote is relayed; then the Pod object goes (every
 * ztunnel is waited on to drop it), and CNI DEL in reverse order and its namespace.
 */
async function removePod(cluster: LocalCluster, record: PodRecord, report: ApplyReport): Promise<void> {
  const others = (): { namespace: string; name: string; netns: string }[] => podNetns(cluster).filter((p) => p.netns !== record.netns);
  if (existsSync(record.manifest)) {
    markTerminating(record.manifest, new Date());
    syncServiceNetworking(cluster, others());
    if (!(await waitWorkload(cluster, record, notServing))) report.warnings.push(`pod/${record.name}: some ztunnel still balanced to the pod after ${MESH_CONVERGENCE_MS} ms`);
  }
  if (existsSync(netnsPath(record.netns))) await drainConnections(record, 5_000);
  for (const name of record.processes) {
    const p = cluster.process(name);
    if (p !== undefined && isRunning(p) && !(await stopProcess(p, 5_000))) throw new Error(`${name} (pid ${p.pid}) did not exit`);
  }
  if (existsSync(netnsPath(record.netns))) await drainConnections(record, 2_000);
  if (existsSync(record.manifest)) {
    rmSync(record.manifest, { force: true });
    syncServiceNetworking(cluster, others());
    if (!(await waitWorkload(cluster, record, gone))) report.warnings.push(`pod/${record.name}: some ztunnel still held the pod after ${MESH_CONVERGENCE_MS} ms`);
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
  removePodEtc(record.netns);
  rmSync(podRecordFile(cluster, record.namespace, record.name), { force: true });
  report.lines.push(`pod/${record.name} deleted`);
}

const podIndex = (name: string): number => Number(name.slice(name.lastIndexOf('-') + 1));

/**
 * Brings a Deployment's pods to its spec, as its ReplicaSets would: pods of the current template up to `replicas`
 * (lowest free index first), extra ones removed (highest index first), and pods of an older template removed once
 * the new ones are Ready (a rollout).
 */
async function reconcileDeployment(cluster: LocalCluster, deploy: KubeObject, report: ApplyReport): Promise<void> {
  const shape = deploymentShape(deploy);
  mkdirSync(deploymentsDir(cluster), { recursive: true });
  writeAtomic(deploymentFile(cluster, shape.namespace, shape.name), stringify({ ...deploy, metadata: { ...(deploy.metadata ?? {}), namespace: shape.namespace } }));
  const owner = `${shape.namespace}/${shape.name}`;
  const owned = podRecords(cluster).filter((r) => r.deployment === owner);
  const current = owned.filter((r) => r.name.startsWith(`${shape.rsName}-`)).sort((a, b) => podIndex(a.name) - podIndex(b.name));
  const outdated = owned.filter((r) => !current.includes(r));
  const used = new Set(current.map((r) => podIndex(r.name)));
  let running = current.length;
  for (let i = 0; running < shape.replicas; i++) {
    if (used.has(i)) continue;
    await runPod(cluster, deploymentPod(deploy, i), report);
    running++;
  }
  const excess = current.slice(shape.replicas).reverse();
  for (const r of [...outdated, ...excess]) await removePod(cluster, r, report);
}

/** Applies every object of `files` (a file or a directory each) to the cluster. */
export async function applyManifests(cluster: LocalCluster, files: readonly string[]): Promise<ApplyReport> {
  return applyObjects(cluster, files.flatMap((f) => readManifests(f)));
}

/**
 * The objects to apply: the given ones, and for each waypoint Gateway what the gateway controller deploys for it
 * (ServiceAccount, Service, Deployment; see waypointWorkloadObjects) — the local cluster acts as that controller.
 */
function withWaypointWorkloads(objects: readonly KubeObject[]): KubeObject[] {
  const out = [...objects];
  for (const obj of objects) {
    if (!isWaypointGateway(obj)) continue;
    const gateway = { ...obj, metadata: { ...(obj.metadata ?? {}), namespace: obj.metadata?.namespace ?? 'default' } } as MeshKubeObject;
    out.push(...(waypointWorkloadObjects(gateway) as unknown as KubeObject[]));
  }
  return out;
}

export async function applyObjects(cluster: LocalCluster, given: readonly KubeObject[]): Promise<ApplyReport> {
  const objects = withWaypointWorkloads(given);
  const report: ApplyReport = { lines: [], warnings: [] };
  // Everything that is not a workload first (namespaces, service accounts, services): pods find them in place.
  let servicesChanged = false;
  for (const obj of objects) {
    if (obj.kind === 'Pod' || obj.kind === 'Deployment') continue;
    const namespace = namespaceOf(obj);
    const out: KubeObject = { ...obj, metadata: { ...(obj.metadata ?? {}), ...(namespace === '' ? {} : { namespace }) } };
    const file = manifestFile(cluster, obj.kind ?? '', namespace, obj.metadata?.name ?? '');
    if (obj.kind === 'Service') {
      servicesChanged = true;
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
  if (servicesChanged) syncServiceNetworking(cluster, podNetns(cluster));
  for (const obj of objects) {
    if (obj.kind === 'Deployment') {
      report.lines.push(`deployment.apps/${obj.metadata?.name ?? ''} applied`);
      await reconcileDeployment(cluster, obj, report);
    } else if (obj.kind === 'Pod') {
      await runPod(cluster, { object: obj, namespace: obj.metadata?.namespace ?? 'default', name: obj.metadata?.name ?? '' }, report);
    }
  }
  return report;
}

/** Deletes every object of `files` (pods of Deployments: every pod the Deployment owns). */
export async function deleteManifests(cluster: LocalCluster, files: readonly string[]): Promise<ApplyReport> {
  return deleteObjects(cluster, files.flatMap((f) => readManifests(f)));
}

/** Deletes objects (by kind, namespace and name; a waypoint Gateway with what was deployed for it). */
export async function deleteObjects(cluster: LocalCluster, given: readonly KubeObject[]): Promise<ApplyReport> {
  const report: ApplyReport = { lines: [], warnings: [] };
  const objects = withWaypointWorkloads(given);
  const records = podRecords(cluster);
  let servicesChanged = false;
  for (const obj of [...objects].reverse()) {
    const namespace = namespaceOf(obj);
    const name = obj.metadata?.name ?? '';
    if (obj.kind === 'Pod' || obj.kind === 'Deployment') {
      const owner = `${namespace}/${name}`;
      const mine = records.filter((r) => r.namespace === namespace && (obj.kind === 'Pod' ? r.name === name && r.deployment === undefined : r.deployment === owner));
      for (const r of mine) await removePod(cluster, r, report);
      if (obj.kind === 'Deployment') {
        rmSync(deploymentFile(cluster, namespace, name), { force: true });
        report.lines.push(`deployment.apps/${name} deleted`);
      }
      continue;
    }
    const file = manifestFile(cluster, obj.kind ?? '', namespace, name);
    if (existsSync(file)) {
      rmSync(file, { force: true });
      if (obj.kind === 'Service') servicesChanged = true;
      report.lines.push(`${obj.kind?.toLowerCase() ?? ''}/${name} deleted`);
    } else {
      report.lines.push(`${obj.kind?.toLowerCase() ?? ''}/${name} not found`);
    }
  }
  if (servicesChanged) syncServiceNetworking(cluster, podNetns(cluster));
  return report;
}

/** `kubectl scale deployment NAME --replicas N`. */
export async function scaleDeployment(cluster: LocalCluster, namespace: string, name: string, replicas: number): Promise<ApplyReport> {
  if (!Number.isInteger(replicas) || replicas < 0) throw new Error(`--replicas must be a whole number ≥ 0, not ${replicas}`);
  const deploy = loadDeployment(cluster, namespace, name);
  const report: ApplyReport = { lines: [`deployment.apps/${name} scaled`], warnings: [] };
  await reconcileDeployment(cluster, { ...deploy, spec: { ...(deploy.spec ?? {}), replicas } }, report);
  return report;
}

/** `kubectl rollout restart deployment NAME`: a new template (restartedAt annotation), new pods, then the old ones go. */
export async function restartDeployment(cluster: LocalCluster, namespace: string, name: string, now = new Date()): Promise<ApplyReport> {
  const deploy = loadDeployment(cluster, namespace, name);
  const spec = deploy.spec ?? {};
  const template = (spec['template'] ?? {}) as KubeObject;
  const annotations = { ...(template.metadata?.annotations ?? {}), 'kubectl.kubernetes.io/restartedAt': now.toISOString() };
  const restarted: KubeObject = { ...deploy, spec: { ...spec, template: { ...template, metadata: { ...(template.metadata ?? {}), annotations } } } };
  const report: ApplyReport = { lines: [`deployment.apps/${name} restarted`], warnings: [] };
  await reconcileDeployment(cluster, restarted, report);
  return report;
}
