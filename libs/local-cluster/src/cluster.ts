// The local cluster of DESIGN.md §5: an underlay netns with a bridge, one netns per node wired to it (host-gw routes
// between the nodes' pod CIDRs), the node's CNI conflist (bridge + host-local; cni-node appends Weft's plugin), the
// controlplane in the first node (manifest-directory source), and per node a cni-node agent and a ztunnel (in-pod
// mode) — all detached processes whose output goes to log files, so the cluster outlives the command that built it.
//
// Safety: everything the run makes is recorded in the state file *before* it is made; addresses exist only inside
// namespaces the run created; every name carries the run's prefix; `localDown` — from any process, after a crash —
// stops exactly the recorded PIDs (checked against their start time) and deletes exactly the recorded namespaces.

import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';

import { stringify } from 'yaml';

import { bootstrapToken, netnsName, newRunPrefix, nodePort, nodeSpecs, ownedBy, podBridge, SERVICE_CIDR, type NodeSpec } from './names';
import { CNI_PLUGIN_DIR, defaultBinaries, requirePrerequisites, type Binaries } from './prerequisites';
import { emptyState, parseState, serializeState, STATE_FILE, type ClusterState, type NodeState, type ProcessRole, type RecordedProcess } from './state';
import { execIn, httpGetIn, ipIn, isRunning, netnsExists, removeNetnsEtc, run, startDetached, stopProcess, type HttpResult } from './system';

/** A CNI network configuration list as the runtime reads it. */
export interface Conflist {
  readonly cniVersion: string;
  readonly name: string;
  readonly plugins: readonly Record<string, unknown>[];
}

/** What the state directory holds besides the state file; `down` removes exactly these. */
const OWNED_ENTRIES = ['manifests', 'ca', 'logs', 'nodes', 'pods', 'deployments', 'tokens.yaml'] as const;

export const CONTROLPLANE_READY_PORT = 15014;
export const ZTUNNEL_READY_PORT = 15021;
export const ZTUNNEL_ADMIN_PORT = 15000;

export class ClusterExistsError extends Error {}
export class NoClusterError extends Error {}

export interface CreateOptions {
  readonly stateDir: string;
  /** Default 2. */
  readonly nodes?: number;
  readonly binaries?: Binaries;
  /** LOG_LEVEL of every process (default `info`). */
  readonly logLevel?: string;
  readonly onProgress?: (message: string) => void;
}

export interface UpOptions extends CreateOptions {
  /** How long to wait for each readiness (default 60 s). */
  readonly readyTimeoutMs?: number;
}

export interface ProcessStatus {
  readonly name: string;
  readonly role: ProcessRole;
  readonly node: string | undefined;
  readonly pid: number;
  readonly running: boolean;
  readonly log: string;
}

export interface ClusterStatus {
  readonly prefix: string;
  readonly stateDir: string;
  readonly phase: ClusterState['phase'];
  readonly createdAt: string;
  readonly nodes: readonly { readonly name: string; readonly netns: string; readonly exists: boolean; readonly underlayIp: string; readonly podCidr: string }[];
  readonly processes: readonly ProcessStatus[];
  readonly controlplaneReady: boolean;
  readonly ztunnelReady: Readonly<Record<string, boolean>>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function readStateFile(stateDir: string): ClusterState | undefined {
  const file = path.join(stateDir, STATE_FILE);
  if (!existsSync(file)) return undefined;
  const text = readFileSync(file, 'utf8');
  if (text.trim() === '') return undefined;
  return parseState(text, file);
}

function writeStateFile(state: ClusterState): void {
  const file = path.join(state.stateDir, STATE_FILE);
  const temp = `${file}.tmp`;
  writeFileSync(temp, serializeState(state), { mode: 0o600 });
  renameSync(temp, file);
}

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines - 1).join('\n');
  } catch {
    return '(no log)';
  }
}

export class LocalCluster {
  private readonly binaries: Binaries;
  private readonly logLevel: string;
  private readonly progress: (message: string) => void;

  private constructor(
    readonly state: ClusterState,
    options: Omit<CreateOptions, 'stateDir'> = {},
  ) {
    this.binaries = options.binaries ?? defaultBinaries();
    this.logLevel = options.logLevel ?? 'info';
    this.progress = options.onProgress ?? (() => undefined);
  }

  /**
   * Claims `stateDir` (refusing one that already records a cluster) and builds the network: underlay, nodes, conflists,
   * tokens. Processes are started by {@link startAll} (or one by one). On failure, whatever was made is torn down.
   */
  static async create(options: CreateOptions): Promise<LocalCluster> {
    const stateDir = path.resolve(options.stateDir);
    const specs = nodeSpecs(options.nodes ?? 2);
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    const file = path.join(stateDir, STATE_FILE);
    try {
      closeSync(openSync(file, 'wx', 0o600));
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code !== 'EEXIST') throw cause;
      let which = '';
      try {
        which = ` (run ${readStateFile(stateDir)?.prefix ?? 'unknown'})`;
      } catch {
        // unreadable: still refuse
      }
      throw new ClusterExistsError(`a local cluster${which} is already recorded in ${stateDir}: run meshctl local down --state-dir ${stateDir} first`);
    }
    const first = specs[0] as NodeSpec;
    const cluster = new LocalCluster(emptyState(newRunPrefix(), stateDir, { node: first.name, address: first.underlayIp }), options);
    cluster.save();
    try {
      await cluster.buildNetwork(specs);
    } catch (cause) {
      await localDown(stateDir, { graceMs: 1_000 }).catch(() => undefined);
      throw cause;
    }
    return cluster;
  }

  /** The cluster recorded in `stateDir`; throws {@link NoClusterError} when there is none. */
  static load(stateDir: string, options: Omit<CreateOptions, 'stateDir'> = {}): LocalCluster {
    const state = readStateFile(path.resolve(stateDir));
    if (state === undefined) throw new NoClusterError(`no local cluster is recorded in ${path.resolve(stateDir)} (start one with meshctl local up)`);
    return new LocalCluster(state, options);
  }

  get prefix(): string {
    return this.state.prefix;
  }
  get stateDir(): string {
    return this.state.stateDir;
  }
  /** The underlay bridge (what tcpdump watches), inside {@link underlay}. */
  get bridge(): string {
    return this.state.bridge;
  }
  /** The underlay netns. */
  get underlay(): string {
    return this.state.underlay;
  }
  /** The controlplane's manifest directory: the cluster's configuration. */
  get manifests(): string {
    return path.join(this.stateDir, 'manifests');
  }
  get logsDir(): string {
    return path.join(this.stateDir, 'logs');
  }
  get tokensFile(): string {
    return path.join(this.stateDir, 'tokens.yaml');
  }
  /** The controlplane's root certificate (self-signed, persisted in the CA directory): the ztunnels' XDS_ROOT_CA. */
  get rootCert(): string {
    return path.join(this.stateDir, 'ca', 'self-signed-ca-cert.pem');
  }
  /** The node's bootstrap token: what a mesh component running in a pod on the node presents to the CA. */
  nodeTokenFile(node: string): string {
    return path.join(this.node(node).dir, 'token');
  }

  /**
   * The environment of a mesh component run in a pod of `node` (the waypoint): where the controlplane is, the root
   * it trusts, and the node token with which it asks the CA for its own identity (impersonating itself, which the CA
   * allows for a pod on the token's node).
   */
  meshComponentEnv(node: string): Record<string, string> {
    return {
      XDS_ADDRESS: `${this.controlplaneAddress}:15012`,
      XDS_ROOT_CA: this.rootCert,
      XDS_SERVER_NAME: 'istiod.istio-system.svc',
      WEFT_TOKEN_FILE: this.nodeTokenFile(node),
      WEFT_IMPERSONATE: 'true',
      WEFT_DRAIN_DEADLINE_MS: '500',
      LOG_LEVEL: this.logLevel,
    };
  }

  /** The built program of a mesh component (the waypoint runs in pods). */
  binary(component: keyof Binaries): string {
    return this.binaries[component];
  }

  get controlplaneAddress(): string {
    return this.state.controlplane.address;
  }
  get nodes(): readonly NodeState[] {
    return this.state.nodes;
  }

  node(name: string): NodeState {
    const node = this.state.nodes.find((n) => n.name === name);
    if (node === undefined) throw new Error(`no node ${name} in cluster ${this.prefix} (nodes: ${this.state.nodes.map((n) => n.name).join(', ')})`);
    return node;
  }

  conflistFile(node: string): string {
    return path.join(this.node(node).dir, 'net.d', '10-pods.conflist');
  }

  async conflist(node: string): Promise<Conflist> {
    return JSON.parse(await readFile(this.conflistFile(node), 'utf8')) as Conflist;
  }

  /** Where the node's CNI plugins are looked up: Weft's (installed by cni-node), then the reference plugins. */
  cniBinDirs(node: string): readonly string[] {
    return [path.join(this.node(node).dir, 'bin'), CNI_PLUGIN_DIR];
  }

  private save(): void {
    writeStateFile(this.state);
  }

  /** Creates a namespace of the run (`<prefix>-<suffix>`, `lo` up), recorded before it exists. Returns its name. */
  addNetns(suffix: string): string {
    const name = netnsName(this.prefix, suffix);
    if (this.state.netns.includes(name)) throw new Error(`namespace ${name} already exists in this cluster`);
    return this.addNetnsNamed(name);
  }

  /** Deletes a namespace this run created (and forgets it). */
  removeNetns(name: string): void {
    if (!this.state.netns.includes(name)) throw new Error(`namespace ${name} was not created by cluster ${this.prefix}`);
    if (netnsExists(name)) run('ip', ['netns', 'del', name]);
    removeNetnsEtc(name);
    this.state.netns = this.state.netns.filter((n) => n !== name);
    this.state.interfaces = this.state.interfaces.filter((i) => i.netns !== name);
    this.save();
  }

  private addInterface(netns: string, name: string, ...args: string[]): void {
    this.state.interfaces.push({ netns, name });
    this.save();
    ipIn(netns, 'link', 'add', name, ...args);
  }

  private async buildNetwork(specs: readonly NodeSpec[]): Promise<void> {
    this.progress(`building network namespaces for ${specs.length} node(s), run prefix ${this.prefix}`);
    for (const dir of [this.manifests, this.logsDir, path.join(this.stateDir, 'ca')]) mkdirSync(dir, { recursive: true });
    const tokens = specs.map((spec) => ({ token: bootstrapToken(this.prefix, spec.name), node: spec.name }));
    writeFileSync(this.tokensFile, stringify({ tokens }), { mode: 0o600 });

    const underlay = this.addNetnsNamed(this.state.underlay);
    this.addInterface(underlay, this.bridge, 'type', 'bridge');
    ipIn(underlay, 'link', 'set', this.bridge, 'up');
    for (const [i, spec] of specs.entries()) {
      const netns = this.addNetnsNamed(netnsName(this.prefix, spec.name));
      const dir = path.join(this.stateDir, 'nodes', spec.name);
      this.state.nodes.push({ ...spec, netns, dir });
      this.save();
      const port = nodePort(this.prefix, spec.index);
      // The veth is created in the underlay, its peer moved straight into the node netns as eth0.
      this.addInterface(underlay, port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns);
      ipIn(underlay, 'link', 'set', port, 'master', this.bridge);
      ipIn(underlay, 'link', 'set', port, 'up');
      ipIn(netns, 'addr', 'add', `${spec.underlayIp}/24`, 'dev', 'eth0');
      ipIn(netns, 'link', 'set', 'eth0', 'up');
      execIn(netns, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
      for (const other of specs) {
        if (other.name !== spec.name) ipIn(netns, 'route', 'add', other.podCidr, 'via', other.underlayIp, 'dev', 'eth0');
      }
      // A route for the Service CIDR, so the node's own programs can connect to a ClusterIP (the nat OUTPUT chain
      // then rewrites it to an endpoint, as kube-proxy does); pods reach it through their default route.
      ipIn(netns, 'route', 'add', SERVICE_CIDR, 'dev', 'eth0');
      for (const sub of ['net.d', 'bin', 'run', 'ipam']) mkdirSync(path.join(dir, sub), { recursive: true });
      writeFileSync(path.join(dir, 'token'), tokens[i]?.token ?? '', { mode: 0o600 });
      // The node's primary network, as a cluster's network add-on would have installed it.
      const conflist: Conflist = {
        cniVersion: '1.0.0',
        name: `${this.prefix}net`,
        plugins: [
          {
            type: 'bridge',
            bridge: podBridge(this.prefix),
            isGateway: true,
            ipMasq: false,
            ipam: { type: 'host-local', ranges: [[{ subnet: spec.podCidr, gateway: spec.gateway }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: path.join(dir, 'ipam') },
          },
        ],
      };
      writeFileSync(this.conflistFile(spec.name), JSON.stringify(conflist, null, 2));
    }
  }

  private addNetnsNamed(name: string): string {
    if (!ownedBy(this.prefix, name)) throw new Error(`namespace ${name} lacks the run prefix ${this.prefix}`);
    this.state.netns.push(name);
    this.save();
    run('ip', ['netns', 'add', name]);
    ipIn(name, 'link', 'set', 'lo', 'up');
    return name;
  }

  /** Starts a detached process inside `netns`, recorded (PID and start time) in the state file at once. */
  startProcess(role: ProcessRole, name: string, netns: string, argv: readonly string[], env: Readonly<Record<string, string>>, node?: string): RecordedProcess {
    if (!this.state.netns.includes(netns)) throw new Error(`namespace ${netns} was not created by cluster ${this.prefix}`);
    const log = path.join(this.logsDir, `${name.replace(/[^A-Za-z0-9_.-]+/g, '-')}.log`);
    const started = startDetached(netns, argv, env, log);
    const recorded: RecordedProcess = { name, role, ...(node === undefined ? {} : { node }), pid: started.pid, startTime: started.startTime, netns, argv: [...argv], log };
    this.state.processes.push(recorded);
    this.save();
    return recorded;
  }

  /** Forgets recorded processes that have exited (a pod's, once deleted). */
  forgetProcesses(names: readonly string[]): void {
    this.state.processes = this.state.processes.filter((p) => !names.includes(p.name) || isRunning(p));
    this.save();
  }

  process(name: string): RecordedProcess | undefined {
    return this.state.processes.find((p) => p.name === name);
  }

  private assertRunning(name: string): void {
    const p = this.process(name);
    if (p !== undefined && !isRunning(p)) throw new Error(`${name} (pid ${p.pid}) exited; its log ${p.log}:\n${tail(p.log, 30)}`);
  }

  /** The last `lines` lines of every process's log, for failure messages. */
  logs(lines = 40): string {
    return this.state.processes.map((p) => `--- ${p.name} (pid ${p.pid}${isRunning(p) ? '' : ', exited'}) ${p.log}\n${tail(p.log, lines)}`).join('\n');
  }

  /** GET from inside a namespace of the run (the ports listen there, not in the root netns). */
  httpGet(netns: string, url: string, timeoutMs = 5_000): Promise<HttpResult> {
    return httpGetIn(netns, url, timeoutMs);
  }

  private async waitFor(check: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${this.logs(30)}`);
      await sleep(100);
    }
  }

  async controlplaneReady(): Promise<boolean> {
    const node = this.node(this.state.controlplane.node);
    if (!existsSync(this.rootCert)) return false;
    return (await this.httpGet(node.netns, `http://${this.controlplaneAddress}:${CONTROLPLANE_READY_PORT}/ready`, 2_000)).status === 200;
  }

  async ztunnelReady(node: string): Promise<boolean> {
    return (await this.httpGet(this.node(node).netns, `http://127.0.0.1:${ZTUNNEL_READY_PORT}/healthz/ready`, 2_000)).status === 200;
  }

  /** The controlplane in the first node; resolves once its root certificate exists and `/ready` answers 200. */
  async startControlplane(timeoutMs = 60_000): Promise<void> {
    const node = this.node(this.state.controlplane.node);
    this.progress(`starting controlplane in ${node.name}`);
    this.startProcess(
      'controlplane',
      'controlplane',
      node.netns,
      [process.execPath, this.binaries.controlplane],
      {
        WEFT_MANIFEST_DIR: this.manifests,
        WEFT_CA_DIR: path.join(this.stateDir, 'ca'),
        WEFT_BOOTSTRAP_TOKENS_FILE: this.tokensFile,
        WEFT_LISTEN_ADDRESS: '0.0.0.0',
        PILOT_DEBOUNCE_AFTER_MS: '10',
        WEFT_DRAIN_DEADLINE_MS: '500',
        LOG_LEVEL: this.logLevel,
      },
      node.name,
    );
    await this.waitFor(
      async () => {
        this.assertRunning('controlplane');
        return this.controlplaneReady();
      },
      'the controlplane to be ready',
      timeoutMs,
    );
  }

  /** The node's cni-node agent; resolves with the conflist once the agent has appended Weft's plugin to it. */
  async startCniNode(name: string, timeoutMs = 60_000): Promise<Conflist> {
    const node = this.node(name);
    const processName = `cni-node-${name}`;
    this.progress(`starting cni-node in ${name}`);
    this.startProcess(
      'cni-node',
      processName,
      node.netns,
      [process.execPath, this.binaries.cniNode],
      {
        NODE_NAME: name,
        WEFT_MANIFEST_DIR: this.manifests,
        WEFT_CNI_RUN_DIR: path.join(node.dir, 'run'),
        WEFT_ZDS_SOCKET: path.join(node.dir, 'run', 'ztunnel.sock'),
        WEFT_IPTABLES_BACKEND: 'nft',
        WEFT_CNI_BIN_DIR: path.join(node.dir, 'bin'),
        WEFT_CNI_NET_DIR: path.join(node.dir, 'net.d'),
        // The node netns shares this machine's filesystem: the plugin runs this Node in place, no bundle to copy.
        WEFT_CNI_PLUGIN_RUNTIME: 'host',
        WEFT_DRAIN_DEADLINE_MS: '2000',
        LOG_LEVEL: this.logLevel,
      },
      name,
    );
    let installed: Conflist | undefined;
    await this.waitFor(
      async () => {
        this.assertRunning(processName);
        const conflist = await this.conflist(name).catch(() => undefined);
        if (conflist === undefined || !conflist.plugins.some((p) => p['type'] === 'weft-cni')) return false;
        installed = conflist;
        return true;
      },
      `cni-node ${name} to install its plugin`,
      timeoutMs,
    );
    return installed as Conflist;
  }

  /** The node's ztunnel in in-pod mode (started, not awaited: see {@link ztunnelReady}). */
  startZtunnel(name: string): RecordedProcess {
    const node = this.node(name);
    this.progress(`starting ztunnel in ${name}`);
    return this.startProcess(
      'ztunnel',
      `ztunnel-${name}`,
      node.netns,
      [process.execPath, this.binaries.ztunnel],
      {
        WEFT_ZTUNNEL_MODE: 'inpod',
        NODE_NAME: name,
        POD_NAME: `ztunnel-${name}`,
        INSTANCE_IP: node.underlayIp,
        INPOD_UDS: path.join(node.dir, 'run', 'ztunnel.sock'),
        XDS_ADDRESS: `${this.controlplaneAddress}:15012`,
        XDS_SERVER_NAME: 'istiod.istio-system.svc',
        XDS_ROOT_CA: this.rootCert,
        WEFT_TOKEN_FILE: path.join(node.dir, 'token'),
        WEFT_DRAIN_DEADLINE_MS: '500',
        LOG_LEVEL: this.logLevel,
      },
      name,
    );
  }

  /** Waits until every node's ztunnel answers `/healthz/ready` (probed from inside its node netns). */
  async waitZtunnelsReady(timeoutMs = 60_000): Promise<void> {
    for (const node of this.state.nodes) {
      await this.waitFor(
        async () => {
          this.assertRunning(`ztunnel-${node.name}`);
          return this.ztunnelReady(node.name);
        },
        `ztunnel ${node.name} to be ready`,
        timeoutMs,
      );
    }
  }

  /** controlplane, then every cni-node (plugin installed), then every ztunnel (ready); marks the cluster `up`. */
  async startAll(timeoutMs = 60_000): Promise<void> {
    await this.startControlplane(timeoutMs);
    await Promise.all(this.state.nodes.map((node) => this.startCniNode(node.name, timeoutMs)));
    for (const node of this.state.nodes) this.startZtunnel(node.name);
    this.progress('waiting for the ztunnels to be ready');
    await this.waitZtunnelsReady(timeoutMs);
    this.state.phase = 'up';
    this.save();
  }

  async status(): Promise<ClusterStatus> {
    const nodes = this.state.nodes.map((n) => ({ name: n.name, netns: n.netns, exists: netnsExists(n.netns), underlayIp: n.underlayIp, podCidr: n.podCidr }));
    const processes = this.state.processes.map((p) => ({ name: p.name, role: p.role, node: p.node, pid: p.pid, running: isRunning(p), log: p.log }));
    const cpNode = nodes.find((n) => n.name === this.state.controlplane.node);
    const [controlplaneReady, ...ztunnels] = await Promise.all([
      cpNode?.exists === true ? this.controlplaneReady() : Promise.resolve(false),
      ...nodes.map((n) => (n.exists ? this.ztunnelReady(n.name) : Promise.resolve(false))),
    ]);
    return {
      prefix: this.prefix,
      stateDir: this.stateDir,
      phase: this.state.phase,
      createdAt: this.state.createdAt,
      nodes,
      processes,
      controlplaneReady: controlplaneReady === true,
      ztunnelReady: Object.fromEntries(nodes.map((n, i) => [n.name, ztunnels[i] === true])),
    };
  }
}

/** Checks the prerequisites, builds the cluster, starts every process and waits until all are ready. */
export async function localUp(options: UpOptions): Promise<LocalCluster> {
  const binaries = options.binaries ?? defaultBinaries();
  requirePrerequisites(binaries);
  const cluster = await LocalCluster.create({ ...options, binaries });
  try {
    await cluster.startAll(options.readyTimeoutMs ?? 60_000);
  } catch (cause) {
    // The logs go with the state directory: keep their tail in the error.
    const message = cause instanceof Error ? cause.message : String(cause);
    const logs = message.includes('--- ') ? '' : `\n${cluster.logs(30)}`;
    await localDown(cluster.stateDir, { graceMs: 2_000 }).catch(() => undefined);
    throw new Error(`local cluster failed to start (everything it made was removed): ${message}${logs}`);
  }
  return cluster;
}

export interface DownReport {
  /** Whether a cluster was recorded at all. */
  readonly found: boolean;
  readonly prefix?: string;
  readonly stopped: readonly string[];
  readonly deletedNetns: readonly string[];
}

/** Stopping order: what depends on others goes first; the same role stops in parallel. */
const STOP_ORDER: readonly ProcessRole[] = ['app', 'ztunnel', 'cni-node', 'controlplane'];

/**
 * Stops exactly the recorded processes (SIGTERM, SIGKILL after `graceMs`), deletes exactly the recorded namespaces
 * and removes the state. Idempotent; works from any process after a crash. When something cannot be removed the
 * state file keeps what remains and the error says what it is.
 */
export async function localDown(stateDir: string, options: { readonly graceMs?: number } = {}): Promise<DownReport> {
  const dir = path.resolve(stateDir);
  const file = path.join(dir, STATE_FILE);
  const state = readStateFile(dir);
  if (state === undefined) {
    rmSync(file, { force: true });
    return { found: false, stopped: [], deletedNetns: [] };
  }
  const graceMs = options.graceMs ?? 5_000;
  const errors: string[] = [];
  const stopped: string[] = [];
  for (const role of STOP_ORDER) {
    const group = state.processes.filter((p) => p.role === role);
    const results = await Promise.all(group.map(async (p) => ({ p, gone: isRunning(p) ? await stopProcess(p, graceMs) : true })));
    for (const { p, gone } of results) {
      if (gone) stopped.push(p.name);
      else errors.push(`${p.name} (pid ${p.pid}) did not exit after SIGKILL`);
    }
  }
  state.processes = state.processes.filter((p) => isRunning(p));
  writeStateFile(state);

  for (const iface of [...state.interfaces].reverse()) {
    if (!netnsExists(iface.netns)) continue;
    try {
      ipIn(iface.netns, 'link', 'del', iface.name);
    } catch (cause) {
      // Already gone with its peer's namespace: fine.
      if (!/Cannot find device|does not exist/i.test(String(cause))) errors.push(String(cause));
    }
  }
  state.interfaces = [];
  const deletedNetns: string[] = [];
  for (const name of [...state.netns].reverse()) {
    if (!netnsExists(name)) continue;
    try {
      run('ip', ['netns', 'del', name]);
      deletedNetns.push(name);
      removeNetnsEtc(name);
    } catch (cause) {
      errors.push(String(cause));
    }
  }
  state.netns = state.netns.filter((name) => netnsExists(name));
  writeStateFile(state);
  if (errors.length > 0) throw new Error(`local cluster ${state.prefix}: teardown incomplete (state kept in ${file}; run down again):\n${errors.join('\n')}`);

  for (const entry of OWNED_ENTRIES) rmSync(path.join(dir, entry), { recursive: true, force: true });
  rmSync(file, { force: true });
  rmSync(`${file}.tmp`, { force: true });
  try {
    if (readdirSync(dir).length === 0) rmdirSync(dir);
  } catch {
    // someone else's files are there: leave the directory
  }
  return { found: true, prefix: state.prefix, stopped, deletedNetns };
}

/** The recorded cluster's status, or undefined when there is none. */
export async function localStatus(stateDir: string): Promise<ClusterStatus | undefined> {
  let cluster: LocalCluster;
  try {
    cluster = LocalCluster.load(stateDir);
  } catch (cause) {
    if (cause instanceof NoClusterError) return undefined;
    throw cause;
  }
  return cluster.status();
}

