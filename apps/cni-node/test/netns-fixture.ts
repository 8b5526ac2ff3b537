// Network namespaces for root tests: every name carries a per-run prefix, nothing touches the root netns, and
// teardown deletes only the namespaces this run created.

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

const REQUIRED_TOOLS = ['ip', 'nsenter', 'iptables-nft-save', 'iptables-nft-restore', 'ip6tables-nft-save', 'ipset'];

/** Fails (never skips) with what to install when the test cannot run. */
export function requireRootNetworking(): void {
  if (process.getuid?.() !== 0) {
    throw new Error('these tests need root (network namespaces and iptables); CI runs as root — run them with sudo');
  }
  const missing = REQUIRED_TOOLS.filter((tool) => {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length > 0) {
    throw new Error(`missing ${missing.join(', ')}: run tools/setup.sh (apt: iproute2 iptables ipset util-linux)`);
  }
}

export class NetnsFixture {
  /** Short: interface names are limited to 15 characters. */
  readonly prefix = `wt${randomBytes(3).toString('hex')}`;
  private readonly created: string[] = [];

  /** Creates `<prefix>-<name>` and returns its name. */
  add(name: string): string {
    const full = `${this.prefix}-${name}`;
    execFileSync('ip', ['netns', 'add', full]);
    this.created.push(full);
    execFileSync('ip', ['-n', full, 'link', 'set', 'lo', 'up']);
    return full;
  }

  path(name: string): string {
    return `/var/run/netns/${name}`;
  }

  exec(name: string, args: readonly string[], input?: string): string {
    return execFileSync('ip', ['netns', 'exec', name, ...args], { encoding: 'utf8', input: input ?? '' });
  }

  cleanup(): void {
    for (const name of this.created.splice(0).reverse()) {
      try {
        execFileSync('ip', ['netns', 'del', name]);
      } catch {
        // already gone
      }
    }
  }
}
