#!/usr/bin/env node
// `meshctl`: parses the command line once and runs one command; usage errors exit 2, failures exit 1.

import { stringify } from 'yaml';

import { USAGE, parseArgs } from './cli';
import { runLocalApply, runLocalDown, runLocalStatus, runLocalUp, type Output } from './local/commands';
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
  if (command.kind === 'local-up') return runLocalUp(command.nodes, command.stateDir, io);
  if (command.kind === 'local-status') return runLocalStatus(command.stateDir, command.output, io);
  if (command.kind === 'local-down') return runLocalDown(command.stateDir, io);
  if (command.kind === 'local-apply') return runLocalApply('apply', command.files, command.stateDir, io);
  if (command.kind === 'local-delete') return runLocalApply('delete', command.files, command.stateDir, io);
  const url = `${command.adminUrl}/config_dump`;
  let dump: unknown;
  try {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    dump = await response.json();
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
