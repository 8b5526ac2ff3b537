// Builders shared by the validation specs: a Kubernetes-shaped object of a kind, and messages as `code field`.

import type { KubeObject } from '../../src/kube-object';
import type { ValidationMessage } from '../../src/validate-reader';

const API_VERSIONS: Readonly<Record<string, string>> = {
  VirtualService: 'networking.istio.io/v1',
  DestinationRule: 'networking.istio.io/v1',
  ServiceEntry: 'networking.istio.io/v1',
  Gateway: 'gateway.networking.k8s.io/v1',
  HTTPRoute: 'gateway.networking.k8s.io/v1',
  RequestAuthentication: 'security.istio.io/v1',
  AuthorizationPolicy: 'security.istio.io/v1',
  PeerAuthentication: 'security.istio.io/v1',
  Service: 'v1',
  Pod: 'v1',
  Deployment: 'apps/v1',
};

export function kubeObject(kind: string, name: string, spec: unknown, meta: Partial<KubeObject['metadata']> = {}): KubeObject {
  return { apiVersion: API_VERSIONS[kind] ?? 'v1', kind, metadata: { name, namespace: 'default', ...meta }, spec };
}

/** `level code field` of each message, for exact table assertions. */
export function summary(messages: readonly ValidationMessage[]): string[] {
  return messages.map((m) => `${m.level} ${m.code} ${m.field}`);
}
