// The local cluster of DESIGN.md §5 for the in-pod end-to-end test: an underlay netns with a bridge, two node netns
// wired to it (host-gw routes between their pod CIDRs), and per node a cni-node agent and a ztunnel (in-pod mode)
// running as child processes inside the node netns; the controlplane runs in node-a's netns. Pods are netns
// networked by the node's CNI chain (Debian's loopback, bridge + host-local, then Weft's plugin installed by the
// agent), invoked as a container runtime does; their Pod objects are written as a kubelet would update them.
// Every name carries the run's prefix, nothing is configured in the root netns, and `close()` stops exactly the
// PIDs it started and deletes exactly the namespaces it created.

import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import {
  cniAdd,
  cniDel,
  eventually,
  ManagedProcesses,
  NetnsFixture,
  requireRootNetworking,
  requireRootAndTools,
  type ChainInvocation,
  type ManagedProcess,
  type TestNetns,
} from '@weft/testing';
import { stringify } from 'yaml';

export const CONTROLPLANE_MAIN = path.resolve(__dirname, '../../controlplane/dist/main.js');
export const CNI_NODE_MAIN = path.resolve(__dirname, '../../cni-node/dist/main.js');
export const ZTUNNEL_MAIN = path.resolve(__dirname, '../dist/main.js');
export const CNI_PLUGIN_DIR = '/usr/lib/cni';

export type NodeName = 'node-a' | 'node-b';

const NODES: Readonly<Record<NodeName, { readonly index: number; readonly underlayIp: string; readonly podCidr: string; readonly gateway: string }>> = {
  'node-a': { index: 1, underlayIp: '10.88.0.11', podCidr: '10.244.1.0/24', gateway: '10.244.1.1' },
  'node-b': { index: 2, underlayIp: '10.88.0.12', podCidr: '10.244.2.0/24', gateway: '10.244.2.1' },
};
export const CONTROLPLANE_IP = NODES['node-a'].underlayIp;

export interface ClusterNode {
  readonly name: NodeName;
  readonly netns: TestNetns;
  readonly underlayIp: string;
  readonly dir: string;
  cniNode?: ManagedProcess;
  ztunnel?: ManagedProcess;
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
  requireRootNetworking();
  requireRootAndTools(['tcpdump', 'promtool']);
  for (const plugin of ['bridge', 'host-local', 'loopback']) {
    if (!existsSync(path.join(CNI_PLUGIN_DIR, plugin))) throw new Error(`missing ${CNI_PLUGIN_DIR}/${plugin}: run bash tools/setup.sh (apt-get install containernetworking-plugins)`);
  }
  for (const [main, project] of [[CONTROLPLANE_MAIN, 'controlplane'], [CNI_NODE_MAIN, 'cni-node'], [ZTUNNEL_MAIN, 'ztunnel']] as const) {
    if (!existsSync(main)) throw new Error(`missing ${main}: run npx nx run-many -t build -p ${project}`);
  }
}

const TOKEN = (node: NodeName): string => `ztunnel-${node}-bootstrap-token-0123456789abcdef`;

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

const HTTP_GET = `
fetch(process.argv[1]).then(async (r) => process.stdout.write(JSON.stringify({ status: r.status, body: await r.text() })),
  (e) => process.stdout.write(JSON.stringify({ status: 0, body: String(e && e.cause || e) })));`;

export class NetnsCluster {
  readonly fixture = new NetnsFixture();
  readonly processes = new ManagedProcesses();
  readonly nodes = new Map<NodeName, ClusterNode>();
  readonly pods = new Map<string, ClusterPod>();
  controlplane?: ManagedProcess;
  underlay!: TestNetns;
  private readonly objects = new Map<string, object>();

  private constructor(readonly dir: string) {}

  get prefix(): string {
    return this.fixture.prefix;
  }

  /** The underlay bridge (what tcpdump watches). */
  get bridge(): string {
    return `${this.prefix}u`;
  }

  get manifests(): string {
    return path.join(this.dir, 'manifests');
  }

  static async create(): Promise<NetnsCluster> {
    const cluster = new NetnsCluster(await mkdtemp(path.join(tmpdir(), 'weft-inpod-')));
    try {
      await cluster.buildNetwork();
    } catch (cause) {
      await cluster.close();
      throw cause;
    }
    return cluster;
  }

  private async buildNetwork(): Promise<void> {
    await mkdir(this.manifests);
    await writeFile(path.join(this.dir, 'tokens.yaml'), stringify({ tokens: (Object.keys(NODES) as NodeName[]).map((node) => ({ token: TOKEN(node), node })) }), { mode: 0o600 });
    this.underlay = this.fixture.create('ul');
    this.underlay.ip('link', 'add', this.bridge, 'type', 'bridge');
    this.underlay.ip('link', 'set', this.bridge, 'up');
    for (const [name, spec] of Object.entries(NODES) as [NodeName, (typeof NODES)[NodeName]][]) {
      const netns = this.fixture.create(name);
      const port = `${this.prefix}n${spec.index}`;
      // The veth is created in the underlay, its peer moved straight into the node netns.
      this.underlay.ip('link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns.name);
      this.underlay.ip('link', 'set', port, 'master', this.bridge);
      this.underlay.ip('link', 'set', port, 'up');
      netns.ip('addr', 'add', `${spec.underlayIp}/24`, 'dev', 'eth0');
      netns.ip('link', 'set', 'eth0', 'up');
      netns.exec('sysctl', '-qw', 'net.ipv4.ip_forward=1');
      for (const [otherName, other] of Object.entries(NODES)) {
        if (otherName !== name) netns.ip('route', 'add', other.podCidr, 'via', other.underlayIp, 'dev', 'eth0');
      }
      const dir = path.join(this.dir, name);
      for (const sub of ['net.d', 'bin', 'run', 'ipam']) await mkdir(path.join(dir, sub), { recursive: true });
      await writeFile(path.join(dir, 'token'), TOKEN(name), { mode: 0o600 });
      // The node's primary network, as a cluster's network add-on would have installed it.
      await writeFile(
        path.join(dir, 'net.d', '10-pods.conflist'),
        JSON.stringify({
          cniVersion: '1.0.0',
          name: `${this.prefix}net`,
          plugins: [
            {
              type: 'bridge',
              bridge: `${this.prefix}b`,
              isGateway: true,
              ipMasq: false,
              ipam: { type: 'host-local', ranges: [[{ subnet: spec.podCidr, gateway: spec.gateway }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: path.join(dir, 'ipam') },
            },
          ],
        }),
      );
      this.nodes.set(name, { name, netns, underlayIp: spec.underlayIp, dir });
    }
  }

  node(name: NodeName): ClusterNode {
    const node = this.nodes.get(name);
    if (node === undefined) throw new Error(`no node ${name}`);
    return node;
  }

  /** Writes (or replaces) one object; each object is its own file, replaced atomically. */
  async apply(object: { readonly kind: string; readonly metadata: { readonly name: string; readonly namespace?: string } }): Promise<void> {
    const file = `${object.kind}-${object.metadata.namespace ?? '_'}-${object.metadata.name}.yaml`.toLowerCase();
    this.objects.set(file, object);
    const temp = path.join(this.manifests, `.${file}.tmp`);
    await writeFile(temp, stringify(object));
    await rename(temp, path.join(this.manifests, file));
  }

  /** GET from inside a netns (the ports listen there, not in the root netns). */
  async httpGet(netns: TestNetns, url: string): Promise<{ status: number; body: string }> {
    return JSON.parse(await runNodeIn(this.processes, netns, `GET ${url}`, HTTP_GET, [url])) as { status: number; body: string };
  }

  async startControlplane(): Promise<void> {
    const node = this.node('node-a');
    this.controlplane = this.processes.start('controlplane', node.netns.name, [process.execPath, CONTROLPLANE_MAIN], {
      WEFT_MANIFEST_DIR: this.manifests,
      WEFT_CA_DIR: path.join(this.dir, 'ca'),
      WEFT_BOOTSTRAP_TOKENS_FILE: path.join(this.dir, 'tokens.yaml'),
      WEFT_LISTEN_ADDRESS: '0.0.0.0',
      PILOT_DEBOUNCE_AFTER_MS: '10',
      WEFT_DRAIN_DEADLINE_MS: '500',
      LOG_LEVEL: 'warn',
    });
    await eventually(
      async () => {
        if (this.controlplane?.exited() === true) throw new Error(`controlplane exited:\n${this.processes.logs()}`);
        return existsSync(this.rootCert) && (await this.httpGet(node.netns, `http://${CONTROLPLANE_IP}:15014/ready`)).status === 200;
      },
      'the controlplane to be ready',
      20_000,
      () => this.processes.logs(),
    );
  }

  get rootCert(): string {
    return path.join(this.dir, 'ca', 'self-signed-ca-cert.pem');
  }

  /** The node's cni-node agent; resolves once it has installed Weft's plugin into the node conflist. */
  async startCniNode(name: NodeName): Promise<void> {
    const node = this.node(name);
    node.cniNode = this.processes.start(`cni-node ${name}`, node.netns.name, [process.execPath, CNI_NODE_MAIN], {
      NODE_NAME: name,
      WEFT_MANIFEST_DIR: this.manifests,
      WEFT_CNI_RUN_DIR: path.join(node.dir, 'run'),
      WEFT_ZDS_SOCKET: path.join(node.dir, 'run', 'ztunnel.sock'),
      WEFT_IPTABLES_BACKEND: 'nft',
      WEFT_CNI_BIN_DIR: path.join(node.dir, 'bin'),
      WEFT_CNI_NET_DIR: path.join(node.dir, 'net.d'),
      WEFT_DRAIN_DEADLINE_MS: '2000',
      LOG_LEVEL: 'info',
    });
    const file = path.join(node.dir, 'net.d', '10-pods.conflist');
    await eventually(
      async () => {
        if (node.cniNode?.exited() === true) throw new Error(`cni-node ${name} exited:\n${this.processes.logs()}`);
        const conflist = JSON.parse(await readFile(file, 'utf8')) as ChainInvocation['conflist'];
        if (!conflist.plugins.some((p) => p['type'] === 'weft-cni')) return false;
        node.conflist = conflist;
        return true;
      },
      `cni-node ${name} to install its plugin`,
      15_000,
      () => this.processes.logs(),
    );
  }

  startZtunnel(name: NodeName): void {
    const node = this.node(name);
    node.ztunnel = this.processes.start(`ztunnel ${name}`, node.netns.name, [process.execPath, ZTUNNEL_MAIN], {
      WEFT_ZTUNNEL_MODE: 'inpod',
      NODE_NAME: name,
      POD_NAME: `ztunnel-${name}`,
      INSTANCE_IP: node.underlayIp,
      INPOD_UDS: path.join(node.dir, 'run', 'ztunnel.sock'),
      XDS_ADDRESS: `${CONTROLPLANE_IP}:15012`,
      XDS_SERVER_NAME: 'istiod.istio-system.svc',
      XDS_ROOT_CA: this.rootCert,
      WEFT_TOKEN_FILE: path.join(node.dir, 'token'),
      WEFT_DRAIN_DEADLINE_MS: '500',
      LOG_LEVEL: 'info',
    });
  }

  async ztunnelReady(name: NodeName): Promise<boolean> {
    const node = this.node(name);
    if (node.ztunnel?.exited() === true) throw new Error(`ztunnel ${name} exited:\n${this.processes.logs()}`);
    return (await this.httpGet(node.netns, 'http://127.0.0.1:15021/healthz/ready')).status === 200;
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

  private chain(pod: PodSpec, netns: TestNetns, conflist: ChainInvocation['conflist']): ChainInvocation {
    const node = this.node(pod.node);
    return {
      conflist,
      binDirs: [path.join(node.dir, 'bin'), CNI_PLUGIN_DIR],
      nodeNetns: node.netns.name,
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
    const netns = this.fixture.create(`${pod.name}`);
    await cniAdd({ ...this.chain(pod, netns, { cniVersion: '1.0.0', name: 'cni-loopback', plugins: [{ type: 'loopback' }] }), ifName: 'lo' });
    const result = await cniAdd(this.chain(pod, netns, node.conflist));
    const ip = ((result['ips'] as { address: string }[] | undefined)?.[0]?.address ?? '').split('/')[0] ?? '';
    if (ip === '') throw new Error(`CNI ADD for ${pod.name} returned no IP: ${JSON.stringify(result)}`);
    const created: ClusterPod = { spec: pod, netns, ip };
    this.pods.set(pod.name, created);
    await this.apply(this.podObject(pod, ip) as never);
    return created;
  }

  /** Stops every process (by PID), runs CNI DEL for every pod, deletes every namespace and the run directory. */
  async close(): Promise<void> {
    const errors: unknown[] = [];
    // Agents and ztunnels first (newest first), then the controlplane; pods' apps were started after them.
    await this.processes.stopAll(5_000).catch((e: unknown) => errors.push(e));
    for (const pod of this.pods.values()) {
      const conflist = this.nodes.get(pod.spec.node)?.conflist;
      if (conflist === undefined) continue;
      // The agent is gone, so Weft's plugin would fail to reach it: DEL the reference plugins only (they own the
      // veth and the IP lease); the netns itself is deleted below.
      const reference = { ...conflist, plugins: conflist.plugins.filter((p) => p['type'] !== 'weft-cni') };
      await cniDel(this.chain(pod.spec, pod.netns, reference)).catch((e: unknown) => errors.push(e));
    }
    try {
      this.fixture.destroy();
    } catch (e) {
      errors.push(e);
    }
    await rm(this.dir, { recursive: true, force: true });
    if (errors.length > 0) throw new Error(`cluster teardown: ${errors.map(String).join('\n')}`);
  }
}
