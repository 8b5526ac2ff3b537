// meshctl's command line as data: parse argv into one command or a usage error that says what was wrong.

import { defaultStateDir, MAX_NODES, MIN_NODES } from '@weft/local-cluster';

import type { ZtunnelConfigKind } from './ztunnel-config/tables';

export type OutputFormat = 'short' | 'json' | 'yaml';

export type Command =
  | { readonly kind: 'help' }
  | { readonly kind: 'ztunnel-config'; readonly what: ZtunnelConfigKind | 'all'; readonly output: OutputFormat; readonly adminUrl: string }
  | { readonly kind: 'local-up'; readonly nodes: number; readonly stateDir: string }
  | { readonly kind: 'local-down'; readonly stateDir: string }
  | { readonly kind: 'local-apply'; readonly files: readonly string[]; readonly stateDir: string }
  | { readonly kind: 'local-delete'; readonly files: readonly string[]; readonly stateDir: string }
  | { readonly kind: 'local-status'; readonly stateDir: string; readonly output: 'short' | 'json' };

export type Parsed = { readonly ok: true; readonly command: Command } | { readonly ok: false; readonly error: string };

export const USAGE = `meshctl — the istioctl of a Weft mesh

Usage:
  meshctl local up [--nodes N] [--state-dir DIR]
      Starts a local cluster in network namespaces (root): controlplane, and per node cni-node + ztunnel, as
      background processes; returns once all are ready. N is 1..16 (default 2).
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
  meshctl ztunnel-config (workload|service|policy|certificate|all) [-o short|json|yaml] [--admin-url URL]
      What a ztunnel holds, read from its admin /config_dump (default URL http://127.0.0.1:15000).
      Alias: zc.
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

function parseLocal(rest: readonly string[], env: Readonly<Record<string, string | undefined>>): Parsed {
  const [sub, ...args] = rest;
  if (sub !== 'up' && sub !== 'down' && sub !== 'status' && sub !== 'apply' && sub !== 'delete') {
    return { ok: false, error: sub === undefined ? 'local needs up, down, status, apply or delete' : `local has no "${sub}"; use up, down, status, apply or delete` };
  }
  const files: string[] = [];
  let nodes = 2;
  let stateDir = defaultStateDir(env);
  let output: 'short' | 'json' = 'short';
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    const name = arg.split('=')[0];
    if (name === '--nodes' && sub === 'up') {
      const { value, next } = flagValue(args, i);
      i = next;
      const n = Number(value);
      if (value === undefined || !/^\d+$/.test(value) || n < MIN_NODES || n > MAX_NODES) return { ok: false, error: `--nodes takes a number from ${MIN_NODES} to ${MAX_NODES}, not "${value ?? ''}"` };
      nodes = n;
    } else if (name === '--state-dir') {
      const { value, next } = flagValue(args, i);
      i = next;
      if (value === undefined || value === '') return { ok: false, error: '--state-dir takes a directory' };
      stateDir = value;
    } else if ((name === '-f' || name === '--filename') && (sub === 'apply' || sub === 'delete')) {
      const { value, next } = flagValue(args, i);
      i = next;
      if (value === undefined || value === '') return { ok: false, error: '-f takes a file or directory' };
      files.push(value);
    } else if ((name === '-o' || name === '--output') && sub === 'status') {
      const { value, next } = flagValue(args, i);
      i = next;
      if (value !== 'short' && value !== 'json') return { ok: false, error: `-o takes short or json, not "${value ?? ''}"` };
      output = value;
    } else {
      return { ok: false, error: `local ${sub}: unexpected argument "${arg}"` };
    }
  }
  if (sub === 'up') return { ok: true, command: { kind: 'local-up', nodes, stateDir } };
  if (sub === 'down') return { ok: true, command: { kind: 'local-down', stateDir } };
  if (sub === 'apply' || sub === 'delete') {
    if (files.length === 0) return { ok: false, error: `local ${sub} needs -f FILE|DIR` };
    return { ok: true, command: sub === 'apply' ? { kind: 'local-apply', files, stateDir } : { kind: 'local-delete', files, stateDir } };
  }
  return { ok: true, command: { kind: 'local-status', stateDir, output } };
}

export function parseArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): Parsed {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') return { ok: true, command: { kind: 'help' } };
  if (command === 'local') return parseLocal(rest, env);
  if (command !== 'ztunnel-config' && command !== 'zc') return { ok: false, error: `unknown command "${command}"` };
  let what: ZtunnelConfigKind | 'all' | undefined;
  let output: OutputFormat = 'short';
  let adminUrl = 'http://127.0.0.1:15000';
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] ?? '';
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
  return { ok: true, command: { kind: 'ztunnel-config', what, output, adminUrl } };
}
