// What kube-proxy and cluster DNS do in a real cluster, for the local one, as pure functions: the endpoints of each
// Service (Ready pods its selector matches, target ports resolved), the node's NAT rules that send a ClusterIP to
// them (so pods outside the mesh reach Services too — mesh pods' traffic is captured by ztunnel before it leaves the
// pod), and each pod's hosts file, so `httpbin`, `httpbin.default` and `httpbin.default.svc.cluster.local` resolve.

import { createHash } from 'node:crypto';

import type { KubeObject } from './manifests';

export const CLUSTER_DOMAIN = 'cluster.local';

/** Our chains in the node's nat table; PREROUTING/OUTPUT/POSTROUTING jump to them. */
export const SERVICES_CHAIN = 'WEFT-SERVICES';
export const POSTROUTING_CHAIN = 'WEFT-POSTROUTING';

export interface ServicePort {
  readonly name: string | undefined;
  readonly port: number;
  readonly protocol: string;
  /** A number, or a container port name resolved per pod. */
  readonly targetPort: number | string;
}

export interface ServiceInfo {
  readonly namespace: string;
  readonly name: string;
  readonly clusterIp: string | undefined;
  /** Undefined: a Service without selector (its endpoints are not managed here). */
  readonly selector: Readonly<Record<string, string>> | undefined;
  readonly ports: readonly ServicePort[];
}

export interface PodInfo {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly ip: string | undefined;
  readonly ready: boolean;
  /** Container port names → numbers, for named target ports. */
  readonly namedPorts: Readonly<Record<string, number>>;
}

export interface Endpoint {
  readonly ip: string;
  readonly port: number;
}

/** A Service manifest as the local cluster reads it; undefined for anything that is not one. */
export function serviceInfo(obj: KubeObject): ServiceInfo | undefined {
  if (obj.kind !== 'Service') return undefined;
  const spec = obj.spec ?? {};
  const clusterIp = typeof spec['clusterIP'] === 'string' && spec['clusterIP'] !== 'None' ? spec['clusterIP'] : undefined;
  const selector = typeof spec['selector'] === 'object' && spec['selector'] !== null ? (spec['selector'] as Record<string, string>) : undefined;
  const ports = (Array.isArray(spec['ports']) ? (spec['ports'] as Record<string, unknown>[]) : []).map((p) => {
    const port = Number(p['port']);
    const target = p['targetPort'];
    return {
      name: typeof p['name'] === 'string' ? p['name'] : undefined,
      port,
      protocol: typeof p['protocol'] === 'string' ? p['protocol'] : 'TCP',
      targetPort: typeof target === 'number' ? target : typeof target === 'string' && target !== '' ? (/^\d+$/.test(target) ? Number(target) : target) : port,
    };
  });
  return { namespace: obj.metadata?.namespace ?? 'default', name: obj.metadata?.name ?? '', clusterIp, selector, ports };
}

/** A Pod manifest (with the status the local kubelet wrote) as the local cluster reads it. */
export function podInfo(obj: KubeObject): PodInfo | undefined {
  if (obj.kind !== 'Pod') return undefined;
  const status = (obj['status'] ?? {}) as { podIP?: unknown; conditions?: { type?: unknown; status?: unknown }[] };
  const containers = (Array.isArray(obj.spec?.['containers']) ? obj.spec['containers'] : []) as { ports?: { name?: unknown; containerPort?: unknown }[] }[];
  const namedPorts: Record<string, number> = {};
  for (const c of containers) for (const p of c.ports ?? []) if (typeof p.name === 'string' && typeof p.containerPort === 'number') namedPorts[p.name] = p.containerPort;
  return {
    namespace: obj.metadata?.namespace ?? 'default',
    name: obj.metadata?.name ?? '',
    labels: obj.metadata?.labels ?? {},
    ip: typeof status.podIP === 'string' ? status.podIP : undefined,
    ready: (status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
    namedPorts,
  };
}

const selects = (selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>>): boolean =>
  Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);

/** The Ready endpoints of one port of a Service, sorted by address (a named target port a pod lacks: not an endpoint). */
export function endpointsOf(service: ServiceInfo, port: ServicePort, pods: readonly PodInfo[]): Endpoint[] {
  if (service.selector === undefined) return [];
  const selector = service.selector;
  const out: Endpoint[] = [];
  for (const pod of pods) {
    if (pod.namespace !== service.namespace || !pod.ready || pod.ip === undefined || !selects(selector, pod.labels)) continue;
    const target = typeof port.targetPort === 'number' ? port.targetPort : pod.namedPorts[port.targetPort];
    if (target !== undefined) out.push({ ip: pod.ip, port: target });
  }
  return out.sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : a.port - b.port));
}

const chainFor = (service: ServiceInfo, port: ServicePort): string =>
  `WEFT-SVC-${createHash('sha256').update(`${service.namespace}/${service.name}/${port.protocol}/${port.port}`).digest('hex').slice(0, 12).toUpperCase()}`;

/**
 * The nat-table input for `iptables-restore --noflush` in a node netns: every ClusterIP port spread evenly over its
 * endpoints (iptables' statistic match, as kube-proxy does), and masquerade for a pod that reaches a Service endpoint
 * on its own node (the reply would otherwise bypass the node and arrive from the pod address, not the ClusterIP).
 * Declaring a chain flushes it, so applying this replaces the previous rules and touches no other chain.
 */
export function natRules(services: readonly ServiceInfo[], pods: readonly PodInfo[], nodePodCidr: string): string {
  const chains: string[] = [SERVICES_CHAIN, POSTROUTING_CHAIN];
  const rules: string[] = [];
  const sorted = [...services].sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
  for (const service of sorted) {
    if (service.clusterIp === undefined) continue;
    for (const port of service.ports) {
      const protocol = port.protocol.toLowerCase();
      if (protocol !== 'tcp' && protocol !== 'udp') continue;
      const endpoints = endpointsOf(service, port, pods);
      if (endpoints.length === 0) continue;
      const chain = chainFor(service, port);
      chains.push(chain);
      rules.push(`-A ${SERVICES_CHAIN} -d ${service.clusterIp}/32 -p ${protocol} -m ${protocol} --dport ${port.port} -m comment --comment "${service.namespace}/${service.name}:${port.port}" -j ${chain}`);
      endpoints.forEach((ep, i) => {
        const remaining = endpoints.length - i;
        const pick = remaining > 1 ? `-m statistic --mode random --probability ${(1 / remaining).toFixed(11)} ` : '';
        rules.push(`-A ${chain} -p ${protocol} ${pick}-j DNAT --to-destination ${ep.ip}:${ep.port}`);
      });
    }
  }
  rules.push(`-A ${POSTROUTING_CHAIN} -s ${nodePodCidr} -d ${nodePodCidr} -m conntrack --ctstate DNAT -j MASQUERADE`);
  return ['*nat', ...chains.map((c) => `:${c} - [0:0]`), ...rules, 'COMMIT', ''].join('\n');
}

/** The jumps into our chains (checked with `-C`, added with `-A` once). */
export const NAT_JUMPS: readonly (readonly [string, string])[] = [
  ['PREROUTING', SERVICES_CHAIN],
  ['OUTPUT', SERVICES_CHAIN],
  ['POSTROUTING', POSTROUTING_CHAIN],
];

/** The names a Service answers to from a pod in `podNamespace`, longest first (short name only in its namespace). */
export function serviceNames(service: ServiceInfo, podNamespace: string): string[] {
  const fqdn = `${service.name}.${service.namespace}.svc.${CLUSTER_DOMAIN}`;
  const names = [fqdn, `${service.name}.${service.namespace}.svc`, `${service.name}.${service.namespace}`];
  if (service.namespace === podNamespace) names.push(service.name);
  return names;
}

/** A pod's /etc/hosts: itself, then every Service with a ClusterIP under the names a cluster's DNS would give it. */
export function hostsFile(pod: { readonly namespace: string; readonly name: string; readonly ip: string | undefined }, services: readonly ServiceInfo[]): string {
  const lines = ['# Kubernetes-managed hosts file (Weft local cluster).', '127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback'];
  if (pod.ip !== undefined) lines.push(`${pod.ip}\t${pod.name}`);
  const sorted = [...services].sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
  for (const service of sorted) if (service.clusterIp !== undefined) lines.push(`${service.clusterIp}\t${serviceNames(service, pod.namespace).join(' ')}`);
  return `${lines.join('\n')}\n`;
}

/** A pod's /etc/resolv.conf: the cluster's search path; no nameserver answers, so unknown names fail at once. */
export function resolvConf(podNamespace: string): string {
  return `search ${podNamespace}.svc.${CLUSTER_DOMAIN} svc.${CLUSTER_DOMAIN} ${CLUSTER_DOMAIN}\nnameserver 127.0.0.1\noptions ndots:5 timeout:1 attempts:1\n`;
}
