// meshctl's command line as data: parse argv into one command or a usage error that says what was wrong.

import type { ZtunnelConfigKind } from './ztunnel-config/tables';

export type OutputFormat = 'short' | 'json' | 'yaml';

export type Command =
  | { readonly kind: 'help' }
  | { readonly kind: 'ztunnel-config'; readonly what: ZtunnelConfigKind | 'all'; readonly output: OutputFormat; readonly adminUrl: string };

export type Parsed = { readonly ok: true; readonly command: Command } | { readonly ok: false; readonly error: string };

export const USAGE = `meshctl — the istioctl of a Weft mesh

Usage:
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

export function parseArgs(argv: readonly string[]): Parsed {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') return { ok: true, command: { kind: 'help' } };
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
