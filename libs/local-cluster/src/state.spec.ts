import { emptyState, parseState, serializeState, StateFileError, type ClusterState } from './state';

const sample = (): ClusterState => ({
  ...emptyState('wt00beef', '/tmp/state', { node: 'node-a', address: '10.88.0.11' }, new Date('2026-01-01T00:00:00Z')),
  phase: 'up',
  nodes: [{ name: 'node-a', index: 1, netns: 'wt00beef-node-a', underlayIp: '10.88.0.11', podCidr: '10.244.1.0/24', gateway: '10.244.1.1', dir: '/tmp/state/nodes/node-a' }],
  netns: ['wt00beef-underlay', 'wt00beef-node-a'],
  interfaces: [
    { netns: 'wt00beef-underlay', name: 'wt00beefu' },
    { netns: 'wt00beef-underlay', name: 'wt00beefn1' },
  ],
  processes: [{ name: 'controlplane', role: 'controlplane', node: 'node-a', pid: 1234, startTime: '98765', netns: 'wt00beef-node-a', argv: ['node', 'main.js'], log: '/tmp/state/logs/controlplane.log' }],
});

describe('state file', () => {
  it('round-trips', () => {
    const state = sample();
    expect(parseState(serializeState(state))).toEqual(state);
  });

  it('starts empty, in phase creating, with the underlay and bridge named after the prefix', () => {
    expect(emptyState('wt00beef', '/s', { node: 'node-a', address: '10.88.0.11' })).toMatchObject({
      version: 1,
      phase: 'creating',
      underlay: 'wt00beef-underlay',
      bridge: 'wt00beefu',
      netns: [],
      interfaces: [],
      processes: [],
    });
  });

  it.each<[string, (s: Record<string, unknown>) => unknown, RegExp]>([
    ['a foreign namespace', (s) => ({ ...s, netns: ['wt00beef-underlay', 'kube-system'] }), /outside the run prefix wt00beef: kube-system/],
    ['a foreign interface', (s) => ({ ...s, interfaces: [{ netns: 'wt00beef-underlay', name: 'eth0' }] }), /outside the run prefix wt00beef: eth0/],
    ['a process in a foreign namespace', (s) => ({ ...s, processes: [{ ...(s['processes'] as object[])[0], netns: 'default' }] }), /outside the run prefix/],
    ['a bad prefix', (s) => ({ ...s, prefix: 'x' }), /prefix: must be wt \+ 6 hex digits/],
    ['a bad PID', (s) => ({ ...s, processes: [{ ...(s['processes'] as object[])[0], pid: -1 }] }), /processes\.0\.pid/],
    ['another version', (s) => ({ ...s, version: 2 }), /version/],
  ])('refuses %s', (_, edit, message) => {
    const text = JSON.stringify(edit(JSON.parse(serializeState(sample())) as Record<string, unknown>));
    expect(() => parseState(text)).toThrow(StateFileError);
    expect(() => parseState(text)).toThrow(message);
  });

  it('says when the file is not JSON', () => {
    expect(() => parseState('{', '/s/state.json')).toThrow(/\/s\/state.json is not JSON/);
  });
});
