// Runs a CNI chain (production: the local cluster acts as a container runtime) exactly as a container runtime does (CNI spec 1.0.0 "Network configuration lists"): each plugin
// of the conflist in order for ADD, each receiving the previous result as `prevResult`, and in reverse order for
// DEL; environment variables per the spec; plugins run in the node's netns.

import { execFile } from 'node:child_process';

export interface ChainInvocation {
  readonly conflist: { readonly cniVersion: string; readonly name: string; readonly plugins: readonly Record<string, unknown>[] };
  readonly binDirs: readonly string[];
  readonly nodeNetns: string;
  readonly containerId: string;
  readonly netnsPath: string;
  readonly ifName: string;
  readonly args: Readonly<Record<string, string>>;
}

export interface PluginFailure {
  readonly plugin: string;
  readonly exitCode: number | string | null;
  readonly stdout: string;
  readonly stderr: string;
}

export class CniChainError extends Error {
  constructor(readonly failure: PluginFailure) {
    super(`CNI plugin ${failure.plugin} failed (exit ${String(failure.exitCode)}): ${failure.stdout.trim()} ${failure.stderr.trim()}`);
  }
}

function runPlugin(chain: ChainInvocation, command: 'ADD' | 'DEL' | 'CHECK', plugin: Record<string, unknown>, prevResult: unknown): Promise<string> {
  const type = String(plugin['type']);
  const config = { ...plugin, cniVersion: chain.conflist.cniVersion, name: chain.conflist.name, ...(prevResult === undefined ? {} : { prevResult }) };
  const env = {
    PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    CNI_COMMAND: command,
    CNI_CONTAINERID: chain.containerId,
    CNI_NETNS: chain.netnsPath,
    CNI_IFNAME: chain.ifName,
    CNI_ARGS: Object.entries(chain.args).map(([k, v]) => `${k}=${v}`).join(';'),
    CNI_PATH: chain.binDirs.join(':'),
  };
  return new Promise((resolve, reject) => {
    const binary = chain.binDirs.map((dir) => `${dir}/${type}`);
    const script = `for b in ${binary.map((b) => `'${b}'`).join(' ')}; do if [ -x "$b" ]; then exec "$b"; fi; done; echo "no plugin ${type}" >&2; exit 127`;
    const child = execFile('ip', ['netns', 'exec', chain.nodeNetns, 'sh', '-c', script], { env, encoding: 'utf8', timeout: 30_000 }, (error, stdout, stderr) => {
      if (error === null) resolve(stdout);
      else reject(new CniChainError({ plugin: type, exitCode: error.code ?? null, stdout, stderr }));
    });
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(JSON.stringify(config));
  });
}

/** ADD through the chain; returns the final result. */
export async function cniAdd(chain: ChainInvocation): Promise<Record<string, unknown>> {
  let result: unknown;
  for (const plugin of chain.conflist.plugins) {
    const stdout = await runPlugin(chain, 'ADD', plugin, result);
    result = JSON.parse(stdout) as unknown;
  }
  return result as Record<string, unknown>;
}

/** DEL through the chain in reverse order; every plugin runs even if one fails, and the first failure is thrown. */
export async function cniDel(chain: ChainInvocation, prevResult?: unknown): Promise<void> {
  let first: unknown;
  for (const plugin of [...chain.conflist.plugins].reverse()) {
    await runPlugin(chain, 'DEL', plugin, prevResult).catch((error: unknown) => {
      first ??= error;
    });
  }
  if (first !== undefined) throw first;
}
