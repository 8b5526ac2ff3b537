import { parseArgs } from './cli';

describe('parseArgs', () => {
  it.each<[string[], unknown]>([
    [[], { kind: 'help' }],
    [['zc', 'workload'], { kind: 'ztunnel-config', what: 'workload', output: 'short', adminUrl: 'http://127.0.0.1:15000' }],
    [['ztunnel-config', 'certs', '-o', 'json', '--admin-url=http://10.0.0.1:15000/'], { kind: 'ztunnel-config', what: 'certificate', output: 'json', adminUrl: 'http://10.0.0.1:15000' }],
    [['zc', 'all', '-o', 'yaml'], { kind: 'ztunnel-config', what: 'all', output: 'yaml', adminUrl: 'http://127.0.0.1:15000' }],
  ])('%j', (argv, command) => {
    expect(parseArgs(argv)).toEqual({ ok: true, command });
  });

  it.each<[string[], string]>([
    [['install'], 'unknown command "install"'],
    [['zc'], 'needs one of'],
    [['zc', 'pods'], 'has no "pods"'],
    [['zc', 'workload', '-o', 'table'], '-o takes'],
    [['zc', 'workload', '--admin-url', 'localhost'], '--admin-url'],
    [['zc', 'workload', 'extra'], 'unexpected argument "extra"'],
  ])('%j is refused', (argv, error) => {
    const parsed = parseArgs(argv);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toContain(error);
  });
});

describe('parseArgs: local', () => {
  const env = { WEFT_LOCAL_STATE: '/tmp/weft-state' };
  it.each<[string[], Record<string, string | undefined>, unknown]>([
    [['local', 'up'], {}, { kind: 'local-up', nodes: 2, stateDir: '/var/lib/weft/local', demo: false }],
    [['local', 'up'], env, { kind: 'local-up', nodes: 2, stateDir: '/tmp/weft-state', demo: false }],
    [['local', 'up', '--nodes', '3', '--state-dir', '/s'], env, { kind: 'local-up', nodes: 3, stateDir: '/s', demo: false }],
    [['local', 'up', '--nodes=1', '--state-dir=/s'], {}, { kind: 'local-up', nodes: 1, stateDir: '/s', demo: false }],
    [['local', 'down'], env, { kind: 'local-down', stateDir: '/tmp/weft-state' }],
    [['local', 'down', '--state-dir', '/s'], {}, { kind: 'local-down', stateDir: '/s' }],
    [['local', 'status'], {}, { kind: 'local-status', stateDir: '/var/lib/weft/local', output: 'short' }],
    [['local', 'status', '-o', 'json', '--state-dir', '/s'], {}, { kind: 'local-status', stateDir: '/s', output: 'json' }],
    [['local', 'apply', '-f', 'a.yaml', '-f=dir', '--state-dir', '/s'], {}, { kind: 'local-apply', files: ['a.yaml', 'dir'], stateDir: '/s' }],
    [['local', 'delete', '--filename', 'a.yaml'], env, { kind: 'local-delete', files: ['a.yaml'], stateDir: '/tmp/weft-state' }],
    [['local', 'up', '--demo'], env, { kind: 'local-up', nodes: 2, stateDir: '/tmp/weft-state', demo: true }],
    [['local', 'exec', 'deploy/sleep', '--', 'curl', '-s', 'http://httpbin:8000/get'], env, { kind: 'local-exec', stateDir: '/tmp/weft-state', namespace: 'default', pod: 'deploy/sleep', command: ['curl', '-s', 'http://httpbin:8000/get'] }],
    [['local', 'exec', '-n', 'demo', 'p1', '--', 'sh', '-c', 'echo -n x'], env, { kind: 'local-exec', stateDir: '/tmp/weft-state', namespace: 'demo', pod: 'p1', command: ['sh', '-c', 'echo -n x'] }],
    [['local', 'logs', 'p1', '--namespace=demo', '-c', 'app'], env, { kind: 'local-logs', stateDir: '/tmp/weft-state', namespace: 'demo', pod: 'p1', container: 'app' }],
    [['local', 'label', 'ns', 'default', 'istio.io/dataplane-mode=ambient'], env, { kind: 'local-label', stateDir: '/tmp/weft-state', target: { kind: 'namespace', name: 'default' }, changes: [{ key: 'istio.io/dataplane-mode', value: 'ambient' }], overwrite: false }],
    [['local', 'label', 'pod', 'p1', '-n', 'x', 'a-', 'b=', '--overwrite'], env, { kind: 'local-label', stateDir: '/tmp/weft-state', target: { kind: 'pod', namespace: 'x', name: 'p1' }, changes: [{ key: 'a', remove: true }, { key: 'b', value: '' }], overwrite: true }],
    [['local', 'scale', 'deployment/httpbin', '--replicas=5'], env, { kind: 'local-scale', stateDir: '/tmp/weft-state', namespace: 'default', name: 'httpbin', replicas: 5 }],
    [['local', 'scale', 'deploy', 'httpbin', '--replicas', '0', '-n', 'a'], env, { kind: 'local-scale', stateDir: '/tmp/weft-state', namespace: 'a', name: 'httpbin', replicas: 0 }],
    [['local', 'rollout', 'restart', 'deployment/httpbin'], env, { kind: 'local-rollout-restart', stateDir: '/tmp/weft-state', namespace: 'default', name: 'httpbin' }],
    [['zc', 'workload', '--node', 'node-b'], env, { kind: 'ztunnel-config', what: 'workload', output: 'short', adminUrl: 'http://127.0.0.1:15000', node: { name: 'node-b', stateDir: '/tmp/weft-state' } }],
  ])('%j with %j', (argv, environment, command) => {
    expect(parseArgs(argv, environment)).toEqual({ ok: true, command });
  });

  it.each<[string[], string]>([
    [['local'], 'local needs up, down, status, apply, delete, exec, logs, label, scale or rollout'],
    [['local', 'install'], 'local has no "install"'],
    [['local', 'exec', 'p1'], 'local exec needs -- COMMAND'],
    [['local', 'exec', '--', 'ls'], 'local exec needs one POD'],
    [['local', 'logs'], 'local logs needs one POD'],
    [['local', 'label', 'svc', 'x', 'a=b'], 'local label takes ns NAME or pod NAME, not "svc"'],
    [['local', 'label', 'ns', 'x'], 'at least one KEY=VALUE'],
    [['local', 'label', 'ns', 'x', 'a=b c'], 'invalid label value "b c" for a'],
    [['local', 'label', 'ns', 'x', '=b'], 'neither key=value nor key-'],
    [['local', 'scale', 'deployment/x'], 'local scale needs --replicas N'],
    [['local', 'scale', 'x', '--replicas', '2'], 'local scale needs deployment/NAME'],
    [['local', 'scale', 'deployment/x', '--replicas', '-1'], '--replicas takes a whole number'],
    [['local', 'rollout', 'undo', 'deployment/x'], 'local rollout supports restart, not "undo"'],
    [['local', 'exec', '-c', 'x', 'p', '--', 'ls'], 'local exec: unexpected argument "-c"'],
    [['local', 'logs', 'p', '-n', 'Bad_NS'], '-n takes a namespace name'],
    [['local', 'apply'], 'local apply needs -f FILE|DIR'],
    [['local', 'delete', '-f'], '-f takes a file or directory'],
    [['local', 'up', '-f', 'x'], 'local up: unexpected argument "-f"'],
    [['local', 'up', '--nodes', '0'], '--nodes takes a number from 1 to 16, not "0"'],
    [['local', 'up', '--nodes', '17'], 'not "17"'],
    [['local', 'up', '--nodes', 'two'], 'not "two"'],
    [['local', 'up', '--nodes'], 'not ""'],
    [['local', 'up', '--state-dir'], '--state-dir takes a directory'],
    [['local', 'down', '--nodes', '2'], 'local down: unexpected argument "--nodes"'],
    [['local', 'status', '-o', 'yaml'], '-o takes short or json'],
    [['local', 'up', 'extra'], 'unexpected argument "extra"'],
  ])('%j is refused', (argv, error) => {
    const parsed = parseArgs(argv);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toContain(error);
  });
});
