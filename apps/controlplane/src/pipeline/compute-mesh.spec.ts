import type { KubeObject } from '@weft/mesh-config';

import { computeMesh, type MeshSettings } from './compute-mesh';

const settings: MeshSettings = {
  clusterId: 'Kubernetes',
  trustDomain: 'cluster.local',
  domainSuffix: 'cluster.local',
  rootNamespace: 'istio-system',
  network: '',
};

const policy = (spec: Record<string, unknown>): KubeObject => ({
  apiVersion: 'security.istio.io/v1',
  kind: 'AuthorizationPolicy',
  metadata: { name: 'p', namespace: 'default' },
  spec,
});
const good = policy({ action: 'DENY', rules: [{ to: [{ operation: { ports: ['9000'] } }] }] });
const bad = policy({ action: 'DENY', selector: { matchLabels: { a: 'b' } }, targetRefs: [{ kind: 'Service', group: '', name: 's' }] });
const key = 'AuthorizationPolicy/default/p';

describe('computeMesh', () => {
  it('serves a valid object and remembers it', () => {
    const result = computeMesh([good], new Map(), settings);
    expect(result.resources.authorizations.map((a) => a.name)).toEqual(['p']);
    expect(result.rejected.size).toBe(0);
    expect(result.lastGood.get(key)).toBe(good);
  });

  it('keeps serving the last good version of an object that turned invalid, and says so', () => {
    const first = computeMesh([good], new Map(), settings);
    const second = computeMesh([bad], first.lastGood, settings);
    expect(second.resources.authorizations).toEqual(first.resources.authorizations);
    expect(second.rejected).toEqual(new Map([[key, 'last-good']]));
    expect(second.problems).toContainEqual(expect.objectContaining({ key, level: 'error', stage: 'validation' }));
  });

  it('leaves out an invalid object with no good version, and forgets deleted ones', () => {
    const result = computeMesh([bad], new Map(), settings);
    expect(result.resources.authorizations).toEqual([]);
    expect(result.rejected).toEqual(new Map([[key, 'excluded']]));
    expect(computeMesh([], computeMesh([good], new Map(), settings).lastGood, settings).lastGood.size).toBe(0);
  });

  it('ties translation messages to their object key', () => {
    const pod: KubeObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'w', namespace: 'default', labels: { 'istio.io/use-waypoint': 'missing' } },
      spec: { nodeName: 'n' },
      status: { phase: 'Running', podIP: '10.0.0.1', conditions: [{ type: 'Ready', status: 'True' }] },
    };
    const result = computeMesh([pod], new Map(), settings);
    expect(result.problems).toContainEqual(expect.objectContaining({ key: 'Pod/default/w', stage: 'translation' }));
  });
});
