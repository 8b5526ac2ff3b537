// The fixtures themselves, as root (CI is root): namespaces carry the run prefix and teardown removes exactly
// them; managed processes run inside a namespace and are stopped by PID; a missing tool fails naming its package.

import { execFileSync } from 'node:child_process';

import { ManagedProcesses } from './managed-processes';
import { NetnsFixture, requireRootAndTools } from './netns-fixture';
import { eventually } from './wait';

const ours = (prefix: string): string[] =>
  execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name.startsWith(`${prefix}-`));

describe('NetnsFixture and ManagedProcesses', () => {
  beforeAll(() => requireRootAndTools());

  it('fails naming the package to install when a tool is missing', () => {
    expect(() => requireRootAndTools(['tcpdump', 'weft-no-such-tool'])).toThrow(/missing weft-no-such-tool.*apt-get install weft-no-such-tool/);
  });

  it('creates prefixed namespaces with lo up, runs a process inside one, and tears down only what it made', async () => {
    const fixture = new NetnsFixture();
    const processes = new ManagedProcesses();
    try {
      expect(fixture.prefix).toMatch(/^wt[0-9a-f]{6}$/);
      const ns = fixture.create('t1');
      expect(ns.name).toBe(`${fixture.prefix}-t1`);
      expect(ns.ip('-o', 'link', 'show', 'lo')).toMatch(/state UNKNOWN|UP/);
      expect(ours(fixture.prefix)).toEqual([ns.name]);

      const sleeper = processes.start('sleeper', ns.name, [process.execPath, '-e', "console.log(require('node:fs').readlinkSync('/proc/self/ns/net')); setInterval(() => {}, 1000)"]);
      await eventually(() => sleeper.output().includes('net:['), 'the process to report its netns', 5_000, () => sleeper.output());
      expect(sleeper.output().trim()).toBe(`net:[${ns.exec('stat', '-L', '-c', '%i', ns.path).trim()}]`);
      expect(processes.running()).toEqual([sleeper.child.pid]);
      await processes.stopAll(2_000);
      expect(processes.running()).toEqual([]);
    } finally {
      await processes.stopAll(2_000);
      fixture.destroy();
    }
    expect(ours(fixture.prefix)).toEqual([]);
  });
});
