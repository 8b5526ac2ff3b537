// What the bundled plugin install puts into the CNI bin dir, as pure functions. On a Kubernetes node the runtime runs
// the plugin on the host, where the agent container's Node and files do not exist; Istio ships a static Go binary,
// so Weft ships the Node executable it runs on with its dynamic loader, its shared libraries and the plugin's JS
// under `weft-cni.d/`, and a `/bin/sh` launcher that starts them through that loader and nothing else of the host.

import * as path from 'node:path';

import { PLUGIN_TYPE } from './cni-protocol';

/** The bundle's directory, next to the launcher in the CNI bin dir. */
export const BUNDLE_DIR = `${PLUGIN_TYPE}.d`;
/** The plugin's entry point and every module it requires (plugin-bundle.spec.ts fails when this list falls behind). */
export const PLUGIN_FILES: readonly string[] = ['plugin-main.js', 'cni-protocol.js'];
export const PLUGIN_ENTRY = 'plugin-main.js';

/** One file of the install, relative to the CNI bin dir: copied from the agent's filesystem, or written from text. */
export type BundleFile = { readonly target: string; readonly mode: number } & (
  | { readonly kind: 'copy'; readonly source: string }
  | { readonly kind: 'write'; readonly content: string }
);

export interface BundleSources {
  /** The Node executable the agent runs on. */
  readonly node: string;
  /** Its dynamic loader: the host file (symlinks resolved) and the name PT_INTERP gives it; none when Node is static. */
  readonly interpreter?: { readonly path: string; readonly name: string };
  /** Every shared library the agent's process has mapped, with the name the loader looks it up by. */
  readonly libraries: readonly { readonly path: string; readonly soname: string }[];
  /** The directory holding the built {@link PLUGIN_FILES}. */
  readonly pluginDir: string;
}

export class BundleError extends Error {
  constructor(
    readonly code: 'ERR_CNI_BUNDLE_LIBRARY_DELETED' | 'ERR_CNI_BUNDLE_NAME',
    message: string,
  ) {
    super(message);
    this.name = 'BundleError';
  }
}

const LIBRARY_NAME = /\.so(\.\d+)*$/;
const DELETED = ' (deleted)';

/**
 * The shared libraries among a process's mappings (`/proc/<pid>/maps`): file-backed mappings whose name ends in
 * `.so` or `.so.N…`, each once in the order first mapped. Native addons (`.node`), locale data and pseudo-mappings
 * (`[heap]`, `[vdso]`) are not libraries. A library replaced on disk since it was mapped is listed under `deleted`:
 * the file at that path is no longer the one running.
 */
export function mappedSharedLibraries(maps: string): { readonly libraries: readonly string[]; readonly deleted: readonly string[] } {
  const libraries: string[] = [];
  const deleted: string[] = [];
  for (const line of maps.split('\n')) {
    // address perms offset dev inode pathname — the pathname may hold spaces, so it is the rest of the line.
    const match = /^\S+\s+\S+\s+\S+\s+\S+\s+(\d+)\s+(\/.*)$/.exec(line);
    if (match === null || match[1] === '0' || match[2] === undefined) continue;
    const gone = match[2].endsWith(DELETED);
    const file = gone ? match[2].slice(0, -DELETED.length) : match[2];
    const name = file.slice(file.lastIndexOf('/') + 1);
    if (!LIBRARY_NAME.test(name)) continue;
    const into = gone ? deleted : libraries;
    if (!into.includes(file)) into.push(file);
  }
  return { libraries, deleted };
}

const SAFE_NAME = /^[A-Za-z0-9._+-]+$/;

function assertFileName(name: string, what: string): string {
  if (!SAFE_NAME.test(name) || name === '.' || name === '..') throw new BundleError('ERR_CNI_BUNDLE_NAME', `${what} ${JSON.stringify(name)} is not a plain file name`);
  return name;
}

/**
 * The launcher: finds `weft-cni.d` next to itself from `$0` with shell built-ins only (the runtime gives a plugin no
 * PATH), then runs the bundled Node through the bundled loader with `--library-path` on the bundled libraries, so
 * neither the host's loader nor its libraries are consulted.
 */
export function bundledLauncher(loaderName: string | undefined): string {
  const node = `"$dir/node" "$dir/plugin/${PLUGIN_ENTRY}" "$@"`;
  const command =
    loaderName === undefined ? `exec ${node}` : `exec "$dir/${assertFileName(loaderName, 'loader')}" --library-path "$dir/lib" ${node}`;
  return [
    '#!/bin/sh',
    `# Weft's chained CNI plugin (written by the cni-node installer): Node, its loader and libraries, and the plugin,`,
    `# all from ${BUNDLE_DIR}/ next to this file.`,
    `case "$0" in */*) dir="\${0%/*}/${BUNDLE_DIR}" ;; *) dir="./${BUNDLE_DIR}" ;; esac`,
    command,
    '',
  ].join('\n');
}

/**
 * Every file of the install, paths relative to the CNI bin dir, the launcher last (so a runtime never starts it on
 * a bundle still being copied). The loader is not repeated among the libraries; two libraries with one soname keep
 * the first, as the loader would.
 */
export function planBundle(sources: BundleSources): readonly BundleFile[] {
  const files: BundleFile[] = [{ kind: 'copy', source: sources.node, target: `${BUNDLE_DIR}/node`, mode: 0o755 }];
  if (sources.interpreter !== undefined) {
    const name = assertFileName(sources.interpreter.name, 'loader');
    files.push({ kind: 'copy', source: sources.interpreter.path, target: `${BUNDLE_DIR}/${name}`, mode: 0o755 });
  }
  const sonames = new Set<string>();
  for (const library of sources.libraries) {
    if (library.path === sources.interpreter?.path || sonames.has(library.soname)) continue;
    sonames.add(library.soname);
    files.push({ kind: 'copy', source: library.path, target: `${BUNDLE_DIR}/lib/${assertFileName(library.soname, 'library')}`, mode: 0o644 });
  }
  for (const name of PLUGIN_FILES) {
    files.push({ kind: 'copy', source: path.join(sources.pluginDir, name), target: `${BUNDLE_DIR}/plugin/${name}`, mode: 0o644 });
  }
  files.push({ kind: 'write', content: bundledLauncher(sources.interpreter?.name), target: PLUGIN_TYPE, mode: 0o755 });
  return files;
}

/** Files found under the bundle directory (relative to the bin dir) that the plan no longer has: to be removed. */
export function unplannedFiles(plan: readonly BundleFile[], present: readonly string[]): readonly string[] {
  const planned = new Set(plan.map((file) => file.target));
  return present.filter((file) => !planned.has(file));
}
