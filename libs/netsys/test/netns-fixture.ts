// Test network namespaces: created with a per-run unique prefix, configured only inside themselves, deleted by
// the fixture that made them. Nothing here touches the root netns.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';

/** Fails (never skips) when the suite cannot run here, saying what is needed. */
export function requireRootAndTools(tools: string[] = []): void {
  if (process.platform !== 'linux') throw new Error('netsys tests need Linux');
  if (process.getuid?.() !== 0) {
    throw new Error('netsys tests need root (CAP_SYS_ADMIN + CAP_NET_ADMIN) to create network namespaces; run as root');
  }
  for (const tool of ['ip', ...tools]) {
    const probe = spawnSync(tool, tool === 'ip' ? ['-V'] : ['--version'], { encoding: 'utf8' });
    if (probe.error !== undefined || probe.status !== 0) {
      throw new Error(`netsys tests need \`${tool}\` (iproute2/iptables): apt-get install iproute2 iptables, or bash tools/setup.sh`);
    }
  }
}

function run(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err: unknown) {
    const stderr = typeof err === 'object' && err !== null && 'stderr' in err ? String(err.stderr) : '';
    throw new Error(`${cmd} ${args.join(' ')} failed: ${stderr.trim() || String(err)}`);
  }
}

export interface TestNetns {
  name: string;
  path: string;
  /** `ip netns exec <name> <cmd> <args>` */
  exec(cmd: string, ...args: string[]): string;
  /** `ip -n <name> <args>` */
  ip(...args: string[]): string;
}

export class NetnsFixture {
  readonly prefix = `wnt${process.pid.toString(36)}${randomBytes(3).toString('hex')}`;
  private readonly created: string[] = [];

  /** A fresh namespace with `lo` up. */
  create(suffix: string): TestNetns {
    const name = `${this.prefix}-${suffix}`;
    run('ip', ['netns', 'add', name]);
    this.created.push(name);
    const ns: TestNetns = {
      name,
      path: `/run/netns/${name}`,
      exec: (cmd, ...args) => run('ip', ['netns', 'exec', name, cmd, ...args]),
      ip: (...args) => run('ip', ['-n', name, ...args]),
    };
    ns.ip('link', 'set', 'lo', 'up');
    return ns;
  }

  /** Deletes every namespace this fixture created (and only those). */
  destroy(): void {
    const errors: string[] = [];
    for (const name of this.created.splice(0)) {
      try {
        run('ip', ['netns', 'del', name]);
      } catch (err: unknown) {
        errors.push(String(err));
      }
    }
    if (errors.length > 0) throw new Error(errors.join('\n'));
  }
}

/** Number of open descriptors of this process. */
export function openFdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

/** The `flags:` field of /proc/self/fdinfo/<fd> (octal). */
export function fdFlags(fd: number): number {
  const m = /^flags:\s+([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
  if (m?.[1] === undefined) throw new Error(`no flags for fd ${fd}`);
  return parseInt(m[1], 8);
}

export const O_NONBLOCK = 0o4000;
export const O_CLOEXEC = 0o2000000;

/** Resolves on the next event, rejects after `ms` (so a broken test fails instead of hanging). */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
