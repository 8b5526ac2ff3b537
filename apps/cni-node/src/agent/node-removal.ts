// Whether a stopping agent is being removed from its node or replaced (restart, upgrade), as istio-cni decides it:
// by its own DaemonSet. Gone or being deleted: removal, so the chained plugin and the node rules are cleaned up.
// Still there: a replacement, so they stay, and a pod created before the new agent runs fails its CNI ADD (the
// plugin cannot reach the agent; the kubelet retries) instead of starting unredirected. When the DaemonSet cannot be
// read, the agent does not clean up either: leaving the plugin is the safe side, and the next agent reconciles it.

import { statusCodeOf, type KubeApi } from '@weft/config-source';
import type { KubeObject } from '@weft/mesh-config';

export type DaemonSetLookup =
  | { readonly kind: 'found'; readonly object: KubeObject }
  | { readonly kind: 'absent' }
  | { readonly kind: 'unreadable'; readonly reason: string };

export interface ShutdownCleanup {
  readonly clean: boolean;
  readonly reason: string;
}

/** What a stopping agent does with its plugin and node rules, given what it read of its DaemonSet. */
export function shutdownCleanup(daemonSet: string, lookup: DaemonSetLookup | undefined): ShutdownCleanup {
  if (lookup === undefined) return { clean: true, reason: 'no DaemonSet to tell removal from restart (WEFT_CNI_DAEMONSET is empty)' };
  switch (lookup.kind) {
    case 'absent':
      return { clean: true, reason: `DaemonSet ${daemonSet} is gone: the agent is being removed from the node` };
    case 'found':
      return lookup.object.metadata.deletionTimestamp === undefined
        ? { clean: false, reason: `DaemonSet ${daemonSet} remains: a restart or upgrade, the next agent takes over the plugin` }
        : { clean: true, reason: `DaemonSet ${daemonSet} is being deleted: the agent is being removed from the node` };
    case 'unreadable':
      return { clean: false, reason: `DaemonSet ${daemonSet} could not be read (${lookup.reason}): leaving the plugin in place` };
  }
}

export const DAEMONSET_READ_ATTEMPTS = 3;
export const DAEMONSET_READ_BACKOFF_MS = 200;

/** Reads the DaemonSet, retrying failures other than 404 a few times. */
export async function lookUpDaemonSet(
  api: Pick<KubeApi, 'getObject'>,
  namespace: string,
  name: string,
  options: { readonly attempts?: number; readonly backoffMs?: number } = {},
): Promise<DaemonSetLookup> {
  const attempts = options.attempts ?? DAEMONSET_READ_ATTEMPTS;
  let reason = '';
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    try {
      const object = await api.getObject('apps/v1', 'DaemonSet', namespace, name);
      return object === undefined ? { kind: 'absent' } : { kind: 'found', object };
    } catch (cause) {
      const code = statusCodeOf(cause);
      reason = code === undefined ? String(cause) : `HTTP ${code}`;
      if (attempt < attempts) await new Promise((resolve) => setTimeout(resolve, (options.backoffMs ?? DAEMONSET_READ_BACKOFF_MS) * attempt));
    }
  }
  return { kind: 'unreadable', reason };
}
