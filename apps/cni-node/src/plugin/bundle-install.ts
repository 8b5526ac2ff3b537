// The bundled plugin install (plugin-bundle.ts decides what goes where): reads what the agent's own Node process has
// loaded from /proc/self/maps, the loader from Node's PT_INTERP and each library's soname, then copies the files
// into the CNI bin dir atomically, skipping those already there, and removes what an older bundle left behind.

import { open, readdir, readFile, realpath, rm, mkdir } from 'node:fs/promises';
import * as path from 'node:path';

import { copyAtomically, writeAtomically } from './atomic-file';
import { PLUGIN_TYPE } from './cni-protocol';
import { elfInterpreter, elfSoname } from './elf';
import { BUNDLE_DIR, BundleError, mappedSharedLibraries, planBundle, unplannedFiles, type BundleSources } from './plugin-bundle';

/** Program headers and PT_INTERP sit in an executable's first page; this leaves ample room. */
const EXECUTABLE_HEAD_BYTES = 64 * 1024;

export interface BundleInstallOptions {
  readonly binDir: string;
  /** The Node executable to ship: the one this process runs on. */
  readonly nodePath: string;
  /** The directory of the built plugin-main.js. */
  readonly pluginDir: string;
  /** This process's mappings; read from /proc/self/maps when not given. */
  readonly maps?: string;
}

export interface BundleInstallResult {
  readonly launcher: string;
  readonly files: number;
  /** Files (re)written this time, relative to the bin dir; empty when the bundle was already up to date. */
  readonly written: readonly string[];
  readonly removed: readonly string[];
}

async function head(file: string, bytes: number): Promise<Uint8Array> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** Reads the facts the plan needs from the running process and the files it has mapped. */
export async function bundleSources(options: BundleInstallOptions): Promise<BundleSources> {
  const maps = options.maps ?? (await readFile('/proc/self/maps', 'utf8'));
  const mapped = mappedSharedLibraries(maps);
  if (mapped.deleted.length > 0) {
    throw new BundleError(
      'ERR_CNI_BUNDLE_LIBRARY_DELETED',
      `libraries replaced on disk since this process loaded them: ${mapped.deleted.join(', ')}; restart the agent so it bundles the ones it runs on`,
    );
  }
  const interp = elfInterpreter(await head(options.nodePath, EXECUTABLE_HEAD_BYTES), options.nodePath);
  const interpreter = interp === undefined ? undefined : { path: await realpath(interp), name: path.basename(interp) };
  const libraries = await Promise.all(
    mapped.libraries.map(async (library) => ({ path: library, soname: elfSoname(await readFile(library), library) ?? path.basename(library) })),
  );
  return { node: options.nodePath, ...(interpreter === undefined ? {} : { interpreter }), libraries, pluginDir: options.pluginDir };
}

/** Every file under `dir`, relative to `base`. */
async function filesUnder(base: string, dir: string): Promise<string[]> {
  const entries = await readdir(path.join(base, dir), { withFileTypes: true }).catch((cause: NodeJS.ErrnoException) => {
    if (cause.code === 'ENOENT') return [];
    throw cause;
  });
  const nested = await Promise.all(
    entries.map((entry) => (entry.isDirectory() ? filesUnder(base, path.posix.join(dir, entry.name)) : [path.posix.join(dir, entry.name)])),
  );
  return nested.flat();
}

/** Installs the launcher and `weft-cni.d/` into `binDir`; a second call with nothing changed writes nothing. */
export async function installPluginBundle(options: BundleInstallOptions): Promise<BundleInstallResult> {
  const plan = planBundle(await bundleSources(options));
  const written: string[] = [];
  for (const file of plan) {
    const target = path.join(options.binDir, file.target);
    await mkdir(path.dirname(target), { recursive: true });
    const changed = file.kind === 'copy' ? await copyAtomically(file.source, target, file.mode) : await writeAtomically(target, file.content, file.mode);
    if (changed) written.push(file.target);
  }
  const removed = unplannedFiles(plan, await filesUnder(options.binDir, BUNDLE_DIR));
  for (const file of removed) await rm(path.join(options.binDir, file), { force: true });
  return { launcher: path.join(options.binDir, PLUGIN_TYPE), files: plan.length, written, removed };
}

/** Removes the launcher and the bundle directory. */
export async function removePluginBundle(binDir: string): Promise<void> {
  await rm(path.join(binDir, PLUGIN_TYPE), { force: true });
  await rm(path.join(binDir, BUNDLE_DIR), { recursive: true, force: true });
}
