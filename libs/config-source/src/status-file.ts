// Keeps the statuses the mesh reports in manifest mode (there is no API server to patch) and writes them to a
// JSON file so a CLI can show them. Writes are debounced and atomic (temp file, then rename).
import { mkdir, rename, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { Debouncer } from './change-batcher';
import { CHANGE_DEBOUNCE_MS, CHANGE_MAX_DELAY_MS, type ConfigSourceLogger, type ObjectStatus } from './config-source';
import { statusWriteError, type ConfigSourceError } from './config-source-error';

/** What `status.json` holds: statuses by `objectKey`, keys sorted so diffs of the file stay readable. */
export interface StatusFileContent {
  readonly statuses: Readonly<Record<string, ObjectStatus>>;
}

export class StatusFile {
  private readonly entries = new Map<string, ObjectStatus>();
  private readonly debouncer: Debouncer;
  private writing: Promise<void> = Promise.resolve();
  private dirty = false;
  private sequence = 0;

  constructor(
    /** Absolute path of the file; `undefined` keeps statuses in memory only. */
    readonly file: string | undefined,
    private readonly logger: ConfigSourceLogger,
    private readonly onError: (error: ConfigSourceError) => void,
  ) {
    this.debouncer = new Debouncer(() => void this.write(), CHANGE_DEBOUNCE_MS, CHANGE_MAX_DELAY_MS);
  }

  report(key: string, status: ObjectStatus | undefined): void {
    if (status === undefined) {
      if (!this.entries.delete(key)) return;
    } else {
      this.entries.set(key, Object.freeze({ ...status }));
    }
    this.dirty = true;
    if (this.file !== undefined) this.debouncer.trigger();
  }

  statuses(): ReadonlyMap<string, ObjectStatus> {
    return new Map(this.entries);
  }

  /** Writes any pending change now and waits for it. */
  async flush(): Promise<void> {
    this.debouncer.cancel();
    await this.write();
  }

  async close(): Promise<void> {
    await this.flush();
    this.debouncer.close();
  }

  private write(): Promise<void> {
    // Writes are chained so two never race on the temp file.
    this.writing = this.writing.then(() => this.writeOnce());
    return this.writing;
  }

  private async writeOnce(): Promise<void> {
    const file = this.file;
    if (file === undefined || !this.dirty) return;
    this.dirty = false;
    const statuses: Record<string, ObjectStatus> = {};
    for (const key of [...this.entries.keys()].sort()) {
      const status = this.entries.get(key);
      if (status !== undefined) statuses[key] = status;
    }
    const content: StatusFileContent = { statuses };
    const temp = `${file}.${process.pid}.${++this.sequence}.tmp`;
    try {
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(temp, `${JSON.stringify(content, null, 2)}\n`);
      await rename(temp, file);
      this.logger.debug('wrote status file', { file, objects: this.entries.size });
    } catch (cause) {
      this.dirty = true; // try again with the next report
      this.onError(statusWriteError(file, cause));
    }
  }
}
