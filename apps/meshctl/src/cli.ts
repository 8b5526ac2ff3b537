// meshctl's command line as data: parse argv into one command or a usage error that says what was wrong.

import { defaultStateDir, MAX_NODES, MIN_NODES, parseLabelChange, type LabelChange, type LabelTarget } from '@weft/local-cluster';

import { parseWaypoint, type WaypointCommand } from './waypoint/parse';
import type { ZtunnelConfigKind } from './ztunnel-config/tables';

export type OutputFormat = 'short' | 'json' | 'yaml';

export type Command =
  | { readonly kind: 'help' }
  | WaypointCommand
  | { readonly kind: 'ztunnel-config'; readonly what: ZtunnelConfigKind | 'all'; readonly output: OutputFormat; readonly adminUrl: string; readonly node?: { readonly name: string; readonly stateDir: string } }
  | { readonly kind: 'local-up'; readonly nodes: number; readonly stateDir: string; readonly demo: boolean }
  | { readonly kind: 'local-exec'; readonly stateDir: string; readonly namespace: string; readonly pod: string; readonly command: readonly string[] }
  | { readonly kind: 'local-logs'; readonly stateDir: string; readonly namespace: string; readonly pod: string; readonly container: string | undefined }
  | { readonly kind: 'local-label'; readonly stateDir: string; readonly target: LabelTarget; readonly changes: readonly LabelChange[]; readonly overwrite: boolean }
  | { readonly kind: 'local-scale'; readonly stateDir: string; readonly namespace: string; readonly name: string; readonly replicas: number }
  | { readonly kind: 'local-rollout-restart'; readonly stateDir: string; readonly namespace: string; readonly name: string }
  | { readonly kind: 'local-down'; readonly stateDir: string }
  | { readonly kind: 'local-apply'; readonly files: readonly string[]; readonly stateDir: string }
  | { readonly kind: 'local-delete'; readonly files: readonly string[]; readonly stateDir: string }
  | { readonly kind: 'local-status'; readonly stateDir: string; readonly output: 'short' | 'json' };

export type Parsed = { readonly ok: true; readonly command: Command } | { readonly ok: false; readonly error: string };

export const USAGE = `meshctl — the istioctl of a Weft mesh

Usage:
  meshctl local up [--nodes N] [--demo] [--state-dir DIR]
      Starts a local cluster in network namespaces (root): controlplane, and per node cni-node + ztunnel, as
      background processes; returns once all are ready. N is 1..16 (default 2). --demo also applies the demo
      apps (sleep and httpbin in namespace default, enrolled in ambient mode).
  meshctl local status [--state-dir DIR] [-o short|json]
      Nodes, processes (PID running?), readiness.
  meshctl local down [--state-dir DIR]
      Stops exactly the processes and deletes exactly the namespaces the cluster recorded; safe to repeat.
      DIR defaults to $WEFT_LOCAL_STATE, else /var/lib/weft/local.
  meshctl local apply -f FILE|DIR [-f ...] [--state-dir DIR]
      Applies manifests: Pods and Deployments are scheduled on a node, wired by the node's CNI chain and run as
      local programs; every other object goes to the controlplane's manifest directory.
  meshctl local delete -f FILE|DIR [-f ...] [--state-dir DIR]
      The reverse: stops the pods' programs, CNI DEL, removes their namespaces and the objects.
  meshctl local exec [-n NS] POD|deployment/NAME -- COMMAND [ARGS...]
      Runs COMMAND inside the pod (its network namespace, hosts and resolv.conf); exits with its status.
  meshctl local logs [-n NS] POD|deployment/NAME [-c CONTAINER]
      What the pod's program wrote to stdout and stderr.
  meshctl local label (ns|pod) NAME [-n NS] KEY=VALUE|KEY- ... [--overwrite]
      Changes labels live (the mesh reacts; nothing restarts).
  meshctl local scale deployment/NAME --replicas N [-n NS]
  meshctl local rollout restart deployment/NAME [-n NS]
      Resize a Deployment, or replace its pods (new ones Ready first, then the old ones go).
  meshctl ztunnel-config (workload|service|policy|certificate|all) [-o short|json|yaml]
                         [--admin-url URL | --node NODE [--state-dir DIR]]
      What a ztunnel holds, read from its admin /config_dump (default URL http://127.0.0.1:15000); --node reads
      the ztunnel of a local cluster's node. Alias: zc.
  meshctl waypoint apply [-n NS] [--name NAME] [--for service|workload|all|none] [--enroll-namespace] [--state-dir DIR]
      Deploys a waypoint for namespace NS (default "default") in the local cluster: the Gateway istioctl writes
      (class istio-waypoint, listener mesh 15008 HBONE); the cluster runs its Deployment. --enroll-namespace labels
      the namespace istio.io/use-waypoint=NAME.
  meshctl waypoint generate [-n NS] [--name NAME] [--for ...]
      Prints that Gateway.
  meshctl waypoint list [-n NS | -A] [--state-dir DIR]
  meshctl waypoint delete [NAME...] [-n NS] [--all] [--state-dir DIR]
  meshctl help
`;

const KINDS: readonly (ZtunnelConfigKind | 'all')[] = ['workload', 'service', 'policy', 'certificate', 'all'];
const ALIASES: Readonly<Record<string, ZtunnelConfigKind | 'all'>> = {
  workloads: 'workload',
  services: 'service',
  policies: 'policy',
  certificates: 'certificate',
  certs: 'certificate',
};

/** Reads the value of `--flag VALUE` or `--flag=VALUE` at `rest[i]`; returns it and the index of its last token. */
function flagValue(rest: readonly string[], i: number): { value: string | undefined; next: number } {
  const arg = rest[i] ?? '';
  if (arg.includes('=')) return { value: arg.slice(arg.indexOf('=') + 1), next: i };
  return { value: rest[i + 1], next: i + 1 };
}

const LOCAL_SUBCOMMANDS = ['up', 'down', 'status', 'apply', 'delete', 'exec', 'logs', 'label', 'scale', 'rollout'] as const;
type LocalSub = (typeof LOCAL_SUBCOMMANDS)[number];

/** Which flags (beyond --state-dir) each `local` subcommand takes. */
const LOCAL_FLAGS: Readonly<Record<LocalSub, readonly string[]>> = {
  up: ['--nodes', '--demo'],
  down: [],
  status: ['-o'],
  apply: ['-f'],
  delete: ['-f'],
  exec: ['-n'],
  logs: ['-n', '-c'],
  label: ['-n', '--overwrite'],
  scale: ['-n', '--replicas'],
  rollout: ['-n'],
};

const FLAG_ALIASES: Readonly<Record<string, string>> = { '--filename': '-f', '--output': '-o', '--namespace': '-n', '--container': '-c' };

/** `deployment/NAME`, `deploy/NAME` or `deployment NAME` → NAME. */
function deploymentName(positional: readonly string[], verb: string): { name: string } | { error: string } {
  const [first, second] = positional;
  if (first !== undefined && /^(deployment|deploy|deployments)\/./.test(first) && positional.length === 1) return { name: first.slice(first.indexOf('/') + 1) };
  if ((first === 'deployment' || first === 'deploy' || first === 'deployments') && second !== undefined && positional.length === 2) return { name: second };
  return { error: `local ${verb} needs deployment/NAME` };
}

function parseLocal(rest: readonly string[], env: Readonly<Record<string, string | undefined>>): Parsed {
  const [sub, ...all] = rest;
  if (sub === undefined || !(LOCAL_SUBCOMMANDS as readonly string[]).includes(sub)) {
    const list = `${LOCAL_SUBCOMMANDS.slice(0, -1).join(', ')} or ${LOCAL_SUBCOMMANDS[LOCAL_SUBCOMMANDS.length - 1] ?? ''}`;
    return { ok: false, error: sub === undefined ? `local needs ${list}` : `local has no "${sub}"; use ${list}` };
  }
  const verb = sub as LocalSub;
  // `exec ... -- COMMAND`: everything after `--` is the command.
  const dashes = all.indexOf('--');
  const args = verb === 'exec' && dashes >= 0 ? all.slice(0, dashes) : all;
  const command = verb === 'exec' && dashes >= 0 ? all.slice(dashes + 1) : [];
  const files: string[] = [];
  const positional: string[] = [];
  let nodes = 2;
  let demo = false;
  let overwrite = false;
  let stateDir = defaultStateDir(env);
  let output: 'short' | 'json' = 'short';
  let namespace = 'default';
  let container: string | undefined;
  let replicas: number | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    const raw = arg.startsWith('-') ? (arg.split('=')[0] ?? '') : '';
    const name = FLAG_ALIASES[raw] ?? raw;
    if (name === '') {
      positional.push(arg);
      continue;
    }
    if (name !== '--state-dir' && !LOCAL_FLAGS[verb].includes(name)) return { ok: false, error: `local ${verb}: unexpected argument "${arg}"` };
    if (name === '--demo') {
      demo = true;
      continue;
    }
    if (name === '--overwrite') {
      overwrite = true;
      continue;
    }
    const { value, next } = flagValue(args, i);
    i = next;
    if (name === '--nodes') {
      const n = Number(value);
      if (value === undefined || !/^\d+$/.test(value) || n < MIN_NODES || n > MAX_NODES) return { ok: false, error: `--nodes takes a number from ${MIN_NODES} to ${MAX_NODES}, not "${value ?? ''}"` };
      nodes = n;
    } else if (name === '--state-dir') {
      if (value === undefined || value === '') return { ok: false, error: '--state-dir takes a directory' };
      stateDir = value;
    } else if (name === '-f') {
      if (value === undefined || value === '') return { ok: false, error: '-f takes a file or directory' };
      files.push(value);
    } else if (name === '-o') {
      if (value !== 'short' && value !== 'json') return { ok: false, error: `-o takes short or json, not "${value ?? ''}"` };
      output = value;
    } else if (name === '-n') {
      if (value === undefined || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(value)) return { ok: false, error: `-n takes a namespace name, not "${value ?? ''}"` };
      namespace = value;
    } else if (name === '-c') {
      if (value === undefined || value === '') return { ok: false, error: '-c takes a container name' };
      container = value;
    } else if (name === '--replicas') {
      if (value === undefined || !/^\d+$/.test(value)) return { ok: false, error: `--replicas takes a whole number, not "${value ?? ''}"` };
      replicas = Number(value);
    }
  }
  switch (verb) {
    case 'up':
    case 'down':
    case 'status':
    case 'apply':
    case 'delete': {
      if (positional.length > 0) return { ok: false, error: `local ${verb}: unexpected argument "${positional[0] ?? ''}"` };
      if (verb === 'up') return { ok: true, command: { kind: 'local-up', nodes, stateDir, demo } };
      if (verb === 'down') return { ok: true, command: { kind: 'local-down', stateDir } };
      if (verb === 'status') return { ok: true, command: { kind: 'local-status', stateDir, output } };
      if (files.length === 0) return { ok: false, error: `local ${verb} needs -f FILE|DIR` };
      return { ok: true, command: verb === 'apply' ? { kind: 'local-apply', files, stateDir } : { kind: 'local-delete', files, stateDir } };
    }
    case 'exec': {
      if (positional.length !== 1) return { ok: false, error: 'local exec needs one POD (or deployment/NAME) before --' };
      if (command.length === 0) return { ok: false, error: 'local exec needs -- COMMAND [ARGS...]' };
      return { ok: true, command: { kind: 'local-exec', stateDir, namespace, pod: positional[0] ?? '', command } };
    }
    case 'logs': {
      if (positional.length !== 1) return { ok: false, error: 'local logs needs one POD (or deployment/NAME)' };
      return { ok: true, command: { kind: 'local-logs', stateDir, namespace, pod: positional[0] ?? '', container } };
    }
    case 'label': {
      const [kind, name, ...changeArgs] = positional;
      const isNs = kind === 'ns' || kind === 'namespace' || kind === 'namespaces';
      const isPod = kind === 'pod' || kind === 'pods' || kind === 'po';
      if (!isNs && !isPod) return { ok: false, error: `local label takes ns NAME or pod NAME, not "${kind ?? ''}"` };
      if (name === undefined) return { ok: false, error: `local label ${kind ?? ''} needs a NAME` };
      if (changeArgs.length === 0) return { ok: false, error: 'local label needs at least one KEY=VALUE or KEY-' };
      let changes: LabelChange[];
      try {
        changes = changeArgs.map(parseLabelChange);
      } catch (cause) {
        return { ok: false, error: cause instanceof Error ? cause.message : String(cause) };
      }
      const target: LabelTarget = isNs ? { kind: 'namespace', name } : { kind: 'pod', namespace, name };
      return { ok: true, command: { kind: 'local-label', stateDir, target, changes, overwrite } };
    }
    case 'scale': {
      const d = deploymentName(positional, 'scale');
      if ('error' in d) return { ok: false, error: d.error };
      if (replicas === undefined) return { ok: false, error: 'local scale needs --replicas N' };
      return { ok: true, command: { kind: 'local-scale', stateDir, namespace, name: d.name, replicas } };
    }
    case 'rollout': {
      const [action, ...target] = positional;
      if (action !== 'restart') return { ok: false, error: `local rollout supports restart, not "${action ?? ''}"` };
      const d = deploymentName(target, 'rollout restart');
      if ('error' in d) return { ok: false, error: d.error };
      return { ok: true, command: { kind: 'local-rollout-restart', stateDir, namespace, name: d.name } };
    }
  }
}

export function parseArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): Parsed {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') return { ok: true, command: { kind: 'help' } };
  if (command === 'local') return parseLocal(rest, env);
  if (command === 'waypoint' || command === 'wp') return parseWaypoint(rest, defaultStateDir(env));
  if (command !== 'ztunnel-config' && command !== 'zc') return { ok: false, error: `unknown command "${command}"` };
  let what: ZtunnelConfigKind | 'all' | undefined;
  let output: OutputFormat = 'short';
  let adminUrl = 'http://127.0.0.1:15000';
  let node: string | undefined;
  let stateDir = defaultStateDir(env);
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] ?? '';
    if (arg.startsWith('--node') || arg.startsWith('--state-dir')) {
      const { value, next } = flagValue(rest, i);
      i = next;
      if (value === undefined || value === '') return { ok: false, error: `${arg.split('=')[0] ?? ''} takes a value` };
      if (arg.startsWith('--node')) node = value;
      else stateDir = value;
      continue;
    }
    if (arg === '-o' || arg === '--output') {
      const value = rest[++i];
      if (value !== 'short' && value !== 'json' && value !== 'yaml') return { ok: false, error: `-o takes short, json or yaml, not "${value ?? ''}"` };
      output = value;
    } else if (arg.startsWith('--admin-url')) {
      const value = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : rest[++i];
      if (value === undefined || !/^https?:\/\//.test(value)) return { ok: false, error: '--admin-url takes an http(s) URL' };
      adminUrl = value.replace(/\/$/, '');
    } else if (what === undefined && !arg.startsWith('-')) {
      const kind = (KINDS as readonly string[]).includes(arg) ? (arg as ZtunnelConfigKind | 'all') : ALIASES[arg];
      if (kind === undefined) return { ok: false, error: `ztunnel-config has no "${arg}"; use one of ${KINDS.join(', ')}` };
      what = kind;
    } else {
      return { ok: false, error: `unexpected argument "${arg}"` };
    }
  }
  if (what === undefined) return { ok: false, error: `ztunnel-config needs one of ${KINDS.join(', ')}` };
  return { ok: true, command: { kind: 'ztunnel-config', what, output, adminUrl, ...(node === undefined ? {} : { node: { name: node, stateDir } }) } };
}
