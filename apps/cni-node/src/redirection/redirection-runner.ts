// Applies and removes the in-pod redirection inside a pod's network namespace. The agent's process stays in the
// node netns; each command runs in the pod netns through `nsenter --net=<path>` (util-linux), so nothing here
// changes the namespace of a Node thread. Rules come from inpod-rules.ts; this file only runs them.

import { execFile } from 'node:child_process';

import {
  OUTPUT_CHAIN,
  POSTRT_CHAIN,
  PRERT_CHAIN,
  PROBE_IPSET,
  hostProbeRules,
  inpodRouting,
  inpodRules,
  installScript,
  removalScript,
  type IpFamily,
} from './inpod-rules';
import type { RedirectionOptions } from '../enrollment/enrollment';

export interface CommandResult {
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a program, optionally with stdin; rejects with a CommandError when it exits non-zero. */
export type CommandRunner = (file: string, args: readonly string[], input?: string) => Promise<CommandResult>;

export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly exitCode: number | string | null,
    readonly stderr: string,
  ) {
    super(`${command} failed (exit ${String(exitCode)}): ${stderr.trim() || 'no output'}`);
    this.name = 'CommandError';
  }
}

export const execCommand: CommandRunner = (file, args, input) =>
  new Promise((resolve, reject) => {
    const child = execFile(file, [...args], { encoding: 'utf8', timeout: 30_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error === null) resolve({ stdout, stderr });
      else reject(new CommandError([file, ...args].join(' '), error.code ?? null, stderr || error.message));
    });
    // A program that exits without reading its stdin makes the write fail with EPIPE; its exit status says enough.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input ?? '');
  });

export type IptablesBackend = 'nft' | 'legacy';

function countRules(save: string): number {
  return save.split('\n').filter((line) => line.startsWith('-A ')).length;
}

/**
 * istio's backend detection: the node already uses one of the two; pick the one holding rules (kube-proxy's, the
 * runtime's), nft when both or neither do — Debian's default `iptables` is the nft backend.
 */
export function chooseIptablesBackend(legacySave: string, nftSave: string): IptablesBackend {
  return countRules(legacySave) > 0 && countRules(nftSave) === 0 ? 'legacy' : 'nft';
}

export interface RedirectionRunner {
  /** Installs (or repairs) the rules and routing in the pod netns; running it again changes nothing. */
  apply(netnsPath: string, families: readonly IpFamily[], options: RedirectionOptions): Promise<void>;
  /** Removes everything `apply` installed; a netns without the rules is left as it is. */
  remove(netnsPath: string, families: readonly IpFamily[]): Promise<void>;
  /** The pod netns's `iptables-save` (both families), for diagnostics and tests. */
  save(netnsPath: string, family: IpFamily): Promise<string>;
  /** Node netns: the probe SNAT rule and its ipset; idempotent. */
  installHostRules(families: readonly IpFamily[]): Promise<void>;
  /** Node netns: adds or removes a pod IP in the probe ipset. */
  setProbeAddress(family: IpFamily, address: string, present: boolean): Promise<void>;
  removeHostRules(families: readonly IpFamily[]): Promise<void>;
}

export interface RedirectionRunnerOptions {
  readonly backend: IptablesBackend;
  readonly run?: CommandRunner;
  /** The node netns for the host rules; default: the agent's own. */
  readonly hostNetnsPath?: string;
}

export function createRedirectionRunner(options: RedirectionRunnerOptions): RedirectionRunner {
  const run = options.run ?? execCommand;
  const tool = (family: IpFamily, verb: 'save' | 'restore'): string =>
    `${family === 4 ? 'iptables' : 'ip6tables'}-${options.backend}-${verb}`;
  const inNetns = (netnsPath: string, file: string, args: readonly string[], input?: string): Promise<CommandResult> =>
    run('nsenter', [`--net=${netnsPath}`, '--', file, ...args], input);
  const ourChains = [PRERT_CHAIN, OUTPUT_CHAIN];
  const hostNetns = options.hostNetnsPath;
  const onHost = (file: string, args: readonly string[], input?: string): Promise<CommandResult> =>
    hostNetns === undefined ? run(file, args, input) : inNetns(hostNetns, file, args, input);

  const save = async (netnsPath: string, family: IpFamily): Promise<string> =>
    (await inNetns(netnsPath, tool(family, 'save'), [])).stdout;

  const hasInpodRule = async (netnsPath: string, family: IpFamily): Promise<boolean> => {
    const { stdout } = await inNetns(netnsPath, 'ip', [family === 4 ? '-4' : '-6', 'rule', 'list', 'pref', '32764']);
    return stdout.trim() !== '';
  };

  return {
    save,
    async apply(netnsPath, families, redirection) {
      for (const family of families) {
        const script = installScript(inpodRules(family, redirection), await save(netnsPath, family));
        await inNetns(netnsPath, tool(family, 'restore'), ['--noflush'], script);
        const routing = inpodRouting(family);
        if (!(await hasInpodRule(netnsPath, family))) await inNetns(netnsPath, 'ip', routing.rule);
        await inNetns(netnsPath, 'ip', routing.route);
      }
    },
    async remove(netnsPath, families) {
      for (const family of families) {
        const script = removalScript(ourChains, await save(netnsPath, family));
        if (script !== '') await inNetns(netnsPath, tool(family, 'restore'), ['--noflush'], script);
        const flag = family === 4 ? '-4' : '-6';
        while (await hasInpodRule(netnsPath, family)) await inNetns(netnsPath, 'ip', [flag, 'rule', 'del', 'pref', '32764']);
        await inNetns(netnsPath, 'ip', [flag, 'route', 'flush', 'table', '100']).catch(() => undefined);
      }
    },
    async installHostRules(families) {
      for (const family of families) {
        await onHost('ipset', ['create', PROBE_IPSET[family], 'hash:ip', 'family', family === 4 ? 'inet' : 'inet6', '-exist']);
        const current = (await onHost(tool(family, 'save'), ['-t', 'nat'])).stdout;
        await onHost(tool(family, 'restore'), ['--noflush'], installScript(hostProbeRules(family), current));
      }
    },
    async setProbeAddress(family, address, present) {
      await onHost('ipset', [present ? 'add' : 'del', PROBE_IPSET[family], address, '-exist']);
    },
    async removeHostRules(families) {
      for (const family of families) {
        const current = (await onHost(tool(family, 'save'), ['-t', 'nat'])).stdout;
        const script = removalScript([POSTRT_CHAIN], current);
        if (script !== '') await onHost(tool(family, 'restore'), ['--noflush'], script);
        await onHost('ipset', ['destroy', PROBE_IPSET[family]]).catch(() => undefined);
      }
    },
  };
}
