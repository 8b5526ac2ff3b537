// Small builders of Kubernetes-shaped objects for the translation's unit tests.

import type { KubeObject, KubeObjectMeta } from '../../src/kube-object';

type Meta = Partial<KubeObjectMeta>;

export function namespace(name: string, labels: Record<string, string> = {}, annotations?: Record<string, string>): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels, ...(annotations === undefined ? {} : { annotations }) } };
}

export function node(name: string, labels: Record<string, string> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name, labels } };
}

export interface PodOptions {
  readonly ip?: string | null;
  readonly ready?: boolean;
  readonly phase?: string;
  readonly spec?: Record<string, unknown>;
}

export function pod(name: string, meta: Meta = {}, options: PodOptions = {}): KubeObject {
  const ip = options.ip === undefined ? '10.0.0.1' : options.ip;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace: 'default', ...meta, name },
    spec: { containers: [{ name: 'app' }], ...options.spec },
    status: {
      phase: options.phase ?? 'Running',
      ...(ip === null ? {} : { podIP: ip }),
      conditions: [{ type: 'Ready', status: options.ready === false ? 'False' : 'True' }],
    },
  };
}

export function service(name: string, spec: Record<string, unknown>, meta: Meta = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'default', ...meta, name }, spec };
}

export function waypointGateway(name: string, meta: Meta = {}, extra: { status?: unknown; listeners?: unknown[] } = {}): KubeObject {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { namespace: 'default', ...meta, name },
    spec: { gatewayClassName: 'istio-waypoint', listeners: extra.listeners ?? [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] },
    ...(extra.status === undefined ? {} : { status: extra.status }),
  };
}

/** A Ready waypoint pod, as the gateway controller deploys it. */
export function waypointPod(gateway: string, ns = 'default'): KubeObject {
  return pod(`${gateway}-abc-0`, { namespace: ns, labels: { 'gateway.networking.k8s.io/gateway-name': gateway } }, { ip: '10.0.9.9' });
}

export function authorizationPolicy(name: string, spec: Record<string, unknown>, meta: Meta = {}): KubeObject {
  return { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { namespace: 'default', ...meta, name }, spec };
}

export function peerAuthentication(name: string, spec: Record<string, unknown>, meta: Meta = {}): KubeObject {
  return { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { namespace: 'default', ...meta, name }, spec };
}
