// The local cluster of DESIGN.md §5 for the in-pod end-to-end test, on top of @weft/local-cluster (the same code
// `meshctl local up` runs): an underlay netns with a bridge, two node netns wired to it (host-gw routes between their
// pod CIDRs), the controlplane in node-a and per node a cni-node agent and a ztunnel (in-pod mode), all detached
// processes recorded in a state file under a temporary directory. This file adds what the test plays itself: pods
// networked by the node's CNI chain (loopback, bridge + host-local, then Weft's plugin installed by the agent),
// invoked as a container runtime does, with their Pod objects written as a kubelet would update them, and apps as
// child processes in the pod netns. `close()` stops exactly the PIDs started and deletes exactly the namespaces made.

import { execFileSync } from 'node:child_process';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { CNI_PLUGIN_DIR, isRunning, LocalCluster, localDown, netnsPath, requirePrerequisites, type Conflist } from '@weft/local-cluster';
import { cniAdd, cniDel, ManagedProcesses, requireRootAndTools, type ChainInvocation, type TestNetns } from '@weft/testing';
import { stringify } from 'yaml';

export { CNI_PLUGIN_DIR };

export type NodeName = 'node-a' | 'node-b';

export const CONTROLPLANE_IP = '10.88.0.11';

export interface ClusterNode {
  readonly name: NodeName;
  readonly netns: TestNetns;
  readonly underlayIp: string;
  readonly dir: string;
  /** The conflist as the agent left it (Weft's plugin appended). */
  conflist?: ChainInvocation['conflist'];
}

export interface PodSpec {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
  readonly serviceAccount: string;
  readonly node: NodeName;
  readonly labels?: Readonly<Record<string, string>>;
  readonly containerPorts?: readonly number[];
}

export interface ClusterPod {
  readonly spec: PodSpec;
  readonly netns: TestNetns;
  ip: string;
}

/** Fails (never skips) with what to install when the cluster cannot run here. */
export function requireClusterPrerequisites(): void {
  requirePrerequisites();
  requireRootAndTools(['tcpdump', 'promtool']);
}

function run(cmd: string, args: readonly string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err: unknown) {
    const stderr = typeof err === 'object' && err !== null && 'stderr' in err ? String(err.stderr) : '';
    throw new Error(`${cmd} ${args.join(' ')} failed: ${stderr.trim() || String(err)}`);
  }
}

/** A namespace of the cluster as the @weft/testing helpers take it. */
function testNetns(name: string): TestNetns {
  return {
    name,
    path: netnsPath(name),
    exec: (cmd, ...args) => run('ip', ['netns', 'exec', name, cmd, ...args]),
    ip: (...args) => run('ip', ['-n', name, ...args]),
  };
}

/** A one-shot `node -e` script run inside a netns (with `input` on its stdin); resolves with its stdout. */
export function runNodeIn(processes: ManagedProcesses, netns: TestNetns, name: string, script: string, args: readonly string[] = [], timeoutMs = 15_000, input?: Buffer): Promise<string> {
  const p = processes.start(name, netns.name, [process.execPath, '-e', script, ...args], {}, { transient: true, ...(input === undefined ? {} : { input }) });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      p.child.kill('SIGKILL');
      reject(new Error(`${name} in ${netns.name} timed out after ${timeoutMs} ms:\n${p.output()}`));
    }, timeoutMs);
    let stdout = '';
    p.child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    p.child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout);
      else reject(new Error(`${name} in ${netns.name} exited ${String(code)}:\n${p.output()}`));
    });
  });
}

export class NetnsCluster {
  /** The test's own processes (apps, clients, probes); the mesh's processes are the local cluster's. */
  readonly processes = new ManagedProcesses();
  readonly nodes = new Map<NodeName, ClusterNode>();
  readonly pods = new Map<string, ClusterPod>();
  readonly underlay: TestNetns;

  private constructor(readonly local: LocalCluster) {
    this.underlay = testNetns(local.underlay);
    for (const node of local.nodes) {
      this.nodes.set(node.name as NodeName, { name: node.name as NodeName, netns: testNetns(node.netns), underlayIp: node.underlayIp, dir: node.dir });
    }
  }

  get prefix(): string {
    return this.local.prefix;
  }

  /** The run's state directory (temporary). */
  get dir(): string {
    return this.local.stateDir;
  }

  /** The underlay bridge (what tcpdump watches). */
  get bridge(): string {
    return this.local.bridge;
  }

  get manifests(): string {
    return this.local.manifests;
  }

  get rootCert(): string {
    return this.local.rootCert;
  }

  static async create(): Promise<NetnsCluster> {
    const local = await LocalCluster.create({ stateDir: await mkdtemp(path.join(tmpdir(), 'weft-inpod-')), nodes: 2 });
    return new NetnsCluster(local);
  }

  node(name: NodeName): ClusterNode {
    const node = this.nodes.get(name);
    if (node === undefined) throw new Error(`no node ${name}`);
    return node;
  }

  /** Every process's recent output (the cluster's logs and the test's own processes), for failure messages. */
  logs(lines = 40): string {
    return `${this.local.logs(lines)}\n${this.processes.logs(lines)}`;
  }

  /** Writes (or replaces) one object; each object is its own file, replaced atomically. */
  async apply(object: { readonly kind: string; readonly metadata: { readonly name: string; readonly namespace?: string } }): Promise<void> {
    const file = `${object.kind}-${object.metadata.namespace ?? '_'}-${object.metadata.name}.yaml`.toLowerCase();
    const temp = path.join(this.manifests, `.${file}.tmp`);
    await writeFile(temp, stringify(object));
    await rename(temp, path.join(this.manifests, file));
  }

  /** GET from inside a netns (the ports listen there, not in the root netns). */
  httpGet(netns: TestNetns, url: string): Promise<{ status: number; body: string }> {
    return this.local.httpGet(netns.name, url);
  }

  startControlplane(): Promise<void> {
    return this.local.startControlplane(20_000);
  }

  /** The node's cni-node agent; resolves once it has installed Weft's plugin into the node conflist. */
  async startCniNode(name: NodeName): Promise<void> {
    this.node(name).conflist = await this.local.startCniNode(name, 15_000);
  }

  startZtunnel(name: NodeName): void {
    this.local.startZtunnel(name);
  }

  async ztunnelReady(name: NodeName): Promise<boolean> {
    const p = this.local.process(`ztunnel-${name}`);
    if (p !== undefined && !isRunning(p)) throw new Error(`ztunnel ${name} exited:\n${this.logs()}`);
    return this.local.ztunnelReady(name);
  }

  private podObject(pod: PodSpec, ip?: string): object {
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: pod.name, namespace: pod.namespace, uid: pod.uid, labels: { ...(pod.labels ?? {}) } },
      spec: {
        nodeName: pod.node,
        serviceAccountName: pod.serviceAccount,
        containers: [{ name: 'app', image: 'test', ports: (pod.containerPorts ?? []).map((containerPort) => ({ containerPort, protocol: 'TCP' })) }],
      },
      status:
        ip === undefined
          ? { phase: 'Pending' }
          : { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: 'True' }, { type: 'ContainersReady', status: 'True' }] },
    };
  }

  private chain(pod: PodSpec, netns: TestNetns, conflist: Conflist): ChainInvocation {
    return {
      conflist,
      binDirs: this.local.cniBinDirs(pod.node),
      nodeNetns: this.node(pod.node).netns.name,
      containerId: `ctr-${pod.uid}`,
      netnsPath: netns.path,
      ifName: 'eth0',
      args: { IgnoreUnknown: '1', K8S_POD_NAMESPACE: pod.namespace, K8S_POD_NAME: pod.name, K8S_POD_UID: pod.uid },
    };
  }

  /** Creates a pod as kubelet + a container runtime would: the object, the sandbox netns, the CNI chain, then the status. */
  async createPod(pod: PodSpec): Promise<ClusterPod> {
    const node = this.node(pod.node);
    if (node.conflist === undefined) throw new Error(`cni-node ${pod.node} has not installed its plugin`);
    await this.apply(this.podObject(pod) as never);
    const netns = testNetns(this.local.addNetns(pod.name));
    await cniAdd({ ...this.chain(pod, netns, { cniVersion: '1.0.0', name: 'cni-loopback', plugins: [{ type: 'loopback' }] }), ifName: 'lo' });
    const result = await cniAdd(this.chain(pod, netns, node.conflist));
    const ip = ((result['ips'] as { address: string }[] | undefined)?.[0]?.address ?? '').split('/')[0] ?? '';
    if (ip === '') throw new Error(`CNI ADD for ${pod.name} returned no IP: ${JSON.stringify(result)}`);
    const created: ClusterPod = { spec: pod, netns, ip };
    this.pods.set(pod.name, created);
    await this.apply(this.podObject(pod, ip) as never);
    return created;
  }

  /** The test's processes, then CNI DEL for every pod, then `localDown`: the recorded PIDs, namespaces and state. */
  async close(): Promise<void> {
    const errors: unknown[] = [];
    await this.processes.stopAll(5_000).catch((e: unknown) => errors.push(e));
    for (const pod of this.pods.values()) {
      const conflist = this.nodes.get(pod.spec.node)?.conflist;
      if (conflist === undefined) continue;
      // Weft's plugin would reach the agent; DEL the reference plugins only (they own the veth and the IP lease).
      const reference = { ...conflist, plugins: conflist.plugins.filter((p) => p['type'] !== 'weft-cni') };
      await cniDel(this.chain(pod.spec, pod.netns, reference)).catch((e: unknown) => errors.push(e));
    }
    await localDown(this.dir, { graceMs: 5_000 }).catch((e: unknown) => errors.push(e));
    // The temporary state directory is the test's: files the test wrote there (captures) go with it.
    if (errors.length === 0) await rm(this.dir, { recursive: true, force: true });
    if (errors.length > 0) throw new Error(`cluster teardown: ${errors.map(String).join('\n')}`);
  }
}
