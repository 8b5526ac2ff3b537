// `meshctl ztunnel-config workload|service|policy|certificate`: the tables istioctl's `ztunnel-config` prints from
// ztunnel's /config_dump (reference §8.4), as pure functions over the dump's JSON.

import { formatTable } from './tabwriter';

type Json = unknown;

function record(value: Json): Readonly<Record<string, Json>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, Json>) : {};
}

function list(value: Json): readonly Json[] {
  return Array.isArray(value) ? value : [];
}

function text(value: Json): string {
  return typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : '';
}

/** A waypoint reference as istioctl shows it: the waypoint's name, or None. */
function waypointName(value: Json): string {
  const destination = text(record(value)['destination']);
  if (destination === '') return 'None';
  const [, target = destination] = destination.split('/');
  // `ns/waypoint.ns.svc.cluster.local` → `waypoint`; `network/10.0.0.1` → the address.
  return /^[0-9a-f.:]+$/i.test(target) ? target : (target.split('.')[0] ?? target);
}

export type ZtunnelConfigKind = 'workload' | 'service' | 'policy' | 'certificate';

export function workloadTable(dump: Json): string {
  const rows = list(record(dump)['workloads'])
    .map(record)
    .map((w) => [text(w['namespace']), text(w['name']), text(list(w['workloadIps'])[0]), text(w['node']), waypointName(w['waypoint']), text(w['protocol'])])
    .sort((a, b) => a.join('\u0000').localeCompare(b.join('\u0000')));
  return formatTable(['NAMESPACE', 'POD NAME', 'ADDRESS', 'NODE', 'WAYPOINT', 'PROTOCOL'], rows);
}

export function serviceTable(dump: Json): string {
  const healthy = new Map(list(record(dump)['workloads']).map(record).map((w) => [text(w['uid']), text(w['status']) === 'Healthy']));
  const rows = list(record(dump)['services'])
    .map(record)
    .map((s) => {
      const endpoints = Object.values(record(s['endpoints'])).map(record);
      const up = endpoints.filter((e) => healthy.get(text(e['workloadUid'])) === true).length;
      const vip = text(list(s['vips'])[0]).split('/').pop() ?? '';
      return [text(s['namespace']), text(s['name']), vip, waypointName(s['waypoint']), `${up}/${endpoints.length}`];
    })
    .sort((a, b) => a.join('\u0000').localeCompare(b.join('\u0000')));
  return formatTable(['NAMESPACE', 'SERVICE NAME', 'SERVICE VIP', 'WAYPOINT', 'ENDPOINTS'], rows);
}

export function policyTable(dump: Json): string {
  const rows = list(record(dump)['policies'])
    .map(record)
    .map((p) => [text(p['namespace']), text(p['name']), text(p['action']), text(p['scope'])])
    .sort((a, b) => a.join('\u0000').localeCompare(b.join('\u0000')));
  return formatTable(['NAMESPACE', 'POLICY NAME', 'ACTION', 'SCOPE'], rows);
}

export function certificateTable(dump: Json, now: Date = new Date()): string {
  const rows: string[][] = [];
  for (const certificate of list(record(dump)['certificates']).map(record)) {
    const state = text(certificate['state']);
    const entries = [
      ...list(certificate['certChain']).map((c, index) => ({ name: text(certificate['identity']), type: index === 0 ? 'Leaf' : 'Intermediate', cert: record(c) })),
      ...list(certificate['rootCerts']).map((c) => ({ name: 'ROOTCA', type: 'CA', cert: record(c) })),
    ];
    for (const { name, type, cert } of entries) {
      const notAfter = text(cert['expirationTime']);
      const notBefore = text(cert['validFrom']);
      const valid = Date.parse(notBefore) <= now.getTime() && now.getTime() < Date.parse(notAfter);
      rows.push([name, type, state, String(valid), text(cert['serialNumber']), notAfter, notBefore]);
    }
  }
  return formatTable(['CERTIFICATE NAME', 'TYPE', 'STATUS', 'VALID CERT', 'SERIAL NUMBER', 'NOT AFTER', 'NOT BEFORE'], rows);
}

export function ztunnelConfigTable(kind: ZtunnelConfigKind, dump: Json): string {
  switch (kind) {
    case 'workload':
      return workloadTable(dump);
    case 'service':
      return serviceTable(dump);
    case 'policy':
      return policyTable(dump);
    case 'certificate':
      return certificateTable(dump);
  }
}

/** The raw objects `-o json` prints for one kind. */
export function ztunnelConfigObjects(kind: ZtunnelConfigKind, dump: Json): readonly Json[] {
  const key = { workload: 'workloads', service: 'services', policy: 'policies', certificate: 'certificates' }[kind];
  return list(record(dump)[key]);
}
