// The index the CA's node authorizer asks (istiod's `{node, ns/sa}` index in node_auth.go): which service
// accounts have a pod scheduled on which node, and which node a named caller pod runs on. Built from the Pods of
// a config snapshot; pure.

import type { KubeObject } from '@weft/mesh-config';

import type { CallerPods, PodsOnNode } from '../ca/node-authorizer';

export interface PodPlacement extends PodsOnNode, CallerPods {}

interface PodFacts {
  readonly node: string;
  readonly uid: string;
  readonly serviceAccount: string;
}

function field(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[name] : undefined;
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

export function indexPodPlacement(pods: readonly KubeObject[]): PodPlacement {
  const accounts = new Set<string>();
  const byName = new Map<string, PodFacts>();
  for (const pod of pods) {
    if (pod.kind !== 'Pod') continue;
    // Failed pods no longer hold their node's trust (istiod skips them too); pending ones on a node do.
    if (text(field(pod.status, 'phase')) === 'Failed') continue;
    const node = text(field(pod.spec, 'nodeName'));
    if (node === '') continue;
    const namespace = pod.metadata.namespace ?? 'default';
    const serviceAccount = text(field(pod.spec, 'serviceAccountName')) || 'default';
    accounts.add(`${node}\u0000${namespace}\u0000${serviceAccount}`);
    byName.set(`${namespace}/${pod.metadata.name}`, { node, uid: pod.metadata.uid ?? '', serviceAccount });
  }
  return {
    hasPod: (node, namespace, serviceAccount) => accounts.has(`${node}\u0000${namespace}\u0000${serviceAccount}`),
    nodeOf(namespace, podName, podUid, serviceAccount) {
      const facts = byName.get(`${namespace}/${podName}`);
      if (facts === undefined || facts.serviceAccount !== serviceAccount) return undefined;
      if (facts.uid !== '' && facts.uid !== podUid) return undefined;
      return facts.node;
    },
  };
}
