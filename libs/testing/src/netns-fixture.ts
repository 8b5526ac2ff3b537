// Network namespaces for root tests (DESIGN.md §5): every name carries a per-run prefix, everything is configured
// only inside the namespaces the run created, nothing touches the root netns, and teardown deletes only the
// namespaces this fixture made.

import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';

/** The Debian/Ubuntu package that provides each tool the root tests shell out to. */
const PACKAGE_OF: Readonly<Record<string, string>> = {
  ip: 'iproute2',
  nsenter: 'util-linux',
  setpriv: 'util-linux',
  iptables: 'iptables',
  ip6tables: 'iptables',
  'iptables-nft': 'iptables',
  'iptables-nft-save': 'iptables',
  'iptables-nft-restore': 'iptables',
  'ip6tables-nft-save': 'iptables',
  ipset: 'ipset',
  tcpdump: 'tcpdump',
  promtool: 'prometheus',
};

function hasTool(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v '${tool}'`], { stdio: 'ignore' }).status === 0;
}

/** Fails (never skips) when the suite cannot run here: not Linux, not root, or a tool missing — saying what to install. */
export function requireRootAndTools(tools: readonly string[] = []): void {
  if (process.platform !== 'linux') throw new Error('these tests need Linux (network namespaces)');
  if (process.getuid?.() !== 0) {
    throw new Error('these tests need root (CAP_SYS_ADMIN + CAP_NET_ADMIN for network namespaces and iptables); CI runs as root — run them as root');
  }
  const missing = ['ip', ...tools].filter((tool) => !hasTool(tool));
  if (missing.length > 0) {
    const packages = [...new Set(missing.map((tool) => PACKAGE_OF[tool] ?? tool))];
    throw new Error(`missing ${missing.join(', ')}: run bash tools/setup.sh (apt-get install ${packages.join(' ')})`);
  }
}

/** What the cni-node root tests need: namespaces, nsenter, the nft iptables tools and ipset. */
export function requireRootNetworking(): void {
  requireRootAndTools(['nsenter', 'iptables-nft-save', 'iptables-nft-restore', 'ip6tables-nft-save', 'ipset']);
}

function run(cmd: string, args: readonly string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err: unknown) {
    const stderr = typeof err === 'object' && err !== null && 'stderr' in err ? String(err.stderr) : '';
    throw new Error(`${cmd} ${args.join(' ')} failed: ${stderr.trim() || String(err)}`);
  }
}

export interface TestNetns {
  readonly name: string;
  /** `/run/netns/<name>`, what CNI_NETNS and setns take. */
  readonly path: string;
  /** `ip netns exec <name> <cmd> <args>`; throws with stderr on failure. */
  exec(cmd: string, ...args: string[]): string;
  /** `ip -n <name> <args>` */
  ip(...args: string[]): string;
}

export class NetnsFixture {
  /** Short (8 characters), so `<prefix>` plus a few characters still fits a 15-character interface name. */
  readonly prefix = `wt${randomBytes(3).toString('hex')}`;
  private readonly created: string[] = [];

  /** A fresh namespace `<prefix>-<suffix>` with `lo` up. */
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

  /** Names of the namespaces this fixture created and has not deleted yet. */
  names(): readonly string[] {
    return [...this.created];
  }

  /** Deletes every namespace this fixture created (and only those), newest first; throws what failed. */
  destroy(): void {
    const errors: string[] = [];
    for (const name of this.created.splice(0).reverse()) {
      if (!existsSync(`/run/netns/${name}`)) continue;
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
