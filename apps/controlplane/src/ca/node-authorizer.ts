// Which identity a caller may get a certificate for: istiod's `node_auth.go` (reference §3.3 steps 2–3). Pure:
// pod placement is answered by an injected index, and a denial is a value whose reason the caller logs.

import { parseSpiffeId, type Identity } from '@weft/identity';

import type { Caller } from './caller-authenticator';
import { CaError } from './ca-error';

/**
 * istiod keeps an index keyed on `{node, ns/sa}`; the controlplane's config view implements this. `hasPod` is true
 * when at least one pod that is not in phase Failed, with that namespace and service account, is scheduled on `node`.
 */
export interface PodsOnNode {
  hasPod(node: string, namespace: string, serviceAccount: string): boolean;
}

/**
 * Optional: istiod looks the caller pod up and requires the same UID and service account before trusting its node.
 * Resolves the caller's node, or undefined when no such pod exists. Only consulted when the credential itself does
 * not name the node (manifest bootstrap tokens and node-bound Kubernetes tokens do).
 */
export interface CallerPods {
  nodeOf(namespace: string, podName: string, podUid: string, serviceAccount: string): string | undefined;
}

/** `CA_TRUSTED_NODE_ACCOUNTS` Helm default. */
export const DEFAULT_TRUSTED_NODE_ACCOUNTS: readonly string[] = ['istio-system/ztunnel'];

export interface NodeAuthorizerOptions {
  /** The mesh trust domain; an impersonated identity in any other domain is refused. */
  readonly trustDomain: string;
  /** `ns/sa` pairs allowed to impersonate. Empty disables impersonation, as istiod does. */
  readonly trustedNodeAccounts?: readonly string[];
  readonly podsOnNode: PodsOnNode;
  readonly callerPods?: CallerPods;
}

export type AuthorizationDecision =
  | { readonly allow: true; readonly identity: Identity; readonly impersonated: boolean }
  | { readonly allow: false; readonly reason: string };

export interface NodeAuthorizer {
  /** The identity to certify for `caller`, who may ask (`ImpersonatedIdentity`) for another one. */
  authorize(caller: Caller, impersonatedIdentity: string | undefined): AuthorizationDecision;
}

export function createNodeAuthorizer(options: NodeAuthorizerOptions): NodeAuthorizer {
  const trusted = new Set(
    (options.trustedNodeAccounts ?? DEFAULT_TRUSTED_NODE_ACCOUNTS).map((account) => {
      const [namespace, serviceAccount, ...rest] = account.split('/');
      if (!namespace || !serviceAccount || rest.length > 0) {
        const message = `trusted node account "${account}" is not "<namespace>/<serviceAccount>"`;
        throw new CaError('ERR_CA_CONFIG_INVALID', message, 'CA_TRUSTED_NODE_ACCOUNTS e.g. istio-system/ztunnel');
      }
      return account;
    }),
  );
  const deny = (reason: string): AuthorizationDecision => ({ allow: false, reason });

  return {
    authorize(caller, impersonatedIdentity) {
      const own = `${caller.namespace}/${caller.serviceAccount}`;
      // No impersonation: the SAN is the caller's own identity, in the mesh trust domain.
      if (impersonatedIdentity === undefined || impersonatedIdentity === '') {
        const { namespace, serviceAccount } = caller;
        const identity = { trustDomain: options.trustDomain, namespace, serviceAccount };
        return { allow: true, identity, impersonated: false };
      }
      if (trusted.size === 0) return deny(`${own} asked for ${impersonatedIdentity} but impersonation is disabled`);
      if (!trusted.has(own)) return deny(`${own} is not a trusted node account and may not impersonate`);

      const parsed = parseSpiffeId(impersonatedIdentity);
      if (!parsed.ok) return deny(`impersonated identity is invalid: ${parsed.error.message}`);
      const identity = parsed.value;
      if (identity.trustDomain !== options.trustDomain) {
        return deny(`impersonated identity ${impersonatedIdentity} is not in trust domain ${options.trustDomain}`);
      }

      const node = callerNode(caller, options.callerPods);
      if (node === undefined) {
        return deny(`the node of caller ${own} (pod ${caller.podName ?? '?'}) is unknown`);
      }
      // The heart of the node authorizer: a node proxy may only mint identities of pods on its own node.
      // Eventually consistent with scheduling; ztunnel retries with backoff.
      if (!options.podsOnNode.hasPod(node, identity.namespace, identity.serviceAccount)) {
        const wanted = `${identity.namespace}/${identity.serviceAccount}`;
        return deny(`no running pod with ${wanted} on node ${node} of caller ${own}`);
      }
      return { allow: true, identity, impersonated: true };
    },
  };
}

function callerNode(caller: Caller, pods: CallerPods | undefined): string | undefined {
  if (caller.nodeName !== undefined && caller.nodeName !== '') return caller.nodeName;
  if (pods === undefined || caller.podName === undefined || caller.podUid === undefined) return undefined;
  return pods.nodeOf(caller.namespace, caller.podName, caller.podUid, caller.serviceAccount);
}
