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
