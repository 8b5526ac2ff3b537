// Fakes the controller specs share: a config source on the real ObjectSet, and a logger that records its lines.

import { ObjectSet, type ConfigListener, type ConfigSource } from '@weft/config-source';
import { objectKey, type KubeObject } from '@weft/mesh-config';

import type { MessageFirstLogger } from '../src/logging';

export class FakeSource implements Pick<ConfigSource, 'subscribe' | 'snapshot'> {
  private readonly objects = new ObjectSet();
  private readonly listeners = new Set<ConfigListener>();

  subscribe(listener: ConfigListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  snapshot(): ReturnType<ObjectSet['snapshot']> {
    return this.objects.snapshot();
  }

  upsert(...objects: KubeObject[]): void {
    this.emit(this.objects.apply({ upserts: objects }));
  }

  remove(...objects: KubeObject[]): void {
    this.emit(this.objects.apply({ deletes: objects.map(objectKey) }));
  }

  /** The first event of a source that listed nothing. */
  listed(): void {
    this.objects.markInitial();
    this.emit({ added: [], updated: [], removed: [] });
  }

  private emit(changed: ReturnType<ObjectSet['apply']>): void {
    for (const listener of this.listeners) listener({ version: this.objects.version, changed, errors: [] });
  }
}

export interface LogLine {
  readonly level: string;
  readonly message: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

/** A logger that hands every line to `record`. */
export function recordingLogger(record: (line: LogLine) => void): MessageFirstLogger {
  const log =
    (level: string) =>
    (message: string, fields: Readonly<Record<string, unknown>> = {}): void => {
      record({ level, message, fields });
    };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}
