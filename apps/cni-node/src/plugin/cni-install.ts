// Installs Weft's chained plugin on a node the way istio's install-cni does (reference §5.2): the executable into the
// CNI bin dir, and our entry appended to the plugins of the node's primary conflist. Both steps are idempotent and
// undone by `uninstallCniPlugin`. The conflist edits are pure functions; the file steps write atomically.

import { readdir, readFile, rm } from 'node:fs/promises';
import * as path from 'node:path';

import { writeAtomically } from './atomic-file';
import { installPluginBundle, removePluginBundle } from './bundle-install';
import { PLUGIN_TYPE } from './cni-protocol';
import { BUNDLE_DIR } from './plugin-bundle';

export type PluginEntry = Readonly<Record<string, unknown>> & { readonly type: string };

function plugins(conflist: Readonly<Record<string, unknown>>, file: string): readonly unknown[] {
  const list = conflist['plugins'];
  if (!Array.isArray(list)) throw new Error(`${file}: "plugins" is not a list; is this a .conflist file?`);
  return list;
}

function isOurs(entry: unknown): boolean {
  return typeof entry === 'object' && entry !== null && (entry as Record<string, unknown>)['type'] === PLUGIN_TYPE;
}

/** The conflist with our entry last (replacing an older copy of it in place of the old one's position). */
export function conflistWithPlugin(conflist: Readonly<Record<string, unknown>>, entry: PluginEntry, file = 'conflist'): Record<string, unknown> {
  const others = plugins(conflist, file).filter((plugin) => !isOurs(plugin));
  return { ...conflist, plugins: [...others, entry] };
}

export function conflistWithoutPlugin(conflist: Readonly<Record<string, unknown>>, file = 'conflist'): Record<string, unknown> {
  return { ...conflist, plugins: plugins(conflist, file).filter((plugin) => !isOurs(plugin)) };
}

/**
 * How the plugin finds a runtime: `bundled` ships Node, its loader and libraries into the bin dir (a Kubernetes node,
 * where the runtime runs the plugin on the host and the agent's container filesystem is out of reach); `host` runs
 * the agent's own Node on the built plugin in place (a node that shares the agent's filesystem, as the local cluster).
 */
export type PluginRuntime = 'bundled' | 'host';

/** The `host` launcher: a shell script that execs this Node on the built plugin by absolute path (no PATH needed). */
export function pluginLauncher(nodePath: string, pluginScript: string): string {
  const quote = (value: string): string => `'${value.replace(/'/g, `'\\''`)}'`;
  return `#!/bin/sh\n# Weft's chained CNI plugin (written by the cni-node installer).\nexec ${quote(nodePath)} ${quote(pluginScript)} "$@"\n`;
}

export interface CniInstallOptions {
  readonly binDir: string;
  readonly netDir: string;
  readonly entry: PluginEntry;
  readonly runtime: PluginRuntime;
  /** The Node executable: run in place (`host`) or copied (`bundled`). */
  readonly nodePath: string;
  /** The built plugin-main.js; `bundled` copies it and the modules next to it that it requires. */
  readonly pluginScript: string;
}

export interface CniInstallResult {
  readonly conflist: string;
  readonly binary: string;
  readonly runtime: PluginRuntime;
  /** Files of the bin dir (re)written by this install; empty when it was already in place. */
  readonly written: readonly string[];
}

async function installExecutable(options: CniInstallOptions): Promise<{ readonly binary: string; readonly written: readonly string[] }> {
  if (options.runtime === 'bundled') {
    const bundle = await installPluginBundle({ binDir: options.binDir, nodePath: options.nodePath, pluginDir: path.dirname(options.pluginScript) });
    return { binary: bundle.launcher, written: bundle.written };
  }
  const binary = path.join(options.binDir, PLUGIN_TYPE);
  const changed = await writeAtomically(binary, pluginLauncher(options.nodePath, options.pluginScript), 0o755);
  // A bundle from an earlier `bundled` install is no longer referenced by the launcher.
  await rm(path.join(options.binDir, BUNDLE_DIR), { recursive: true, force: true });
  return { binary, written: changed ? [PLUGIN_TYPE] : [] };
}

/** The node's primary network config: the first `.conflist` by name, as the runtime picks it. */
export async function primaryConflist(netDir: string): Promise<string> {
  const names = (await readdir(netDir)).filter((name) => name.endsWith('.conflist')).sort();
  const first = names[0];
  if (first === undefined) throw new Error(`no .conflist in ${netDir}: the node's network plugin must be installed first`);
  return path.join(netDir, first);
}

async function readConflist(file: string): Promise<Record<string, unknown>> {
  const parsed: unknown = JSON.parse(await readFile(file, 'utf8'));
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`${file} is not a JSON object`);
  return parsed as Record<string, unknown>;
}

/** The executable first, then the conflist entry: the runtime never finds our entry before the plugin it names. */
export async function installCniPlugin(options: CniInstallOptions): Promise<CniInstallResult> {
  const conflist = await primaryConflist(options.netDir);
  const { binary, written } = await installExecutable(options);
  const next = conflistWithPlugin(await readConflist(conflist), options.entry, conflist);
  await writeAtomically(conflist, `${JSON.stringify(next, null, 2)}\n`, 0o644);
  return { conflist, binary, runtime: options.runtime, written };
}

export async function uninstallCniPlugin(options: Pick<CniInstallOptions, 'binDir' | 'netDir'>): Promise<void> {
  const conflist = await primaryConflist(options.netDir).catch(() => undefined);
  if (conflist !== undefined) {
    const next = conflistWithoutPlugin(await readConflist(conflist), conflist);
    await writeAtomically(conflist, `${JSON.stringify(next, null, 2)}\n`, 0o644);
  }
  await removePluginBundle(options.binDir);
}
