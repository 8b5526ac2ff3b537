// `meshctl local up|down|status`: thin wrappers over @weft/local-cluster that print what happened and what to try.

import * as path from 'node:path';

import { applyManifests, ClusterExistsError, deleteManifests, LocalCluster, localDown, NoClusterError, localStatus, localUp, PrerequisiteError, ZTUNNEL_ADMIN_PORT, type ClusterStatus } from '@weft/local-cluster';

export interface Output {
  out(text: string): void;
  err(text: string): void;
}

/** The meshctl entry script, for the commands printed to try next. */
const MESHCTL = path.resolve(__dirname, '..', 'main.js');

export function nextSteps(cluster: LocalCluster): string {
  const first = cluster.nodes[0];
  const dir = cluster.stateDir;
  const lines = [
    `Weft local cluster ${cluster.prefix} is up: ${cluster.nodes.length} node(s), state and logs in ${dir}`,
    '',
    ...cluster.nodes.map((n) => `  ${n.name.padEnd(8)} ${n.underlayIp.padEnd(12)} pods ${n.podCidr.padEnd(15)} netns ${n.netns}${n.name === first?.name ? '  (controlplane)' : ''}`),
    '',
    'Try:',
    `  meshctl local status --state-dir ${dir}`,
    `  ip netns exec ${first?.netns ?? ''} curl -s http://${cluster.controlplaneAddress}:15014/ready`,
    `  ip netns exec ${first?.netns ?? ''} node ${MESHCTL} ztunnel-config workload --admin-url http://127.0.0.1:${ZTUNNEL_ADMIN_PORT}`,
    `  ls ${cluster.manifests}    # the controlplane's configuration: add YAML here`,
    `  tail -f ${path.join(dir, 'logs')}/*.log`,
    `  meshctl local down --state-dir ${dir}`,
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

export async function runLocalUp(nodes: number, stateDir: string, io: Output): Promise<number> {
  try {
    const cluster = await localUp({ stateDir, nodes, onProgress: (message) => io.err(`${message}\n`) });
    io.out(nextSteps(cluster));
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

/** `local apply -f` / `local delete -f`: prints one line per object, warnings to stderr. */
export async function runLocalApply(kind: 'apply' | 'delete', files: readonly string[], stateDir: string, io: Output): Promise<number> {
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
  const report = kind === 'apply' ? await applyManifests(cluster, files) : await deleteManifests(cluster, files);
  for (const warning of report.warnings) io.err(`Warning: ${warning}\n`);
  io.out(report.lines.map((line) => `${line}\n`).join(''));
  return 0;
}
