// Checks that need several objects: a policy port that names a Service port instead of the workload's target port,
// VirtualService and HTTPRoute routing one service, and several VirtualServices for one host. They run on objects
// that passed their own checks. Workload labels come from Pods and from workload controllers' pod templates
// (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job), so manifests without running Pods are checked too.

import type { KubeObject } from './kube-object';
import { isPlainObject, type PlainObject, type ValidationMessage } from './validate-reader';

export interface CrossObjectOptions {
  readonly defaultNamespace?: string;
  /** Kubernetes cluster domain for FQDN hosts (`reviews.default.svc.cluster.local`). */
  readonly clusterDomain?: string;
}

const TEMPLATE_KINDS: readonly string[] = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job'];

const rec = (v: unknown): PlainObject => (isPlainObject(v) ? v : {});
const list = (v: unknown): readonly unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const labels = (v: unknown): Record<string, string> =>
  Object.fromEntries(Object.entries(rec(v)).filter((e): e is [string, string] => typeof e[1] === 'string'));
const covers = (have: Readonly<Record<string, string>>, want: Readonly<Record<string, string>>): boolean =>
  Object.entries(want).every(([k, v]) => have[k] === v);

interface Workload {
  readonly labels: Record<string, string>;
  /** Named container ports, to resolve a Service's named targetPort. */
  readonly namedPorts: ReadonlyMap<string, number>;
}

function workloadOf(object: KubeObject): Workload | undefined {
  let pod: PlainObject;
  if (object.kind === 'Pod') pod = { metadata: object.metadata, spec: object.spec };
  else if (TEMPLATE_KINDS.includes(object.kind)) pod = rec(rec(object.spec)['template']);
  else return undefined;
  const namedPorts = new Map<string, number>();
  for (const container of list(rec(pod['spec'])['containers'])) {
    for (const port of list(rec(container)['ports'])) {
      const name = str(rec(port)['name']);
      const number = rec(port)['containerPort'];
      if (name !== undefined && typeof number === 'number') namedPorts.set(name, number);
    }
  }
  return { labels: labels(rec(pod['metadata'])['labels']), namedPorts };
}

function byAge(a: KubeObject, b: KubeObject): number {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  return a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0;
}

function message(level: ValidationMessage['level'], code: string, object: string, field: string, text: string): ValidationMessage {
  return { level, code, object, field, message: text };
}

/** Cross-object messages for `objects` (already individually valid). */
export function validateCrossObject(input: readonly KubeObject[], options: CrossObjectOptions = {}): ValidationMessage[] {
  // Malformed objects are validateObject's to report; here they are skipped so nothing throws.
  const objects = input.filter((o) => isPlainObject(o) && typeof o.kind === 'string' && typeof o.apiVersion === 'string' &&
    isPlainObject(o.metadata) && typeof o.metadata.name === 'string');
  const nsOf = (o: KubeObject): string => o.metadata.namespace ?? options.defaultNamespace ?? 'default';
  const label = (o: KubeObject): string => `${o.kind} ${nsOf(o)}/${o.metadata.name}`;
  return [
    ...servicePortPolicies(objects, nsOf, label),
    ...routingConflicts(objects, nsOf, label, options.clusterDomain ?? 'cluster.local'),
  ];
}

function servicePortPolicies(objects: readonly KubeObject[], nsOf: (o: KubeObject) => string, label: (o: KubeObject) => string): ValidationMessage[] {
  const out: ValidationMessage[] = [];
  for (const policy of objects.filter((o) => o.kind === 'AuthorizationPolicy')) {
    const spec = rec(policy.spec);
    const selectorLabels = labels(rec(spec['selector'])['matchLabels']);
    if (Object.keys(selectorLabels).length === 0) continue;
    const ns = nsOf(policy);
    const workloads = objects
      .filter((o) => nsOf(o) === ns)
      .map(workloadOf)
      .filter((w): w is Workload => w !== undefined && covers(w.labels, selectorLabels));
    // Any pod the policy selects carries at least its selector labels, so those stand in for a pod too.
    const labelSets = [selectorLabels, ...workloads.map((w) => w.labels)];
    const servicePorts = new Map<number, { service: string; target: number }>();
    const targetPorts = new Set<number>();
    for (const service of objects.filter((o) => o.kind === 'Service' && nsOf(o) === ns)) {
      const selector = labels(rec(service.spec)['selector']);
      if (Object.keys(selector).length === 0 || !labelSets.some((l) => covers(l, selector))) continue;
      for (const raw of list(rec(service.spec)['ports'])) {
        const port = rec(raw)['port'];
        if (typeof port !== 'number') continue;
        const targetRaw = rec(raw)['targetPort'];
        const target = targetRaw === undefined ? port
          : typeof targetRaw === 'number' ? targetRaw
          : typeof targetRaw === 'string' ? workloads.map((w) => w.namedPorts.get(targetRaw)).find((p) => p !== undefined) ?? (/^[0-9]+$/.test(targetRaw) ? Number(targetRaw) : undefined)
          : undefined;
        if (target === undefined) continue;
        targetPorts.add(target);
        if (!servicePorts.has(port)) servicePorts.set(port, { service: service.metadata.name, target });
      }
    }
    list(spec['rules']).forEach((rule, i) => {
      list(rec(rule)['to']).forEach((to, j) => {
        list(rec(rec(to)['operation'])['ports']).forEach((value, k) => {
          const port = typeof value === 'string' && /^[0-9]+$/.test(value) ? Number(value) : undefined;
          const hit = port === undefined ? undefined : servicePorts.get(port);
          if (port === undefined || hit === undefined || targetPorts.has(port)) return;
          out.push(message('warning', 'WARN_AUTHZ_SERVICE_PORT', label(policy), `spec.rules[${i}].to[${j}].operation.ports[${k}]`,
            `port ${port} is a Service port of ${hit.service} (${ns}/${hit.service}); Istio matches the workload's target port, so this rule will not match — use port ${hit.target}`));
        });
      });
    });
  }
  return out;
}

interface HostUse {
  readonly object: KubeObject;
  readonly field: string;
  /** `namespace/name` of a Kubernetes Service, or `namespace/host` for other hosts. */
  readonly key: string;
  readonly isService: boolean;
}

function routingConflicts(objects: readonly KubeObject[], nsOf: (o: KubeObject) => string, label: (o: KubeObject) => string, domain: string): ValidationMessage[] {
  const uses: HostUse[] = [];
  for (const object of objects) {
    const spec = rec(object.spec);
    const ns = nsOf(object);
    if (object.kind === 'VirtualService' && object.apiVersion.startsWith('networking.istio.io/')) {
      const gateways = list(spec['gateways']);
      if (gateways.length > 0 && !gateways.includes('mesh')) continue; // gateway-only routes are not the mesh's
      list(spec['hosts']).forEach((host, i) => {
        if (typeof host !== 'string' || host.includes('*')) return;
        const parts = host.split('.');
        const service = parts.length === 1 ? `${ns}/${host}`
          : parts[2] === 'svc' && parts.slice(3).join('.') === domain && parts.length > 3 ? `${parts[1] ?? ''}/${parts[0] ?? ''}` : undefined;
        uses.push({ object, field: `spec.hosts[${i}]`, key: service ?? `${ns}/${host}`, isService: service !== undefined });
      });
    } else if (object.kind === 'HTTPRoute') {
      list(spec['parentRefs']).forEach((raw, i) => {
        const ref = rec(raw);
        const group = str(ref['group']) ?? 'gateway.networking.k8s.io';
        if (ref['kind'] !== 'Service' || group !== '' || typeof ref['name'] !== 'string') return;
        uses.push({ object, field: `spec.parentRefs[${i}]`, key: `${str(ref['namespace']) ?? ns}/${ref['name']}`, isService: true });
      });
    }
  }
  const out: ValidationMessage[] = [];
  for (const key of new Set(uses.map((u) => u.key))) {
    const forKey = uses.filter((u) => u.key === key).sort((a, b) => byAge(a.object, b.object));
    const oldest = forKey[0];
    if (oldest === undefined) continue;
    for (const use of forKey.slice(1)) {
      if (use.object === oldest.object) continue;
      if (use.object.kind !== oldest.object.kind && use.isService && oldest.isService) {
        out.push(message('error', 'ERR_MIXED_VS_HTTPROUTE', label(use.object), use.field,
          `mixing VirtualService and HTTPRoute for the same service is not supported: Service ${key} is already routed by ${label(oldest.object)}, created earlier; use one of them`));
      } else if (use.object.kind === 'VirtualService' && oldest.object.kind === 'VirtualService') {
        out.push(message('warning', 'WARN_VS_DUPLICATE_HOST', label(use.object), use.field,
          `host ${key.slice(key.indexOf('/') + 1)} is also routed by ${label(oldest.object)}, which is older; only the oldest VirtualService for a host applies, so this one is ignored — combine their http routes into one VirtualService`));
      }
    }
  }
  return out;
}
