import { parseWaypoint } from './parse';

describe('parseWaypoint', () => {
  it.each<[string[], unknown]>([
    [['apply'], { kind: 'waypoint-apply', namespace: 'default', name: 'waypoint', enrollNamespace: false, stateDir: '/s' }],
    [['apply', '-n', 'shop', '--name', 'reviews-wp', '--for', 'service', '--enroll-namespace'], { kind: 'waypoint-apply', namespace: 'shop', name: 'reviews-wp', for: 'service', enrollNamespace: true, stateDir: '/s' }],
    [['generate', '--namespace=shop', '--for=all'], { kind: 'waypoint-generate', namespace: 'shop', name: 'waypoint', for: 'all' }],
    [['list', '-A'], { kind: 'waypoint-list', namespace: undefined, stateDir: '/s' }],
    [['list', '-n', 'shop', '--state-dir', '/x'], { kind: 'waypoint-list', namespace: 'shop', stateDir: '/x' }],
    [['delete'], { kind: 'waypoint-delete', namespace: 'default', names: ['waypoint'], all: false, stateDir: '/s' }],
    [['delete', 'a', 'b', '-n', 'shop'], { kind: 'waypoint-delete', namespace: 'shop', names: ['a', 'b'], all: false, stateDir: '/s' }],
    [['delete', '--all'], { kind: 'waypoint-delete', namespace: 'default', names: [], all: true, stateDir: '/s' }],
  ])('%j', (args, command) => {
    expect(parseWaypoint(args, '/s')).toEqual({ ok: true, command });
  });

  it.each<[string[], string]>([
    [[], 'waypoint needs apply, generate, list or delete'],
    [['status'], 'waypoint has no "status"'],
    [['apply', '--for', 'pods'], '--for takes service, workload, all, none, not "pods"'],
    [['apply', '--name', 'none'], '"none" is reserved'],
    [['apply', '--name', 'Bad_Name'], '--name takes a DNS label'],
    [['list', '--enroll-namespace'], 'waypoint list: unexpected argument "--enroll-namespace"'],
    [['delete', 'a', '--all'], 'names or --all, not both'],
    [['apply', 'extra'], 'waypoint apply: unexpected argument "extra"'],
  ])('%j is refused', (args, error) => {
    const parsed = parseWaypoint(args, '/s');
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toContain(error);
  });
});
