import type { KubeObject } from '@weft/mesh-config';

import { lookUpDaemonSet, shutdownCleanup, type DaemonSetLookup } from './node-removal';

const daemonSet = (deletionTimestamp?: string): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  metadata: { name: 'istio-cni-node', namespace: 'istio-system', ...(deletionTimestamp === undefined ? {} : { deletionTimestamp }) },
});

describe('shutdownCleanup', () => {
  it.each<[string, DaemonSetLookup | undefined, boolean]>([
    ['no DaemonSet configured (the local cluster): clean up', undefined, true],
    ['the DaemonSet is gone (uninstall): clean up', { kind: 'absent' }, true],
    ['the DaemonSet is being deleted: clean up', { kind: 'found', object: daemonSet('2026-12-02T00:00:00Z') }, true],
    ['the DaemonSet remains (restart, rolling upgrade): keep the plugin', { kind: 'found', object: daemonSet() }, false],
    ['the DaemonSet cannot be read: keep the plugin', { kind: 'unreadable', reason: 'HTTP 503' }, false],
  ])('%s', (_name, lookup, clean) => {
    const decision = shutdownCleanup('istio-cni-node', lookup);
    expect(decision.clean).toBe(clean);
    expect(decision.reason).not.toBe('');
  });
});

describe('lookUpDaemonSet', () => {
  const failing = (code: number) => Object.assign(new Error(`HTTP ${code}`), { code });

  it('reads the DaemonSet by name in the agent namespace', async () => {
    const calls: string[] = [];
    const lookup = await lookUpDaemonSet({ getObject: async (...args) => (calls.push(args.join(' ')), daemonSet()) }, 'istio-system', 'istio-cni-node');
    expect(lookup).toEqual({ kind: 'found', object: daemonSet() });
    expect(calls).toEqual(['apps/v1 DaemonSet istio-system istio-cni-node']);
  });

  it('reports a missing DaemonSet as absent', async () => {
    expect(await lookUpDaemonSet({ getObject: async () => undefined }, 'istio-system', 'istio-cni-node')).toEqual({ kind: 'absent' });
  });

  it('retries a failing read, and reports it unreadable when every attempt fails', async () => {
    let calls = 0;
    const api = {
      getObject: async (): Promise<KubeObject | undefined> => {
        calls += 1;
        throw failing(503);
      },
    };
    expect(await lookUpDaemonSet(api, 'istio-system', 'istio-cni-node', { attempts: 3, backoffMs: 1 })).toEqual({ kind: 'unreadable', reason: 'HTTP 503' });
    expect(calls).toBe(3);
  });

  it('takes the answer of a retry that succeeds', async () => {
    let calls = 0;
    const api = {
      getObject: async (): Promise<KubeObject | undefined> => {
        calls += 1;
        if (calls === 1) throw failing(500);
        return daemonSet();
      },
    };
    expect((await lookUpDaemonSet(api, 'istio-system', 'istio-cni-node', { backoffMs: 1 })).kind).toBe('found');
  });
});
