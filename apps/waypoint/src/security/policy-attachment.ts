// Which targetRef-attached policies (AuthorizationPolicy, RequestAuthentication) a waypoint enforces for one request,
// following Istio's attachment rules for ambient (reference §6.2, §6.8). Selector policies belong to ztunnel.

import type { PolicyTargetRef } from '@weft/mesh-model';

/** Istio's default root namespace, where a GatewayClass-attached policy applies to every waypoint. */
export const DEFAULT_ROOT_NAMESPACE = 'istio-system';

/** The GatewayClass of Istio waypoints. */
export const WAYPOINT_GATEWAY_CLASS = 'istio-waypoint';

const GATEWAY_API_GROUP = 'gateway.networking.k8s.io';
const ISTIO_NETWORKING_GROUP = 'networking.istio.io';

export interface PolicyTarget {
  /** The waypoint's own Gateway. */
  readonly gateway: { readonly name: string; readonly namespace: string };
  /** The destination Service or ServiceEntry of the request, when the waypoint resolved one. */
  readonly service?: { readonly name: string; readonly namespace: string; readonly kind: 'Service' | 'ServiceEntry' };
}

/** A reference names an object in the policy's own namespace; Istio does not allow cross-namespace targetRefs. */
function refNamespace(ref: PolicyTargetRef, policyNamespace: string): string {
  return ref.namespace === '' ? policyNamespace : ref.namespace;
}

function refMatches(ref: PolicyTargetRef, policyNamespace: string, target: PolicyTarget, rootNamespace: string): boolean {
  if (refNamespace(ref, policyNamespace) !== policyNamespace) return false;
  switch (ref.kind) {
    case 'Gateway':
      return ref.group === GATEWAY_API_GROUP && ref.name === target.gateway.name && policyNamespace === target.gateway.namespace;
    case 'GatewayClass':
      return ref.group === GATEWAY_API_GROUP && ref.name === WAYPOINT_GATEWAY_CLASS && policyNamespace === rootNamespace;
    case 'Service':
      return (
        ref.group === '' &&
        target.service?.kind === 'Service' &&
        ref.name === target.service.name &&
        policyNamespace === target.service.namespace
      );
    case 'ServiceEntry':
      return (
        ref.group === ISTIO_NETWORKING_GROUP &&
        target.service?.kind === 'ServiceEntry' &&
        ref.name === target.service.name &&
        policyNamespace === target.service.namespace
      );
    default:
      return false;
  }
}

/**
 * Which policies a waypoint enforces for a request (reference §6.2): targetRefs to this waypoint's Gateway
 * (gateway.networking.k8s.io Gateway, same namespace), to the destination Service (core Service, same namespace as the
 * policy) or ServiceEntry (networking.istio.io), or to GatewayClass istio-waypoint from the root namespace
 * (istio-system). Selector policies never reach a waypoint. Order is kept; each policy appears at most once.
 */
export function policiesFor<T extends { readonly namespace: string; readonly targets: readonly PolicyTargetRef[] }>(
  all: readonly T[],
  target: PolicyTarget,
  rootNamespace: string = DEFAULT_ROOT_NAMESPACE,
): T[] {
  return all.filter((policy) => policy.targets.some((ref) => refMatches(ref, policy.namespace, target, rootNamespace)));
}
