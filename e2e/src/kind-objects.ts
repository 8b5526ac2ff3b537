// What the kind driver writes and reads: the kind cluster config it creates, and the outputs of kubectl (pods, nodes,
// deployments), crictl (container and sandbox PIDs), /proc (network namespaces) and docker (the kind network's
// bridge). Pure: text in, plain values out, so the parsing is tested against recorded outputs.

import { parseAllDocuments } from 'yaml';

import type { PodView } from './driver';

/** The kind config of one control-plane node and `workers` worker nodes. */
export function kindConfig(workers: number): string {
  const lines = ['kind: Cluster', 'apiVersion: kind.x-k8s.io/v1alpha4', 'nodes:', '- role: control-plane'];
  for (let i = 0; i < workers; i++) lines.push('- role: worker');
  return `${lines.join('\n')}\n`;
}

/**
 * The worker names kind gives (each is a Docker container and the Kubernetes node of the same name):
 * `<cluster>-worker`, `<cluster>-worker2`, `<cluster>-worker3`…; the control plane is `<cluster>-control-plane`.
 */
export function workerNodeNames(cluster: string, workers: number): string[] {
  return Array.from({ length: workers }, (_, i) => `${cluster}-worker${i === 0 ? '' : String(i + 1)}`);
}

interface Condition {
  readonly type?: string;
  readonly status?: string;
}

interface KubeList<T> {
  readonly items?: readonly T[];
}

interface NodeJson {
  readonly metadata?: { readonly name?: string };
  readonly status?: { readonly conditions?: readonly Condition[] };
}

/** `kubectl get nodes -o json`: each node's name and whether it is Ready. */
export function parseNodes(json: string): { name: string; ready: boolean }[] {
  const list = JSON.parse(json) as KubeList<NodeJson>;
  return (list.items ?? []).map((n) => ({ name: n.metadata?.name ?? '', ready: isTrue(n.status?.conditions, 'Ready') }));
}

const isTrue = (conditions: readonly Condition[] | undefined, type: string): boolean => conditions?.some((c) => c.type === type && c.status === 'True') ?? false;

interface PodJson {
  readonly metadata?: { readonly name?: string; readonly namespace?: string; readonly labels?: Record<string, string>; readonly deletionTimestamp?: string };
  readonly spec?: { readonly nodeName?: string };
  readonly status?: {
    readonly podIP?: string;
    readonly conditions?: readonly Condition[];
    readonly containerStatuses?: readonly { readonly name?: string; readonly containerID?: string; readonly state?: { readonly running?: unknown } }[];
  };
}

/** A pod as `kubectl get pods -o json` shows it: the driver's view without the PIDs, which come from the node. */
export interface PodRecord extends Omit<PodView, 'pids' | 'containerPids'> {
  /** Deleted, still shutting down. */
  readonly terminating: boolean;
  /** The CRI IDs of its running containers (`containerd://` stripped), in the order of status.containerStatuses. */
  readonly containerIds: readonly string[];
}

/** `kubectl get pods -o json`: ready from the Ready condition, ip from status.podIP, node from spec.nodeName. */
export function parsePods(json: string): PodRecord[] {
  const list = JSON.parse(json) as KubeList<PodJson>;
  return (list.items ?? []).map((p) => ({
    namespace: p.metadata?.namespace ?? '',
    name: p.metadata?.name ?? '',
    node: p.spec?.nodeName ?? '',
    ip: p.status?.podIP === '' ? undefined : p.status?.podIP,
    labels: { ...(p.metadata?.labels ?? {}) },
    ready: isTrue(p.status?.conditions, 'Ready'),
    terminating: p.metadata?.deletionTimestamp !== undefined,
    containerIds: (p.status?.containerStatuses ?? []).flatMap((c) => (c.state?.running !== undefined && c.containerID !== undefined ? [c.containerID.replace(/^[a-z0-9-]+:\/\//, '')] : [])),
  }));
}

/** `kubectl get deployment NAME -o json`: its pod selector (spec.selector.matchLabels). */
export function parseMatchLabels(json: string): Record<string, string> {
  const deployment = JSON.parse(json) as { spec?: { selector?: { matchLabels?: Record<string, string> } } };
  return { ...(deployment.spec?.selector?.matchLabels ?? {}) };
}

/** A `-l` value for an equality selector (`app=httpbin,version=v1`). */
export const selectorArg = (selector: Readonly<Record<string, string>>): string =>
  Object.entries(selector)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');

/** `kubectl label` arguments: `key=value`, and `key-` for a label to remove (value null). */
export const labelArgs = (labels: Readonly<Record<string, string | null>>): string[] => Object.entries(labels).map(([k, v]) => (v === null ? `${k}-` : `${k}=${v}`));

/** `crictl inspect -o json ID` on containerd: the container's main process (as the node sees it) and its pod sandbox. */
export function parseCrictlContainer(json: string): { pid: number; sandboxId: string } {
  const inspected = JSON.parse(json) as { info?: { pid?: number; sandboxID?: string } };
  const pid = inspected.info?.pid;
  const sandboxId = inspected.info?.sandboxID;
  if (pid === undefined || pid <= 0 || sandboxId === undefined) throw new Error('crictl inspect shows no info.pid / info.sandboxID (not a running containerd container)');
  return { pid, sandboxId };
}

/** `crictl inspectp -o json ID` on containerd: the sandbox's (pause) process, which holds the pod's namespaces. */
export function parseCrictlSandbox(json: string): number {
  const inspected = JSON.parse(json) as { info?: { pid?: number } };
  const pid = inspected.info?.pid;
  if (pid === undefined || pid <= 0) throw new Error('crictl inspectp shows no info.pid (not a running containerd sandbox)');
  return pid;
}

/** Prints `PID net:[INODE]` for every process of a node (run in the node container with `sh -c`). */
export const NETNS_SCAN = 'for p in /proc/[0-9]*; do n=$(readlink "$p/ns/net" 2>/dev/null) && echo "${p#/proc/} $n"; done';

/** {@link NETNS_SCAN}'s output: each PID's network namespace. */
export function parseNetnsScan(text: string): Map<number, string> {
  const netns = new Map<number, string>();
  for (const m of text.matchAll(/^(\d+) (net:\[\d+\])$/gm)) netns.set(Number(m[1]), m[2] ?? '');
  return netns;
}

/**
 * The processes in the network namespace of the sandbox process `sandboxPid`, without that process: Kubernetes holds
 * a pod's namespaces with the sandbox's pause process, where the local cluster holds them with a bind mount, so the
 * programs of the pod are what is left.
 */
export function podNetnsPids(scan: ReadonlyMap<number, string>, sandboxPid: number): number[] {
  const netns = scan.get(sandboxPid);
  if (netns === undefined) return [];
  return [...scan]
    .filter(([pid, ns]) => ns === netns && pid !== sandboxPid)
    .map(([pid]) => pid)
    .sort((a, b) => a - b);
}

/** `docker network inspect kind`: the Linux bridge of the network (its name option, else `br-` + 12 hex of its ID). */
export function parseBridgeName(json: string): string {
  const [network] = JSON.parse(json) as { Id?: string; Options?: Record<string, string> }[];
  const named = network?.Options?.['com.docker.network.bridge.name'];
  if (named !== undefined && named !== '') return named;
  const id = network?.Id ?? '';
  if (id.length < 12) throw new Error('docker network inspect shows no network ID');
  return `br-${id.slice(0, 12)}`;
}

/** What `apply` waits for before it returns, as the local cluster's apply does (its pods are up by then). */
export type RolloutTarget =
  | { readonly kind: 'deployment'; readonly namespace: string; readonly name: string }
  /** A waypoint Gateway: the controlplane deploys a Deployment of the same name for it. */
  | { readonly kind: 'waypoint'; readonly namespace: string; readonly name: string }
  | { readonly kind: 'pod'; readonly namespace: string; readonly name: string };

interface ManifestJson {
  readonly kind?: string;
  readonly metadata?: { readonly name?: string; readonly namespace?: string };
  readonly spec?: { readonly gatewayClassName?: string };
}

/** The workloads among the YAML documents of `text` (namespace `default` unless they say otherwise). */
export function rolloutTargets(text: string): RolloutTarget[] {
  return parseAllDocuments(text).flatMap((doc): RolloutTarget[] => {
    const obj = doc.toJS() as ManifestJson | null;
    const name = obj?.metadata?.name;
    if (obj === null || name === undefined) return [];
    const namespace = obj.metadata?.namespace ?? 'default';
    if (obj.kind === 'Deployment') return [{ kind: 'deployment', namespace, name }];
    if (obj.kind === 'Pod') return [{ kind: 'pod', namespace, name }];
    if (obj.kind === 'Gateway' && obj.spec?.gatewayClassName === 'istio-waypoint') return [{ kind: 'waypoint', namespace, name }];
    return [];
  });
}
