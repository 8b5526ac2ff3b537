import type { KubeObject } from '@weft/mesh-config';

import { indexPodPlacement } from './pods-on-node';

const pod = (name: string, node: string, sa: string, phase = 'Running', uid?: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', ...(uid === undefined ? {} : { uid }) },
  spec: { nodeName: node, serviceAccountName: sa },
  status: { phase },
});

describe('indexPodPlacement', () => {
  const index = indexPodPlacement([
    pod('a', 'node-a', 'sleep'),
    pod('b', 'node-b', 'web', 'Pending', 'uid-b'),
    pod('c', 'node-a', 'gone', 'Failed'),
    { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'unscheduled', namespace: 'default' }, spec: {} },
  ]);

  it.each([
    ['node-a', 'default', 'sleep', true],
    ['node-b', 'default', 'sleep', false],
    ['node-b', 'default', 'web', true],
    ['node-a', 'default', 'gone', false],
    ['node-a', 'other', 'sleep', false],
    ['', 'default', 'default', false],
  ])('hasPod(%s, %s, %s) is %s', (node, ns, sa, expected) => {
    expect(index.hasPod(node, ns, sa)).toBe(expected);
  });

  it('finds a caller pod by name only with the same service account and uid', () => {
    expect(index.nodeOf('default', 'b', 'uid-b', 'web')).toBe('node-b');
    expect(index.nodeOf('default', 'b', 'uid-other', 'web')).toBeUndefined();
    expect(index.nodeOf('default', 'b', 'uid-b', 'sleep')).toBeUndefined();
    expect(index.nodeOf('default', 'missing', 'u', 'web')).toBeUndefined();
  });
});
