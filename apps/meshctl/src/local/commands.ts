// `meshctl local up|down|status`: thin wrappers over @weft/local-cluster that print what happened and what to try.

import { spawn } from 'node:child_process';
import * as path from 'node:path';

import {
  applyManifests,
  ClusterExistsError,
  deleteManifests,
  execArgv,
  findPod,
  labelObject,
  LocalCluster,
  localDown,
  NoClusterError,
  localStatus,
  localUp,
  podLogs,
  PrerequisiteError,
  restartDeployment,
  scaleDeployment,
  type ApplyReport,
  type ClusterStatus,
  type LabelChange,
  type LabelTarget,
} from '@weft/local-cluster';

export interface Output {
  out(text: string): void;
  err(text: string): void;
}

/** The meshctl entry script, for the commands printed to try next. */
const MESHCTL = path.resolve(__dirname, '..', 'main.js');

/** The demo apps of `local up --demo`. */
export const DEMO_MANIFEST = path.resolve(__dirname, '..', '..', 'demo', 'demo.yaml');

export function nextSteps(cluster: LocalCluster, demo: boolean): string {
  const first = cluster.nodes[0];
  const dir = cluster.stateDir;
  const meshctl = `node ${MESHCTL}`;
  const sd = ` --state-dir ${dir}`;
  const lines = [
    `Weft local cluster ${cluster.prefix} is up: ${cluster.nodes.length} node(s), state and logs in ${dir}`,
    '',
    ...cluster.nodes.map((n) => `  ${n.name.padEnd(8)} ${n.underlayIp.padEnd(12)} pods ${n.podCidr.padEnd(15)} netns ${n.netns}${n.name === first?.name ? '  (controlplane)' : ''}`),
    '',
    'Try:',
    ...(demo
      ? [
          `  ${meshctl} local exec deploy/sleep${sd} -- curl -s http://httpbin:8000/get     # mTLS through both ztunnels`,
          `  ${meshctl} ztunnel-config workload --node ${first?.name ?? ''}${sd}             # protocol HBONE`,
          `  ${meshctl} local logs deploy/httpbin${sd}`,
          `  ${meshctl} local label ns default istio.io/dataplane-mode-${sd}             # leave the mesh, live`,
        ]
      : [`  ${meshctl} local apply -f ${DEMO_MANIFEST}${sd}`]),
    `  ${meshctl} local status${sd}`,
    `  ls ${cluster.manifests}    # the controlplane's configuration`,
    `  tail -f ${path.join(dir, 'logs')}/*.log`,
    `  ${meshctl} local down${sd}`,
    '',
  ];
  return lines.join('\n');
}

export function statusTable(status: ClusterStatus): string {
  const lines = [`cluster ${status.prefix} (${status.phase}, created ${status.createdAt}), state in ${status.stateDir}`, '', 'NODE      ADDRESS      POD CIDR         NETNS'];
  for (const n of status.nodes) lines.push(`${n.name.padEnd(9)} ${n.underlayIp.padEnd(12)} ${n.podCidr.padEnd(16)} ${n.netns}${n.exists ? '' : '  (missing)'}`);
  lines.push('', 'PROCESS              PID      RUNNING  READY');
  for (const p of status.processes) {
    const ready =
      p.role === 'controlplane' ? String(status.controlplaneReady) : p.role === 'ztunnel' && p.node !== undefined ? String(status.ztunnelReady[p.node] ?? false) : '-';
    lines.push(`${p.name.padEnd(20)} ${String(p.pid).padEnd(8)} ${String(p.running).padEnd(8)} ${ready}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Whether every recorded process runs and everything is ready. */
export function healthy(status: ClusterStatus): boolean {
  return status.processes.every((p) => p.running) && status.controlplaneReady && Object.values(status.ztunnelReady).every(Boolean) && status.nodes.every((n) => n.exists);
}

export async function runLocalUp(nodes: number, stateDir: string, demo: boolean, io: Output): Promise<number> {
  try {
    const cluster = await localUp({ stateDir, nodes, onProgress: (message) => io.err(`${message}\n`) });
    if (demo) {
      io.err(`applying the demo apps (${DEMO_MANIFEST})\n`);
      printReport(await applyManifests(cluster, [DEMO_MANIFEST]), io);
    }
    io.out(nextSteps(cluster, demo));
    return 0;
  } catch (cause) {
    if (cause instanceof PrerequisiteError || cause instanceof ClusterExistsError) {
      io.err(`meshctl: ${cause.message}\n`);
      return 1;
    }
    throw cause;
  }
}

export async function runLocalStatus(stateDir: string, output: 'short' | 'json', io: Output): Promise<number> {
  const status = await localStatus(stateDir);
  if (status === undefined) {
    io.err(`meshctl: no local cluster is recorded in ${path.resolve(stateDir)}\n`);
    return 1;
  }
  io.out(output === 'json' ? `${JSON.stringify(status, null, 2)}\n` : statusTable(status));
  return healthy(status) ? 0 : 3;
}

export async function runLocalDown(stateDir: string, io: Output): Promise<number> {
  const report = await localDown(stateDir);
  if (!report.found) {
    io.out(`no local cluster is recorded in ${path.resolve(stateDir)}: nothing to do\n`);
    return 0;
  }
  io.out(`cluster ${report.prefix ?? ''} removed: stopped ${report.stopped.length} process(es), deleted ${report.deletedNetns.length} namespace(s)\n`);
  return 0;
}

function printReport(report: ApplyReport, io: Output): void {
  for (const warning of report.warnings) io.err(`Warning: ${warning}\n`);
  io.out(report.lines.map((line) => `${line}\n`).join(''));
}

/** Runs `action` on the recorded cluster; no cluster is a one-line error. */
async function withCluster(stateDir: string, io: Output, action: (cluster: LocalCluster) => Promise<number>): Promise<number> {
  let cluster: LocalCluster;
  try {
    cluster = LocalCluster.load(stateDir);
  } catch (cause) {
    if (cause instanceof NoClusterError) {
      io.err(`meshctl: ${cause.message}\n`);
      return 1;
    }
    throw cause;
  }
  return action(cluster);
}

/** `local apply -f` / `local delete -f`: prints one line per object, warnings to stderr. */
export function runLocalApply(kind: 'apply' | 'delete', files: readonly string[], stateDir: string, io: Output): Promise<number> {
  return withCluster(stateDir, io, async (cluster) => {
    printReport(kind === 'apply' ? await applyManifests(cluster, files) : await deleteManifests(cluster, files), io);
    return 0;
  });
}

/** `local scale` / `local rollout restart`. */
export function runLocalScale(stateDir: string, namespace: string, name: string, replicas: number | 'restart', io: Output): Promise<number> {
  return withCluster(stateDir, io, async (cluster) => {
    printReport(replicas === 'restart' ? await restartDeployment(cluster, namespace, name) : await scaleDeployment(cluster, namespace, name, replicas), io);
    return 0;
  });
}

export function runLocalLabel(stateDir: string, target: LabelTarget, changes: readonly LabelChange[], overwrite: boolean, io: Output): Promise<number> {
  return withCluster(stateDir, io, (cluster) => {
    io.out(`${labelObject(cluster, target, changes, overwrite)}\n`);
    return Promise.resolve(0);
  });
}

export function runLocalLogs(stateDir: string, namespace: string, pod: string, container: string | undefined, io: Output): Promise<number> {
  return withCluster(stateDir, io, (cluster) => {
    io.out(podLogs(cluster, findPod(cluster, namespace, pod), container));
    return Promise.resolve(0);
  });
}

/** `local exec`: the command runs inside the pod with this terminal's stdio; its exit status is ours. */
export function runLocalExec(stateDir: string, namespace: string, pod: string, command: readonly string[], io: Output): Promise<number> {
  return withCluster(stateDir, io, (cluster) => {
    const [file, ...args] = execArgv(findPod(cluster, namespace, pod), command);
    return new Promise<number>((resolve) => {
      const child = spawn(file ?? 'ip', args, { stdio: 'inherit' });
      child.on('error', (cause) => {
        io.err(`meshctl: ${cause.message}\n`);
        resolve(1);
      });
      child.on('exit', (code, signal) => resolve(code ?? (signal === null ? 1 : 128 + 9)));
    });
  });
}
