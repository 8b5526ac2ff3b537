#!/usr/bin/env node
// `meshctl`: parses the command line once and runs one command; usage errors exit 2, failures exit 1.

import { stringify } from 'yaml';

import { USAGE, parseArgs } from './cli';
import { LocalCluster, ZTUNNEL_ADMIN_PORT } from '@weft/local-cluster';

import { runLocalApply, runLocalDown, runLocalExec, runLocalLabel, runLocalLogs, runLocalScale, runLocalStatus, runLocalUp, type Output } from './local/commands';
import { runWaypoint } from './waypoint/commands';
import { ztunnelConfigObjects, ztunnelConfigTable, type ZtunnelConfigKind } from './ztunnel-config/tables';

const ALL: readonly ZtunnelConfigKind[] = ['workload', 'service', 'policy', 'certificate'];

const io: Output = { out: (text) => process.stdout.write(text), err: (text) => process.stderr.write(text) };

async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseArgs(argv, process.env);
  if (!parsed.ok) {
    process.stderr.write(`meshctl: ${parsed.error}\n\n${USAGE}`);
    return 2;
  }
  const { command } = parsed;
  if (command.kind === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (command.kind === 'waypoint-apply' || command.kind === 'waypoint-generate' || command.kind === 'waypoint-list' || command.kind === 'waypoint-delete') return runWaypoint(command, io);
  if (command.kind === 'local-up') return runLocalUp(command.nodes, command.stateDir, command.demo, io);
  if (command.kind === 'local-status') return runLocalStatus(command.stateDir, command.output, io);
  if (command.kind === 'local-down') return runLocalDown(command.stateDir, io);
  if (command.kind === 'local-apply') return runLocalApply('apply', command.files, command.stateDir, io);
  if (command.kind === 'local-delete') return runLocalApply('delete', command.files, command.stateDir, io);
  if (command.kind === 'local-exec') return runLocalExec(command.stateDir, command.namespace, command.pod, command.command, io);
  if (command.kind === 'local-logs') return runLocalLogs(command.stateDir, command.namespace, command.pod, command.container, io);
  if (command.kind === 'local-label') return runLocalLabel(command.stateDir, command.target, command.changes, command.overwrite, io);
  if (command.kind === 'local-scale') return runLocalScale(command.stateDir, command.namespace, command.name, command.replicas, io);
  if (command.kind === 'local-rollout-restart') return runLocalScale(command.stateDir, command.namespace, command.name, 'restart', io);
  const url = command.node === undefined ? `${command.adminUrl}/config_dump` : `ztunnel ${command.node.name} http://127.0.0.1:${ZTUNNEL_ADMIN_PORT}/config_dump`;
  let dump: unknown;
  try {
    if (command.node === undefined) {
      const response = await fetch(`${command.adminUrl}/config_dump`);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      dump = await response.json();
    } else {
      // A local cluster's ztunnel listens inside its node's namespace.
      const cluster = LocalCluster.load(command.node.stateDir);
      const result = await cluster.httpGet(cluster.node(command.node.name).netns, `http://127.0.0.1:${ZTUNNEL_ADMIN_PORT}/config_dump`);
      if (result.status !== 200) throw new Error(result.status === 0 ? result.body : `HTTP ${result.status}`);
      dump = JSON.parse(result.body) as unknown;
    }
  } catch (cause) {
    process.stderr.write(`meshctl: cannot read ${url}: ${cause instanceof Error ? cause.message : String(cause)}\n`);
    return 1;
  }
  const kinds = command.what === 'all' ? ALL : [command.what];
  if (command.output === 'short') {
    process.stdout.write(kinds.map((kind) => ztunnelConfigTable(kind, dump)).join('\n'));
  } else {
    const objects = command.what === 'all' ? dump : ztunnelConfigObjects(command.what, dump);
    process.stdout.write(command.output === 'json' ? `${JSON.stringify(objects, null, 2)}\n` : stringify(objects));
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (cause: unknown) => {
    process.stderr.write(`meshctl: ${cause instanceof Error ? cause.message : String(cause)}\n`);
    process.exit(1);
  },
);
