// The cluster driver over the local network-namespace cluster (@weft/local-cluster): one cluster per test file,
// brought up in a temporary state directory and taken down — by recorded PIDs and names only — afterwards.

import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import {
  applyManifests,
  clusterPods,
  deleteManifests,
  execArgv,
  findPod,
  labelObject,
  LocalCluster,
  localDown,
  localUp,
  podRecords,
  podLogs,
  requirePrerequisites,
  scaleDeployment,
  type LabelChange,
} from '@weft/local-cluster';

import type { Capture, ClusterDriver, ConfigErrors, ExecResult, LabelTarget, PodView, ZtunnelConfigDump } from './driver';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function run(argv: readonly string[], timeoutMs: number): Promise<ExecResult> {
  return new Promise((resolve) => {
    const [file, ...args] = argv;
    execFile(file ?? 'false', args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 124;
      resolve({ code, stdout, stderr });
    });
  });
}

export class LocalDriver implements ClusterDriver {
  private readonly scratch: string;

  private constructor(private readonly cluster: LocalCluster) {
    this.scratch = mkdtempSync(path.join(tmpdir(), 'weft-e2e-yaml-'));
  }

  /** Brings up an `nodes`-node cluster; fails with what to install when a prerequisite is missing. */
  static async up(nodes = 2): Promise<LocalDriver> {
    requirePrerequisites();
    const stateDir = mkdtempSync(path.join(tmpdir(), 'weft-e2e-'));
    const cluster = await localUp({ stateDir, nodes });
    return new LocalDriver(cluster);
  }

  get nodes(): readonly string[] {
    return this.cluster.nodes.map((n) => n.name);
  }

  get prefix(): string {
    return this.cluster.prefix;
  }

  /** Takes the cluster down; `$WEFT_E2E_KEEP_LOGS=DIR` keeps its logs (DIR/<prefix>/) for a post-mortem. */
  async down(): Promise<void> {
    const keep = process.env['WEFT_E2E_KEEP_LOGS'];
    if (keep !== undefined && keep !== '') cpSync(this.cluster.logsDir, path.join(keep, this.cluster.prefix), { recursive: true });
    rmSync(this.scratch, { recursive: true, force: true });
    await localDown(this.cluster.stateDir);
    rmSync(this.cluster.stateDir, { recursive: true, force: true });
  }

  private files(sources: readonly (string | { readonly yaml: string })[]): string[] {
    return sources.map((source, i) => {
      if (typeof source === 'string') return source;
      const file = path.join(this.scratch, `${Date.now()}-${i}.yaml`);
      writeFileSync(file, source.yaml);
      return file;
    });
  }

  async apply(...sources: readonly (string | { readonly yaml: string })[]): Promise<void> {
    await applyManifests(this.cluster, this.files(sources));
  }

  async delete(...sources: readonly (string | { readonly yaml: string })[]): Promise<void> {
    await deleteManifests(this.cluster, this.files(sources));
  }

  exec(namespace: string, pod: string, argv: readonly string[], timeoutMs = 30_000): Promise<ExecResult> {
    return run(execArgv(findPod(this.cluster, namespace, pod), argv), timeoutMs);
  }

  logs(namespace: string, pod: string): Promise<string> {
    return Promise.resolve(podLogs(this.cluster, findPod(this.cluster, namespace, pod)));
  }

  label(target: LabelTarget, labels: Readonly<Record<string, string | null>>): Promise<void> {
    const changes: LabelChange[] = Object.entries(labels).map(([key, value]) => (value === null ? { key, remove: true } : { key, value }));
    labelObject(this.cluster, target, changes, true);
    return Promise.resolve();
  }

  async scale(namespace: string, deployment: string, replicas: number): Promise<void> {
    await scaleDeployment(this.cluster, namespace, deployment, replicas);
  }

  pods(namespace: string, selector: Readonly<Record<string, string>> = {}): Promise<PodView[]> {
    const infos = clusterPods(this.cluster);
    const views = podRecords(this.cluster)
      .filter((r) => r.namespace === namespace)
      .flatMap((r): PodView[] => {
        const info = infos.find((p) => p.namespace === r.namespace && p.name === r.name);
        const labels = info?.labels ?? {};
        if (!Object.entries(selector).every(([k, v]) => labels[k] === v)) return [];
        return [
          {
            namespace: r.namespace,
            name: r.name,
            node: r.node,
            ip: info?.ip,
            labels,
            ready: info?.ready ?? false,
            pids: netnsPids(r.netns),
            containerPids: r.processes.flatMap((name) => this.cluster.process(name)?.pid ?? []),
          },
        ];
      });
    return Promise.resolve(views.sort((a, b) => a.name.localeCompare(b.name)));
  }

  private async nodeGet(node: string, url: string): Promise<string> {
    const result = await this.cluster.httpGet(this.cluster.node(node).netns, url, 5_000);
    if (result.status !== 200) throw new Error(`GET ${url} in node ${node}: ${result.status === 0 ? result.body : `HTTP ${result.status}`}`);
    return result.body;
  }

  async ztunnelConfig(node: string): Promise<ZtunnelConfigDump> {
    return JSON.parse(await this.nodeGet(node, 'http://127.0.0.1:15000/config_dump')) as ZtunnelConfigDump;
  }

  ztunnelMetrics(node: string): Promise<string> {
    return this.nodeGet(node, 'http://127.0.0.1:15020/metrics');
  }

  async configErrors(): Promise<ConfigErrors> {
    const first = this.cluster.nodes[0];
    if (first === undefined) throw new Error('the cluster has no nodes');
    return JSON.parse(await this.nodeGet(first.name, `http://${this.cluster.controlplaneAddress}:15014/debug/config_errors`)) as ConfigErrors;
  }

  async capture(): Promise<Capture> {
    // -l: line-buffered; -A: payloads as text; -nn: numeric; -U: packet-buffered.
    const child = spawn('ip', ['netns', 'exec', this.cluster.underlay, 'tcpdump', '-i', this.cluster.bridge, '-nn', '-l', '-U', '-A', 'tcp'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    let stderr = '';
    child.stdout.setEncoding('latin1').on('data', (chunk: string) => (text += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    // tcpdump says "listening on" once the capture is armed.
    const deadline = Date.now() + 10_000;
    while (!stderr.includes('listening on')) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`tcpdump did not start on ${this.cluster.bridge}: ${stderr}`);
      await sleep(50);
    }
    return {
      stop: async () => {
        await sleep(200);
        child.kill('SIGINT');
        await exited;
        return text;
      },
    };
  }

  async waitForZtunnels(check: (dump: ZtunnelConfigDump, node: string) => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const results = await Promise.all(this.nodes.map(async (node) => check(await this.ztunnelConfig(node), node)));
      if (results.every(Boolean)) return;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for the ztunnels: ${what}\n${this.diagnostics()}`);
      await sleep(100);
    }
  }

  diagnostics(): string {
    return this.cluster.logs(25);
  }
}

/** `ip netns pids`: the processes whose network namespace is the named one. */
function netnsPids(netns: string): number[] {
  const target = `/run/netns/${netns}`;
  if (!existsSync(target)) return [];
  let inode: string;
  try {
    inode = String(statSync(target).ino);
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const link = readlinkSync(`/proc/${entry}/ns/net`);
      if (link === `net:[${inode}]`) pids.push(Number(entry));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return pids;
}
