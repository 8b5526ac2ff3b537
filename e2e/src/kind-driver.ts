// The cluster driver over a kind cluster (hosts with a Docker engine, e.g. users' CI): the driver calls as kubectl,
// crictl (through `docker exec` in kind's node containers) and tcpdump on the kind network's bridge. Every command
// goes through one injected Runner; bring-up and tear-down are in kind-cluster.ts.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';

import type { Capture, ClusterDriver, ConfigErrors, ExecResult, LabelTarget, PodView, ZtunnelConfigDump } from './driver';
import { createKindCluster, deleteKindCluster, KindCommandError, kindSettings, must, type KindCluster, type KindSettings } from './kind-cluster';
import {
  labelArgs,
  NETNS_SCAN,
  parseBridgeName,
  parseCrictlContainer,
  parseCrictlSandbox,
  parseMatchLabels,
  parseNetnsScan,
  parsePods,
  podNetnsPids,
  rolloutTargets,
  selectorArg,
  type PodRecord,
  type RolloutTarget,
} from './kind-objects';
import { createProcessRunner, type RunOptions, type Runner } from './kind-runner';

/** A small image with tcpdump, run on the Docker host's network to capture on the kind bridge. */
export const TCPDUMP_IMAGE = 'nicolaka/netshoot:v0.13';
/** The mesh's namespace (the chart is installed there, as Istio's). */
const MESH_NS = 'istio-system';
const ROLLOUT_TIMEOUT = '180s';
const ROLLOUT_TIMEOUT_MS = 200_000;
const PULL_TIMEOUT_MS = 10 * 60_000;
const CAPTURE_START_TIMEOUT_MS = 30_000;
const POLL_MS = 250;
const LOG_TAIL = 25;

/**
 * ztunnel's admin port listens on 127.0.0.1 in ztunnel's own pod, so the API server's proxy cannot reach it; the
 * ztunnel image runs Node, so `kubectl exec` runs this fetch beside it — no local port, no background process.
 */
export const ZTUNNEL_CONFIG_SCRIPT =
  'fetch("http://127.0.0.1:15000/config_dump").then(async (r) => { process.stdout.write(await r.text()); if (!r.ok) process.exitCode = 1; }, ' +
  '(e) => { process.stderr.write(String(e)); process.exitCode = 2; })';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

type Source = string | { readonly yaml: string };

/** What `KindDriver.up` may be given instead of the real ones (unit tests). */
export interface KindDeps {
  readonly run?: Runner;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly clusterName?: string;
}

export class KindDriver implements ClusterDriver {
  private readonly ztunnelPods = new Map<string, string>();
  private readonly liveCaptures = new Set<string>();
  private captures = 0;
  private bridge: string | undefined;
  private tcpdumpPulled = false;
  private lastLogs = '';

  constructor(
    private readonly run: Runner,
    private readonly settings: KindSettings,
    readonly cluster: KindCluster,
  ) {}

  /** Creates a kind cluster with `nodes` workers and installs the mesh; fails first with every missing prerequisite. */
  static async up(nodes = 2, deps: KindDeps = {}): Promise<KindDriver> {
    const run = deps.run ?? createProcessRunner();
    const settings = kindSettings(deps.env ?? process.env);
    return new KindDriver(run, settings, await createKindCluster(run, settings, nodes, deps.clusterName));
  }

  get nodes(): readonly string[] {
    return this.cluster.nodes;
  }

  /** Stops captures still running, then deletes the kind cluster this driver created (and nothing else). */
  async down(): Promise<void> {
    for (const name of this.liveCaptures) await this.run(['docker', 'rm', '-f', name], { timeoutMs: 60_000 });
    this.liveCaptures.clear();
    await deleteKindCluster(this.run, this.settings, this.cluster);
  }

  private kubectlArgv(args: readonly string[]): string[] {
    return ['kubectl', '--kubeconfig', this.cluster.kubeconfig, ...args];
  }

  private kubectl(args: readonly string[], options?: RunOptions): Promise<string> {
    return must(this.run, this.kubectlArgv(args), options);
  }

  async apply(...sources: readonly Source[]): Promise<void> {
    const targets: RolloutTarget[] = [];
    for (const source of sources) {
      if (typeof source === 'string') await this.kubectl(['apply', '-f', source]);
      else await this.kubectl(['apply', '-f', '-'], { input: source.yaml });
      targets.push(...rolloutTargets(typeof source === 'string' ? readManifests(source) : source.yaml));
    }
    // As on the local cluster, apply returns once the pods it made are Ready.
    const seen = new Set<string>();
    for (const target of targets) {
      const key = `${target.kind} ${target.namespace}/${target.name}`;
      if (seen.has(key)) continue;
      seen.add(key);
      await this.waitForRollout(target);
    }
    await this.refreshDiagnostics();
  }

  private async waitForRollout(target: RolloutTarget): Promise<void> {
    const options = { timeoutMs: ROLLOUT_TIMEOUT_MS };
    const ns = ['-n', target.namespace, `--timeout=${ROLLOUT_TIMEOUT}`];
    if (target.kind === 'pod') {
      await this.kubectl(['wait', '--for=condition=Ready', `pod/${target.name}`, ...ns], options);
      return;
    }
    // A waypoint Gateway is Programmed once the controlplane has made its Service and Deployment (same name).
    if (target.kind === 'waypoint') await this.kubectl(['wait', '--for=condition=Programmed', `gateway/${target.name}`, ...ns], options);
    await this.kubectl(['rollout', 'status', `deployment/${target.name}`, ...ns], options);
  }

  async delete(...sources: readonly Source[]): Promise<void> {
    // Foreground cascading: `--wait` returns once a Deployment's pods are gone too, as the local cluster's delete.
    const flags = ['--ignore-not-found', '--wait=true', '--cascade=foreground'];
    for (const source of sources) {
      if (typeof source === 'string') await this.kubectl(['delete', '-f', source, ...flags], { timeoutMs: ROLLOUT_TIMEOUT_MS });
      else await this.kubectl(['delete', '-f', '-', ...flags], { input: source.yaml, timeoutMs: ROLLOUT_TIMEOUT_MS });
    }
  }

  exec(namespace: string, pod: string, argv: readonly string[], timeoutMs = 30_000): Promise<ExecResult> {
    // kubectl exits with the command's own status and accepts `deployment/NAME` (one of its pods).
    return this.run(this.kubectlArgv(['exec', '-n', namespace, pod, '--', ...argv]), { timeoutMs });
  }

  logs(namespace: string, pod: string): Promise<string> {
    return this.kubectl(['logs', '-n', namespace, pod]);
  }

  async label(target: LabelTarget, labels: Readonly<Record<string, string | null>>): Promise<void> {
    const object = target.kind === 'namespace' ? ['namespace', target.name] : ['pod', target.name, '-n', target.namespace];
    await this.kubectl(['label', ...object, ...labelArgs(labels), '--overwrite']);
  }

  /** Scales and returns once exactly `replicas` pods of the Deployment exist, all Ready (removed ones gone). */
  async scale(namespace: string, deployment: string, replicas: number): Promise<void> {
    await this.kubectl(['scale', `deployment/${deployment}`, '-n', namespace, `--replicas=${replicas}`]);
    await this.kubectl(['rollout', 'status', `deployment/${deployment}`, '-n', namespace, `--timeout=${ROLLOUT_TIMEOUT}`], { timeoutMs: ROLLOUT_TIMEOUT_MS });
    const selector = parseMatchLabels(await this.kubectl(['get', 'deployment', deployment, '-n', namespace, '-o', 'json']));
    const deadline = Date.now() + ROLLOUT_TIMEOUT_MS;
    for (;;) {
      const pods = await this.podRecords(namespace, selector);
      if (pods.length === replicas && pods.every((p) => p.ready && !p.terminating)) break;
      if (Date.now() > deadline) throw new Error(`deployment ${namespace}/${deployment}: not exactly ${replicas} Ready pods: ${JSON.stringify(pods.map((p) => [p.name, p.ready, p.terminating]))}`);
      await sleep(POLL_MS);
    }
    await this.refreshDiagnostics();
  }

  private async podRecords(namespace: string, selector: Readonly<Record<string, string>> = {}): Promise<PodRecord[]> {
    const filter = Object.keys(selector).length > 0 ? ['-l', selectorArg(selector)] : [];
    return parsePods(await this.kubectl(['get', 'pods', '-n', namespace, ...filter, '-o', 'json']));
  }

  async pods(namespace: string, selector: Readonly<Record<string, string>> = {}): Promise<PodView[]> {
    const records = await this.podRecords(namespace, selector);
    const byNode = new Map<string, PodRecord[]>();
    for (const r of records) if (r.node !== '') byNode.set(r.node, [...(byNode.get(r.node) ?? []), r]);
    const processes = new Map<string, { pids: number[]; containerPids: number[] }>();
    await Promise.all([...byNode].map(async ([node, onNode]) => (await this.nodeProcesses(node, onNode)).forEach((v, k) => processes.set(k, v))));
    const views = records.map((r): PodView => {
      const found = processes.get(`${r.namespace}/${r.name}`);
      return { namespace: r.namespace, name: r.name, node: r.node, ip: r.ip, labels: r.labels, ready: r.ready, pids: found?.pids ?? [], containerPids: found?.containerPids ?? [] };
    });
    return views.sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * The PIDs of pods on one node, in the node container's PID namespace (not the Docker host's): each container's
   * `crictl inspect` info.pid, and the processes sharing the pod sandbox's network namespace from /proc. A container
   * or pod that is gone meanwhile simply has none.
   */
  private async nodeProcesses(node: string, pods: readonly PodRecord[]): Promise<Map<string, { pids: number[]; containerPids: number[] }>> {
    const inNode = (argv: readonly string[]): Promise<ExecResult> => this.run(['docker', 'exec', node, ...argv], { timeoutMs: 60_000 });
    const [scan, ...perPod] = await Promise.all([
      inNode(['sh', '-c', NETNS_SCAN]).then((r) => parseNetnsScan(r.stdout)),
      ...pods.map(async (pod) => {
        const containers = await Promise.all(
          pod.containerIds.map(async (id) => {
            const r = await inNode(['crictl', 'inspect', '-o', 'json', id]);
            return r.code === 0 ? parseCrictlContainer(r.stdout) : undefined;
          }),
        );
        const running = containers.flatMap((c) => (c === undefined ? [] : [c]));
        const sandboxId = running[0]?.sandboxId;
        const sandbox = sandboxId === undefined ? undefined : await inNode(['crictl', 'inspectp', '-o', 'json', sandboxId]);
        return { pod, containerPids: running.map((c) => c.pid), sandboxPid: sandbox?.code === 0 ? parseCrictlSandbox(sandbox.stdout) : undefined };
      }),
    ]);
    const out = new Map<string, { pids: number[]; containerPids: number[] }>();
    for (const { pod, containerPids, sandboxPid } of perPod) {
      out.set(`${pod.namespace}/${pod.name}`, { containerPids, pids: sandboxPid === undefined ? [] : podNetnsPids(scan, sandboxPid) });
    }
    return out;
  }

  /** The running ztunnel pod on `node` (remembered until a call through it fails). */
  private async ztunnelPod(node: string): Promise<string> {
    const known = this.ztunnelPods.get(node);
    if (known !== undefined) return known;
    const pods = parsePods(await this.kubectl(['get', 'pods', '-n', MESH_NS, '-l', 'app=ztunnel', '--field-selector', `spec.nodeName=${node}`, '-o', 'json']));
    const pod = pods.find((p) => !p.terminating && p.containerIds.length > 0);
    if (pod === undefined) throw new Error(`no running ztunnel pod on node ${node}\n${this.diagnostics()}`);
    this.ztunnelPods.set(node, pod.name);
    return pod.name;
  }

  async ztunnelConfig(node: string): Promise<ZtunnelConfigDump> {
    const pod = await this.ztunnelPod(node);
    const argv = this.kubectlArgv(['exec', '-n', MESH_NS, pod, '-c', 'istio-proxy', '--', 'node', '-e', ZTUNNEL_CONFIG_SCRIPT]);
    const result = await this.run(argv, { timeoutMs: 30_000 });
    if (result.code !== 0) {
      this.ztunnelPods.delete(node);
      throw new KindCommandError(argv, result);
    }
    return JSON.parse(result.stdout) as ZtunnelConfigDump;
  }

  async ztunnelMetrics(node: string): Promise<string> {
    const pod = await this.ztunnelPod(node);
    try {
      return await this.kubectl(['get', '--raw', `/api/v1/namespaces/${MESH_NS}/pods/${pod}:15020/proxy/metrics`]);
    } catch (error) {
      this.ztunnelPods.delete(node);
      throw error;
    }
  }

  async configErrors(): Promise<ConfigErrors> {
    // The istiod Service's monitoring port, by its name in the chart (http-monitoring, 15014).
    return JSON.parse(await this.kubectl(['get', '--raw', `/api/v1/namespaces/${MESH_NS}/services/istiod:http-monitoring/proxy/debug/config_errors`])) as ConfigErrors;
  }

  /**
   * tcpdump on the Linux bridge of kind's Docker network, from a container on the Docker host's network: the one
   * place every packet between nodes crosses once (kindnet routes pod IPs between nodes without encapsulation), like
   * the local cluster's underlay bridge. Stopped with SIGINT, which `docker run` passes on to tcpdump.
   */
  async capture(): Promise<Capture> {
    if (!this.tcpdumpPulled) {
      await must(this.run, ['docker', 'pull', TCPDUMP_IMAGE], { timeoutMs: PULL_TIMEOUT_MS });
      this.tcpdumpPulled = true;
    }
    this.bridge ??= parseBridgeName(await must(this.run, ['docker', 'network', 'inspect', this.settings.network]));
    const name = `${this.cluster.name}-capture-${++this.captures}`;
    const stopper = new AbortController();
    let stderr = '';
    let onListening = (): void => undefined;
    const listening = new Promise<'listening'>((resolve) => (onListening = () => resolve('listening')));
    // -l: line-buffered; -A: payloads as text; -nn: numeric; -U: packet-buffered.
    const argv = ['docker', 'run', '--rm', '--name', name, '--network', 'host', '--cap-add', 'NET_ADMIN', '--cap-add', 'NET_RAW', TCPDUMP_IMAGE, 'tcpdump', '-i', this.bridge, '-nn', '-l', '-U', '-A', 'tcp'];
    this.liveCaptures.add(name);
    const done = this.run(argv, {
      signal: stopper.signal,
      encoding: 'latin1',
      onStderr: (chunk) => {
        stderr += chunk;
        if (stderr.includes('listening on')) onListening();
      },
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), CAPTURE_START_TIMEOUT_MS)));
    const started = await Promise.race([listening, done.then(() => 'exited' as const), timeout]);
    clearTimeout(timer);
    const finish = async (): Promise<string> => {
      stopper.abort();
      const result = await done;
      // Killed after the grace period: the container may outlive its client.
      if (result.code === 137) await this.run(['docker', 'rm', '-f', name], { timeoutMs: 60_000 });
      this.liveCaptures.delete(name);
      return result.stdout;
    };
    if (started !== 'listening') {
      await finish();
      throw new Error(`tcpdump did not start on ${this.bridge} (${started}): ${stderr}`);
    }
    return {
      stop: async () => {
        await sleep(200);
        return finish();
      },
    };
  }

  async waitForZtunnels(check: (dump: ZtunnelConfigDump, node: string) => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const results = await Promise.all(this.nodes.map(async (node) => check(await this.ztunnelConfig(node), node)));
      if (results.every(Boolean)) return;
      if (Date.now() > deadline) {
        await this.refreshDiagnostics();
        throw new Error(`timed out after ${timeoutMs} ms waiting for the ztunnels: ${what}\n${this.diagnostics()}`);
      }
      await sleep(POLL_MS);
    }
  }

  /** The mesh pods' logs as last fetched (after each apply and scale, and when a wait times out). */
  diagnostics(): string {
    return this.lastLogs === '' ? '(no mesh logs fetched yet)' : this.lastLogs;
  }

  /** Fetches the last lines of every controlplane, ztunnel and cni-node pod; a failure is kept as the text. */
  async refreshDiagnostics(): Promise<void> {
    const tail = ['--prefix', '--all-containers', `--tail=${LOG_TAIL}`, '--max-log-requests=20'];
    const results = await Promise.all(
      ['app in (istiod,ztunnel)', 'k8s-app=istio-cni-node'].map((selector) => this.run(this.kubectlArgv(['logs', '-n', MESH_NS, '-l', selector, ...tail]), { timeoutMs: 60_000 })),
    );
    this.lastLogs = results.map((r) => (r.code === 0 ? r.stdout : `(kubectl logs failed: ${r.stderr.trim()})`)).join('\n');
  }
}

/** The YAML `kubectl apply -f` reads from a file, or from a directory's .yaml/.yml/.json files. */
function readManifests(source: string): string {
  if (!statSync(source).isDirectory()) return readFileSync(source, 'utf8');
  return readdirSync(source)
    .filter((f) => /\.(ya?ml|json)$/.test(f))
    .sort()
    .map((f) => readFileSync(path.join(source, f), 'utf8'))
    .join('\n---\n');
}
