// A config source for controller specs: the real ObjectSet, whose content the test sets; each change is one event.

import { ObjectSet, type ConfigListener, type ConfigSource } from '@weft/config-source';
import { objectKey, type KubeObject } from '@weft/mesh-config';

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
