// Test-only stand-in for a cluster that has applied the guide manifests: the Deployment and ReplicaSet controllers
// become deterministic Pods, the API server assigns ClusterIPs, the CNI agent annotates ambient pods and istiod's
// gateway controller deploys each waypoint. Not a real cluster: it fakes what the controllers would write.

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { parseAllDocuments } from 'yaml';

import type { KubeObject } from '../../src/kube-object';

export const GUIDE_DIR = join(__dirname, 'guide-manifests');

type Json = Record<string, unknown>;

export function readManifests(dir: string = GUIDE_DIR): KubeObject[] {
  const objects: KubeObject[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()) {
    for (const doc of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
      const value: unknown = doc.toJSON();
      if (value !== null && typeof value === 'object') objects.push(value as KubeObject);
    }
  }
  return objects;
}

/** Deterministic stand-in for the ReplicaSet's pod-template-hash. */
function templateHash(namespace: string, name: string): string {
  return createHash('sha256').update(`${namespace}/${name}`).digest('hex').slice(0, 9);
}

const NODES = ['node-a', 'node-b'];

function nodes(): KubeObject[] {
  return NODES.map((name, i) => ({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'topology.kubernetes.io/region': 'region-1', 'topology.kubernetes.io/zone': `zone-${i + 1}` } },
  }));
}

/** §5.1: ambient if the pod opts in, or its namespace does and the pod does not opt out. */
function isAmbient(podLabels: Json, namespace: KubeObject | undefined): boolean {
  const mode = podLabels['istio.io/dataplane-mode'];
  if (mode === 'ambient') return true;
  return namespace?.metadata.labels?.['istio.io/dataplane-mode'] === 'ambient' && mode !== 'none';
}

interface Counter {
  next: number;
}

function podsOf(deployment: KubeObject, namespaces: ReadonlyMap<string, KubeObject>, ips: Counter): KubeObject[] {
  const namespace = deployment.metadata.namespace ?? 'default';
  const spec = deployment.spec as Json;
  const template = (spec['template'] ?? {}) as Json;
  const templateMeta = (template['metadata'] ?? {}) as Json;
  const hash = templateHash(namespace, deployment.metadata.name);
  const labels = { ...((templateMeta['labels'] ?? {}) as Record<string, string>), 'pod-template-hash': hash };
  const replicas = typeof spec['replicas'] === 'number' ? spec['replicas'] : 1;
  const pods: KubeObject[] = [];
  for (let i = 0; i < replicas; i++) {
    const ip = `10.244.0.${ips.next++}`;
    const annotations = isAmbient(labels, namespaces.get(namespace)) ? { 'ambient.istio.io/redirection': 'enabled' } : undefined;
    pods.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `${deployment.metadata.name}-${hash}-${i}`,
        namespace,
        labels,
        ...(annotations === undefined ? {} : { annotations }),
        ownerReferences: [{ kind: 'ReplicaSet', name: `${deployment.metadata.name}-${hash}` }],
      },
      spec: { ...((template['spec'] ?? {}) as Json), nodeName: NODES[i % NODES.length] },
      status: { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: 'True' }] },
    });
  }
  return pods;
}

/** What istiod's gateway controller deploys for a waypoint (template `waypoint.yaml`): a Deployment and a Service. */
function waypointResources(gateway: KubeObject): KubeObject[] {
  const name = gateway.metadata.name;
  const labels = { 'gateway.networking.k8s.io/gateway-name': name, 'gateway.istio.io/managed': 'istio.io-mesh-controller' };
  const deployment: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: gateway.metadata.namespace ?? 'default', labels },
    spec: {
      replicas: 1,
      template: {
        // The template keeps waypoint pods out of ambient redirection.
        metadata: { labels: { ...labels, 'istio.io/dataplane-mode': 'none' } },
        spec: { serviceAccountName: name, containers: [{ name: 'istio-proxy', ports: [{ containerPort: 15008, name: 'mesh' }] }] },
      },
    },
  };
  const service: KubeObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: gateway.metadata.namespace ?? 'default', labels },
    spec: { selector: { 'gateway.networking.k8s.io/gateway-name': name }, ports: [{ name: 'mesh', port: 15008 }] },
  };
  return [deployment, service];
}

export interface GuideClusterOptions {
  /** `istioctl waypoint apply --namespace default --enroll-namespace`: label `default` with `istio.io/use-waypoint`. */
  readonly enrollWaypoint?: boolean;
}

/**
 * The guides' manifests as a cluster would hold them: `default` labelled ambient as the guides tell users to
 * (`test-app` already is, in 04), Deployments expanded into Ready Pods, ClusterIPs assigned in order.
 */
export function guideCluster(options: GuideClusterOptions = {}, manifests: readonly KubeObject[] = readManifests()): KubeObject[] {
  const given = manifests.filter((o) => o.kind !== 'Namespace');
  const defaultLabels: Record<string, string> = { 'istio.io/dataplane-mode': 'ambient' };
  if (options.enrollWaypoint === true) defaultLabels['istio.io/use-waypoint'] = 'waypoint';
  const namespaces = new Map<string, KubeObject>([
    ['default', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default', labels: defaultLabels } }],
  ]);
  for (const ns of manifests.filter((o) => o.kind === 'Namespace')) namespaces.set(ns.metadata.name, ns);
  const withControllers = [
    ...given,
    ...given.filter((o) => o.kind === 'Gateway' && (o.spec as Json)['gatewayClassName'] === 'istio-waypoint').flatMap(waypointResources),
  ];
  const ips: Counter = { next: 10 };
  const vips: Counter = { next: 10 };
  const objects: KubeObject[] = [...namespaces.values(), ...nodes()];
  for (const object of withControllers) {
    if (object.kind === 'Deployment') {
      objects.push(object, ...podsOf(object, namespaces, ips));
    } else if (object.kind === 'Service' && (object.spec as Json)['clusterIP'] === undefined) {
      const ip = `10.96.0.${vips.next++}`;
      objects.push({ ...object, spec: { ...(object.spec as Json), clusterIP: ip, clusterIPs: [ip], ipFamilies: ['IPv4'] } });
    } else {
      objects.push(object);
    }
  }
  return objects;
}
