// `meshctl waypoint apply|generate|list|delete`, istioctl's flags (reference §7.1), parsed into one command.

import type { WaypointFor } from '@weft/mesh-config';

export type WaypointCommand =
  | { readonly kind: 'waypoint-apply'; readonly namespace: string; readonly name: string; readonly for?: WaypointFor; readonly enrollNamespace: boolean; readonly stateDir: string }
  | { readonly kind: 'waypoint-generate'; readonly namespace: string; readonly name: string; readonly for?: WaypointFor }
  | { readonly kind: 'waypoint-list'; readonly namespace: string | undefined; readonly stateDir: string }
  | { readonly kind: 'waypoint-delete'; readonly namespace: string; readonly names: readonly string[]; readonly all: boolean; readonly stateDir: string };

export type WaypointParsed = { readonly ok: true; readonly command: WaypointCommand } | { readonly ok: false; readonly error: string };

const FOR_VALUES: readonly WaypointFor[] = ['service', 'workload', 'all', 'none'];
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function parseWaypoint(args: readonly string[], defaultStateDir: string): WaypointParsed {
  const [verb, ...rest] = args;
  if (verb !== 'apply' && verb !== 'generate' && verb !== 'list' && verb !== 'delete') {
    return { ok: false, error: verb === undefined ? 'waypoint needs apply, generate, list or delete' : `waypoint has no "${verb}"; use apply, generate, list or delete` };
  }
  let namespace: string | undefined;
  let name = 'waypoint';
  let waypointFor: WaypointFor | undefined;
  let enrollNamespace = false;
  let allNamespaces = false;
  let all = false;
  let stateDir = defaultStateDir;
  const positional: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] ?? '';
    const eq = arg.indexOf('=');
    const flag = arg.startsWith('-') ? (eq > 0 ? arg.slice(0, eq) : arg) : '';
    const value = (): string | undefined => (eq > 0 ? arg.slice(eq + 1) : rest[++i]);
    if (flag === '') positional.push(arg);
    else if (flag === '-n' || flag === '--namespace') {
      const v = value();
      if (v === undefined || !DNS_LABEL.test(v)) return { ok: false, error: `${flag} takes a namespace name, not "${v ?? ''}"` };
      namespace = v;
    } else if ((flag === '--name' || flag === '-N') && verb !== 'list' && verb !== 'delete') {
      const v = value();
      if (v === undefined || !DNS_LABEL.test(v)) return { ok: false, error: `--name takes a DNS label, not "${v ?? ''}"` };
      if (v === 'none') return { ok: false, error: '"none" is reserved (istio.io/use-waypoint: none opts out of a waypoint); choose another --name' };
      name = v;
    } else if (flag === '--for' && (verb === 'apply' || verb === 'generate')) {
      const v = value();
      if (v === undefined || !(FOR_VALUES as readonly string[]).includes(v)) return { ok: false, error: `--for takes ${FOR_VALUES.join(', ')}, not "${v ?? ''}"` };
      waypointFor = v as WaypointFor;
    } else if (flag === '--enroll-namespace' && verb === 'apply') enrollNamespace = true;
    else if ((flag === '-A' || flag === '--all-namespaces') && verb === 'list') allNamespaces = true;
    else if (flag === '--all' && verb === 'delete') all = true;
    else if (flag === '--state-dir' && verb !== 'generate') {
      const v = value();
      if (v === undefined || v === '') return { ok: false, error: '--state-dir takes a directory' };
      stateDir = v;
    } else return { ok: false, error: `waypoint ${verb}: unexpected argument "${arg}"` };
  }
  const ns = namespace ?? 'default';
  const extra = (): WaypointParsed => ({ ok: false, error: `waypoint ${verb}: unexpected argument "${positional[0] ?? ''}"` });
  switch (verb) {
    case 'apply':
      if (positional.length > 0) return extra();
      return { ok: true, command: { kind: 'waypoint-apply', namespace: ns, name, ...(waypointFor === undefined ? {} : { for: waypointFor }), enrollNamespace, stateDir } };
    case 'generate':
      if (positional.length > 0) return extra();
      return { ok: true, command: { kind: 'waypoint-generate', namespace: ns, name, ...(waypointFor === undefined ? {} : { for: waypointFor }) } };
    case 'list':
      if (positional.length > 0) return extra();
      return { ok: true, command: { kind: 'waypoint-list', namespace: allNamespaces ? undefined : ns, stateDir } };
    case 'delete':
      if (all && positional.length > 0) return { ok: false, error: 'waypoint delete takes names or --all, not both' };
      return { ok: true, command: { kind: 'waypoint-delete', namespace: ns, names: all ? [] : positional.length > 0 ? positional : ['waypoint'], all, stateDir } };
  }
}
