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
    [['local', 'up'], {}, { kind: 'local-up', nodes: 2, stateDir: '/var/lib/weft/local' }],
    [['local', 'up'], env, { kind: 'local-up', nodes: 2, stateDir: '/tmp/weft-state' }],
    [['local', 'up', '--nodes', '3', '--state-dir', '/s'], env, { kind: 'local-up', nodes: 3, stateDir: '/s' }],
    [['local', 'up', '--nodes=1', '--state-dir=/s'], {}, { kind: 'local-up', nodes: 1, stateDir: '/s' }],
    [['local', 'down'], env, { kind: 'local-down', stateDir: '/tmp/weft-state' }],
    [['local', 'down', '--state-dir', '/s'], {}, { kind: 'local-down', stateDir: '/s' }],
    [['local', 'status'], {}, { kind: 'local-status', stateDir: '/var/lib/weft/local', output: 'short' }],
    [['local', 'status', '-o', 'json', '--state-dir', '/s'], {}, { kind: 'local-status', stateDir: '/s', output: 'json' }],
    [['local', 'apply', '-f', 'a.yaml', '-f=dir', '--state-dir', '/s'], {}, { kind: 'local-apply', files: ['a.yaml', 'dir'], stateDir: '/s' }],
    [['local', 'delete', '--filename', 'a.yaml'], env, { kind: 'local-delete', files: ['a.yaml'], stateDir: '/tmp/weft-state' }],
  ])('%j with %j', (argv, environment, command) => {
    expect(parseArgs(argv, environment)).toEqual({ ok: true, command });
  });

  it.each<[string[], string]>([
    [['local'], 'local needs up, down, status, apply or delete'],
    [['local', 'scale'], 'local has no "scale"'],
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
