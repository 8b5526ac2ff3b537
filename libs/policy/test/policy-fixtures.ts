// Builders shared by the policy specs: manifests as plain objects (what a YAML loader yields), parsed and carried
// through the same path production uses (parse → istiod conversion → compile → evaluate).

import type { Authorization } from '@weft/mesh-model';

import type { AuthorizationPolicy } from '../src/authorization-policy';
import { parseAuthorizationPolicy } from '../src/authorization-policy-parser';
import { compileL4, evaluateL4, type L4Connection, type L4Decision } from '../src/l4-evaluator';
import { compileL7, evaluateL7, type L7Decision } from '../src/l7-evaluator';
import type { L7Request } from '../src/l7-request-match';
import type { SpiffeIdentity } from '../src/match-core';
import { parsePeerAuthentication, type PeerAuthentication } from '../src/peer-authentication';
import { toZtunnelAuthorization, type ZtunnelConversionOptions } from '../src/ztunnel-conversion';

export interface ManifestOptions {
  readonly namespace?: string;
  readonly annotations?: Record<string, string>;
  readonly creationTimestamp?: string;
}

/** An AuthorizationPolicy manifest object. */
export function ap(name: string, spec: Record<string, unknown>, options: ManifestOptions = {}): Record<string, unknown> {
  return {
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: {
      name,
      namespace: options.namespace ?? 'default',
      ...(options.annotations === undefined ? {} : { annotations: options.annotations }),
    },
    spec,
  };
}

/** A PeerAuthentication manifest object. */
export function pa(name: string, spec: Record<string, unknown>, options: ManifestOptions = {}): Record<string, unknown> {
  return {
    apiVersion: 'security.istio.io/v1',
    kind: 'PeerAuthentication',
    metadata: {
      name,
      namespace: options.namespace ?? 'default',
      creationTimestamp: options.creationTimestamp ?? '2025-01-01T00:00:00Z',
    },
    spec,
  };
}

export function parsedPolicy(manifest: unknown): AuthorizationPolicy {
  const result = parseAuthorizationPolicy(manifest);
  if (!result.ok) throw new Error(`fixture does not parse: ${JSON.stringify(result.errors)}`);
  return result.value;
}

export function parsedPeerAuthentication(manifest: unknown): PeerAuthentication {
  const result = parsePeerAuthentication(manifest);
  if (!result.ok) throw new Error(`fixture does not parse: ${JSON.stringify(result.errors)}`);
  return result.value;
}

/** What istiod would push to ztunnel for these manifests. */
export function ztunnelAuthorizations(manifests: readonly unknown[], options: ZtunnelConversionOptions = {}): Authorization[] {
  return manifests
    .map((m) => toZtunnelAuthorization(parsedPolicy(m), options).authorization)
    .filter((a): a is Authorization => a !== undefined);
}

export const identity = (namespace: string, serviceAccount: string, trustDomain = 'cluster.local'): SpiffeIdentity => ({
  trustDomain,
  namespace,
  serviceAccount,
});

/** An mTLS connection from sleep (default/sleep) to httpbin's pod on target port 80. */
export function conn(overrides: Partial<L4Connection> = {}): L4Connection {
  return { srcIp: '10.0.0.5', dstIp: '10.0.1.7', dstPort: 80, srcIdentity: identity('default', 'sleep'), ...overrides };
}

/** Plaintext (15006): same connection without a peer identity. */
export function plaintext(overrides: Partial<L4Connection> = {}): L4Connection {
  const { srcIdentity: _dropped, ...rest } = conn(overrides);
  return rest;
}

/** Manifests → ztunnel → decision for one connection. */
export function decideL4(manifests: readonly unknown[], connection: L4Connection, extra: readonly Authorization[] = [], options: ZtunnelConversionOptions = {}): L4Decision {
  return evaluateL4(compileL4([...ztunnelAuthorizations(manifests, options), ...extra]), connection);
}

/** A GET from sleep through the waypoint to httpbin. */
export function req(overrides: Partial<L7Request> = {}): L7Request {
  return {
    method: 'GET',
    path: '/get',
    host: 'httpbin.default.svc.cluster.local',
    port: 8000,
    headers: {},
    sourceIp: '10.0.0.5',
    remoteIp: '10.0.0.5',
    sourcePrincipal: 'spiffe://cluster.local/ns/default/sa/sleep',
    destinationIp: '10.96.0.10',
    destinationPort: 8000,
    ...overrides,
  };
}

export function decideL7(manifests: readonly unknown[], request: L7Request): L7Decision {
  return evaluateL7(compileL7(manifests.map(parsedPolicy)), request);
}
