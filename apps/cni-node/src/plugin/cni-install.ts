// Installs Weft's chained plugin on a node the way istio's install-cni does (reference §5.2): the executable into the
// CNI bin dir, and our entry appended to the plugins of the node's primary conflist. Both steps are idempotent and
// undone by `uninstallCniPlugin`. The conflist edits are pure functions; the file steps write atomically.

import { chmod, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';

import { PLUGIN_TYPE } from './cni-protocol';

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

/** The executable the runtime runs: a shell script that execs Node on the built plugin (CNI plugins get no PATH). */
export function pluginLauncher(nodePath: string, pluginScript: string): string {
  const quote = (value: string): string => `'${value.replace(/'/g, `'\\''`)}'`;
  return `#!/bin/sh\n# Weft's chained CNI plugin (written by the cni-node installer).\nexec ${quote(nodePath)} ${quote(pluginScript)} "$@"\n`;
}

export interface CniInstallOptions {
  readonly binDir: string;
  readonly netDir: string;
  readonly entry: PluginEntry;
  readonly nodePath: string;
  readonly pluginScript: string;
}

async function writeAtomically(file: string, content: string, mode: number): Promise<void> {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.weft-tmp`);
  await writeFile(temp, content, { mode });
  await chmod(temp, mode);
  await rename(temp, file);
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

export async function installCniPlugin(options: CniInstallOptions): Promise<{ readonly conflist: string; readonly binary: string }> {
  const binary = path.join(options.binDir, PLUGIN_TYPE);
  await writeAtomically(binary, pluginLauncher(options.nodePath, options.pluginScript), 0o755);
  const conflist = await primaryConflist(options.netDir);
  const next = conflistWithPlugin(await readConflist(conflist), options.entry, conflist);
  await writeAtomically(conflist, `${JSON.stringify(next, null, 2)}\n`, 0o644);
  return { conflist, binary };
}

export async function uninstallCniPlugin(options: Pick<CniInstallOptions, 'binDir' | 'netDir'>): Promise<void> {
  const conflist = await primaryConflist(options.netDir).catch(() => undefined);
  if (conflist !== undefined) {
    const next = conflistWithoutPlugin(await readConflist(conflist), conflist);
    await writeAtomically(conflist, `${JSON.stringify(next, null, 2)}\n`, 0o644);
  }
  await rm(path.join(options.binDir, PLUGIN_TYPE), { force: true });
}
