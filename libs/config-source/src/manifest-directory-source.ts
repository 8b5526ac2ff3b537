// The embedded config source: every *.yaml / *.yml / *.json file under a directory, watched for changes, so the
// mesh runs on one machine without Kubernetes (DESIGN.md §4). A file is applied whole or not at all: while it
// has errors its last good objects keep serving.
import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { objectKey, type KubeObject } from '@weft/mesh-config';
import { Debouncer, ListenerSet } from './change-batcher';
import {
  CHANGE_DEBOUNCE_MS,
  CHANGE_MAX_DELAY_MS,
  NOOP_LOGGER,
  type ConfigListener,
  type ConfigSnapshot,
  type ConfigSource,
  type ConfigSourceLogger,
  type ObjectStatus,
} from './config-source';
import { duplicateObjectError, readError, watchError, type ConfigSourceError } from './config-source-error';
import { parseManifest } from './manifest-parse';
import { EMPTY_CHANGE, isEmptyChange, ObjectSet } from './object-set';
import { StatusFile } from './status-file';

/** Safety net for missed watch events (overflowed inotify queues, network filesystems). */
export const MANIFEST_RESCAN_INTERVAL_MS = 30_000;
const MANIFEST_EXTENSIONS: ReadonlySet<string> = new Set(['.yaml', '.yml', '.json']);
// Linux inotify cannot watch a tree; Node's emulation there is young, so Linux gets one watcher per directory.
const RECURSIVE_WATCH = process.platform === 'darwin' || process.platform === 'win32';

export interface ManifestDirectorySourceOptions {
  readonly directory: string;
  /** Where statuses are written; default `<directory>/.weft/status.json` (dot entries are never read). */
  readonly statusFile?: string;
  readonly logger?: ConfigSourceLogger;
  readonly debounceMs?: number;
  readonly rescanIntervalMs?: number;
  /**
   * A directory of other writers' status files (`*.json`, `StatusFileContent`) whose `annotations` are laid over
   * the objects, as if those writers had patched them in an API server: the cni-node agent's
   * `ambient.istio.io/redirection` reaches the controlplane this way. Off unless set; the source's own status
   * file is never read back.
   */
  readonly annotationOverlayDir?: string;
}

interface FileState {
  /** mtime, size and inode: a cheap test before reading (inode catches atomic renames). */
  fingerprint: string;
  hash: string;
  /** The last good objects of the file. */
  objects: readonly KubeObject[];
}

export function createManifestDirectorySource(options: ManifestDirectorySourceOptions): ManifestDirectorySource {
  return new ManifestDirectorySource(options);
}

export class ManifestDirectorySource implements ConfigSource {
  readonly directory: string;
  private readonly logger: ConfigSourceLogger;
  private readonly objects = new ObjectSet();
  private readonly listeners: ListenerSet;
  private readonly status: StatusFile;
  private readonly debouncer: Debouncer;
  private readonly rescanIntervalMs: number;
  private readonly files = new Map<string, FileState>();
  private readonly watchers = new Map<string, FSWatcher>();
  private readonly reportedDuplicates = new Set<string>();
  private readonly overlayDir: string | undefined;
  private readonly ownStatusFile: string;
  /** Overlay file → (fingerprint, annotations by object key). */
  private readonly overlays = new Map<string, { fingerprint: string; annotations: ReadonlyMap<string, Readonly<Record<string, string>>> }>();
  private rescanTimer: NodeJS.Timeout | undefined;
  private scanning: Promise<void> | undefined;
  private rescanRequested = false;
  private pendingErrors: ConfigSourceError[] = [];
  private started = false;
  private closed = false;

  constructor(options: ManifestDirectorySourceOptions) {
    this.directory = path.resolve(options.directory);
    this.logger = options.logger ?? NOOP_LOGGER;
    this.listeners = new ListenerSet(this.logger);
    const statusFile = path.resolve(options.statusFile ?? path.join(this.directory, '.weft', 'status.json'));
    this.ownStatusFile = statusFile;
    this.overlayDir = options.annotationOverlayDir === undefined ? undefined : path.resolve(options.annotationOverlayDir);
    this.status = new StatusFile(statusFile, this.logger, (error) => this.logger.error(error.message, { code: error.code }));
    const delay = options.debounceMs ?? CHANGE_DEBOUNCE_MS;
    this.debouncer = new Debouncer(() => this.requestScan(), delay, Math.max(delay, CHANGE_MAX_DELAY_MS));
    this.rescanIntervalMs = options.rescanIntervalMs ?? MANIFEST_RESCAN_INTERVAL_MS;
  }

  /** Reads the whole directory once and starts watching; rejects with ERR_CONFIG_READ if it cannot be read. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await stat(this.directory).catch((cause: unknown) => {
      throw readError({ file: this.directory }, cause);
    });
    if (this.overlayDir !== undefined) await mkdir(this.overlayDir, { recursive: true });
    if (RECURSIVE_WATCH) this.watchDirectory(this.directory, true);
    await this.scan(true);
    this.rescanTimer = setInterval(() => this.requestScan(), this.rescanIntervalMs);
  }

  snapshot(): ConfigSnapshot {
    return this.objects.snapshot();
  }

  subscribe(listener: ConfigListener): () => void {
    return this.listeners.subscribe(listener);
  }

  reportStatus(key: string, status: ObjectStatus | undefined): void {
    this.status.report(key, status);
  }

  statuses(): ReadonlyMap<string, ObjectStatus> {
    return this.status.statuses();
  }

  /** Writes pending statuses now (a CLI reading `status.json` right after a report). */
  flushStatus(): Promise<void> {
    return this.status.flush();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.rescanTimer !== undefined) clearInterval(this.rescanTimer);
    this.rescanTimer = undefined;
    this.debouncer.close();
    for (const watcher of this.watchers.values()) watcher.close();
    this.watchers.clear();
    await this.scanning;
    await this.status.close();
  }

  private requestScan(): void {
    if (this.closed) return;
    if (this.scanning !== undefined) {
      this.rescanRequested = true; // one more pass once the current one ends
      return;
    }
    this.scanning = this.scan()
      .catch((cause: unknown) => this.logger.error('manifest scan failed', { cause }))
      .finally(() => {
        this.scanning = undefined;
        if (this.rescanRequested) {
          this.rescanRequested = false;
          this.requestScan();
        }
      });
  }

  /** Re-reads changed files, recomputes the object set and emits one event with the net diff. */
  private async scan(initial = false): Promise<void> {
    const errors = this.pendingErrors;
    this.pendingErrors = [];
    const seenFiles = new Set<string>();
    const seenDirs = new Set<string>();
    const changedFiles = new Set<string>();
    const readable = await this.walk(this.directory, seenFiles, seenDirs, changedFiles, errors);
    if (this.overlayDir !== undefined && (await this.readOverlays(errors))) seenDirs.add(this.overlayDir);
    if (this.closed) return;
    if (!readable) {
      // The directory itself is gone or unreadable (a remount in progress?): keep serving what we have. Its
      // watchers point at deleted inodes now; the periodic rescan re-creates them once it is back.
      if (!RECURSIVE_WATCH) this.syncWatchers(new Set());
      this.listeners.emit({ version: this.objects.version, changed: EMPTY_CHANGE, errors });
      return;
    }
    for (const file of [...this.files.keys()]) {
      if (!seenFiles.has(file)) {
        this.files.delete(file);
        changedFiles.add(file);
      }
    }
    // A directory watched only now may have changed after it was read: look once more.
    if (!RECURSIVE_WATCH && this.syncWatchers(seenDirs)) this.debouncer.trigger();
    const change = this.objects.replaceAll(this.resolve(changedFiles, errors));
    if (initial) this.objects.markInitial(); // the first event always comes, even for an empty directory
    else if (isEmptyChange(change) && errors.length === 0) return;
    this.logger.debug('manifest change', { version: this.objects.version, files: [...changedFiles], errors: errors.length });
    this.listeners.emit({ version: this.objects.version, changed: change, errors });
  }

  private async walk(
    dir: string,
    seenFiles: Set<string>,
    seenDirs: Set<string>,
    changedFiles: Set<string>,
    errors: ConfigSourceError[],
  ): Promise<boolean> {
    seenDirs.add(dir);
    let entries: string[];
    try {
      entries = await readdir(dir);
    } catch (cause) {
      if (dir !== this.directory) return true; // a subdirectory removed mid-walk: its files count as deleted
      errors.push(readError({ file: '.' }, cause));
      return false;
    }
    for (const name of entries.sort()) {
      // Dot entries hold editor swap files, our own status file and Kubernetes' `..data` mount internals.
      if (name.startsWith('.')) continue;
      const absolute = path.join(dir, name);
      const info = await stat(absolute).catch(() => undefined); // follows symlinks (ConfigMap mounts)
      if (info === undefined) continue;
      if (info.isDirectory()) {
        await this.walk(absolute, seenFiles, seenDirs, changedFiles, errors);
      } else if (info.isFile() && MANIFEST_EXTENSIONS.has(path.extname(name).toLowerCase())) {
        const file = path.relative(this.directory, absolute);
        seenFiles.add(file);
        await this.readIfChanged(file, absolute, `${info.mtimeMs}:${info.size}:${info.ino}`, changedFiles, errors);
      }
    }
    return true;
  }

  private async readIfChanged(
    file: string,
    absolute: string,
    fingerprint: string,
    changedFiles: Set<string>,
    errors: ConfigSourceError[],
  ): Promise<void> {
    const previous = this.files.get(file);
    if (previous?.fingerprint === fingerprint) return;
    let text: string;
    try {
      text = await readFile(absolute, 'utf8');
    } catch (cause) {
      // Gone between stat and read (an atomic replace in progress): the next pass sees the new file.
      if (previous !== undefined) previous.fingerprint = '';
      errors.push(readError({ file }, cause));
      return;
    }
    const hash = createHash('sha256').update(text).digest('hex');
    if (previous?.hash === hash) {
      previous.fingerprint = fingerprint; // touched, not changed
      return;
    }
    const parsed = parseManifest(file, text);
    errors.push(...parsed.errors);
    const broken = parsed.errors.some((error) => error.severity === 'error');
    this.files.set(file, { fingerprint, hash, objects: broken ? (previous?.objects ?? []) : parsed.objects });
    changedFiles.add(file);
  }

  /** The desired objects: files in name order, the first definition of a key wins. */
  private resolve(changedFiles: ReadonlySet<string>, errors: ConfigSourceError[]): Map<string, KubeObject> {
    const desired = new Map<string, { object: KubeObject; file: string }>();
    const duplicates = new Set<string>();
    for (const file of [...this.files.keys()].sort()) {
      for (const object of this.files.get(file)?.objects ?? []) {
        const key = objectKey(object);
        const kept = desired.get(key);
        if (kept === undefined) {
          desired.set(key, { object, file });
          continue;
        }
        const id = `${key}@${file}`;
        duplicates.add(id);
        // Report a duplicate when it appears or when the losing file was edited, not on every scan.
        if (!this.reportedDuplicates.has(id) || changedFiles.has(file)) {
          errors.push(duplicateObjectError({ file, objectKey: key }, kept.file));
        }
      }
    }
    this.reportedDuplicates.clear();
    for (const id of duplicates) this.reportedDuplicates.add(id);
    return new Map([...desired].map(([key, entry]) => [key, this.overlaid(key, entry.object)]));
  }

  /** The object with the overlay files' annotations for its key laid over its own, files in name order. */
  private overlaid(key: string, object: KubeObject): KubeObject {
    let annotations: Record<string, string> | undefined;
    for (const file of [...this.overlays.keys()].sort()) {
      const extra = this.overlays.get(file)?.annotations.get(key);
      if (extra !== undefined) annotations = { ...(annotations ?? object.metadata.annotations ?? {}), ...extra };
    }
    return annotations === undefined ? object : { ...object, metadata: { ...object.metadata, annotations } };
  }

  /** Re-reads changed overlay files; returns whether the overlay directory exists (so it is watched). */
  private async readOverlays(errors: ConfigSourceError[]): Promise<boolean> {
    const dir = this.overlayDir;
    if (dir === undefined) return false;
    let names: string[];
    try {
      names = (await readdir(dir)).filter((name) => name.endsWith('.json')).sort();
    } catch {
      this.overlays.clear();
      return false;
    }
    const seen = new Set<string>();
    for (const name of names) {
      const absolute = path.join(dir, name);
      if (absolute === this.ownStatusFile) continue;
      seen.add(absolute);
      const info = await stat(absolute).catch(() => undefined);
      if (info === undefined || !info.isFile()) continue;
      const fingerprint = `${info.mtimeMs}:${info.size}:${info.ino}`;
      if (this.overlays.get(absolute)?.fingerprint === fingerprint) continue;
      try {
        this.overlays.set(absolute, { fingerprint, annotations: parseOverlay(await readFile(absolute, 'utf8')) });
      } catch (cause) {
        errors.push(readError({ file: path.relative(this.directory, absolute) }, cause));
      }
    }
    for (const file of [...this.overlays.keys()]) if (!seen.has(file)) this.overlays.delete(file);
    return true;
  }

  /** Returns whether a directory was newly watched. */
  private syncWatchers(dirs: ReadonlySet<string>): boolean {
    for (const [dir, watcher] of this.watchers) {
      if (!dirs.has(dir)) {
        watcher.close();
        this.watchers.delete(dir);
      }
    }
    const before = this.watchers.size;
    for (const dir of dirs) if (!this.watchers.has(dir)) this.watchDirectory(dir, false);
    return this.watchers.size > before;
  }

  private watchDirectory(dir: string, recursive: boolean): void {
    if (this.closed) return;
    try {
      const watcher = watch(dir, { recursive, persistent: true }, () => this.debouncer.trigger());
      watcher.on('error', (cause: unknown) => {
        // The directory went away or the watch broke: drop it; the next scan re-creates what still exists.
        watcher.close();
        if (this.watchers.get(dir) === watcher) this.watchers.delete(dir);
        this.pendingErrors.push(watchError(path.relative(this.directory, dir) || '.', cause));
        this.debouncer.trigger();
      });
      this.watchers.set(dir, watcher);
    } catch (cause) {
      this.pendingErrors.push(
        watchError(path.relative(this.directory, dir) || '.', cause, 'changes are picked up by the periodic rescan'),
      );
    }
  }
}

/** The `annotations` of each status in a status file (StatusFileContent); anything else in it is ignored. */
function parseOverlay(text: string): Map<string, Readonly<Record<string, string>>> {
  const parsed: unknown = JSON.parse(text);
  const statuses = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>)['statuses'] : undefined;
  const out = new Map<string, Readonly<Record<string, string>>>();
  if (typeof statuses !== 'object' || statuses === null) return out;
  for (const [key, status] of Object.entries(statuses)) {
    const annotations = typeof status === 'object' && status !== null ? (status as Record<string, unknown>)['annotations'] : undefined;
    if (typeof annotations !== 'object' || annotations === null) continue;
    const strings = Object.entries(annotations).filter((entry): entry is [string, string] => typeof entry[1] === 'string');
    if (strings.length > 0) out.set(key, Object.fromEntries(strings));
  }
  return out;
}
