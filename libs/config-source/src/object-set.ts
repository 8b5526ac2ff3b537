// The keyed object store both sources share: applies a batch of upserts and deletes, computes the net diff,
// and hands out immutable snapshots. Pure: no timers or I/O (the debounce lives in change-batcher.ts).
import { objectKey, type KubeObject } from '@weft/mesh-config';
import type { ConfigChange, ConfigSnapshot } from './config-source';

export interface ObjectBatch {
  /** Objects to insert or replace, by their `objectKey`. */
  readonly upserts?: Iterable<KubeObject>;
  /** Keys to remove. */
  readonly deletes?: Iterable<string>;
  /** When set, every object of these kinds not in `upserts` is removed (a full re-list of those kinds). */
  readonly replaceKinds?: Iterable<string>;
}

export const EMPTY_CHANGE: ConfigChange = Object.freeze({ added: [], updated: [], removed: [] });

export function isEmptyChange(change: ConfigChange): boolean {
  return change.added.length === 0 && change.updated.length === 0 && change.removed.length === 0;
}

/**
 * Whether `next` differs from `previous`: by resourceVersion when both carry one (the API server's contract),
 * otherwise by deep equality (manifests have no resourceVersion).
 */
export function objectChanged(previous: KubeObject, next: KubeObject): boolean {
  const a = previous.metadata.resourceVersion;
  const b = next.metadata.resourceVersion;
  if (a !== undefined && b !== undefined) return a !== b;
  return !deepEqual(previous, next);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(rb, k) && deepEqual(ra[k], rb[k]));
}

export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

export class ObjectSet {
  private objects = new Map<string, KubeObject>();
  private currentVersion = 0;
  private cached: ConfigSnapshot | undefined;

  get version(): number {
    return this.currentVersion;
  }

  /** Applies a batch and returns the net change; the version only moves when something changed. */
  apply(batch: ObjectBatch): ConfigChange {
    const next = new Map(this.objects);
    const upserted = new Set<string>();
    for (const object of batch.upserts ?? []) {
      const key = objectKey(object);
      upserted.add(key);
      next.set(key, deepFreeze(object));
    }
    for (const key of batch.deletes ?? []) {
      if (!upserted.has(key)) next.delete(key);
    }
    const kinds = new Set(batch.replaceKinds ?? []);
    if (kinds.size > 0) {
      for (const [key, object] of next) {
        if (kinds.has(object.kind) && !upserted.has(key)) next.delete(key);
      }
    }
    return this.commit(next);
  }

  /** Replaces the whole content (the manifest source recomputes everything it holds). */
  replaceAll(objects: ReadonlyMap<string, KubeObject>): ConfigChange {
    const next = new Map<string, KubeObject>();
    for (const [key, object] of objects) next.set(key, deepFreeze(object));
    return this.commit(next);
  }

  /** Moves the version on with nothing changed: the initial snapshot of an empty source is still version 1. */
  markInitial(): void {
    if (this.currentVersion === 0) {
      this.currentVersion = 1;
      this.cached = undefined;
    }
  }

  snapshot(): ConfigSnapshot {
    this.cached ??= createSnapshot(this.objects, this.currentVersion);
    return this.cached;
  }

  private commit(next: Map<string, KubeObject>): ConfigChange {
    const added: KubeObject[] = [];
    const updated: KubeObject[] = [];
    const removed: KubeObject[] = [];
    for (const [key, object] of next) {
      const previous = this.objects.get(key);
      if (previous === undefined) added.push(object);
      else if (previous !== object && objectChanged(previous, object)) updated.push(object);
      else next.set(key, previous); // keep identity so consumers can compare by reference
    }
    for (const [key, object] of this.objects) {
      if (!next.has(key)) removed.push(object);
    }
    if (added.length + updated.length + removed.length === 0) return EMPTY_CHANGE;
    this.objects = next;
    this.currentVersion += 1;
    this.cached = undefined;
    const byKey = (x: KubeObject, y: KubeObject): number => compare(objectKey(x), objectKey(y));
    return { added: added.sort(byKey), updated: updated.sort(byKey), removed: removed.sort(byKey) };
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function createSnapshot(objects: ReadonlyMap<string, KubeObject>, version: number): ConfigSnapshot {
  const byKind = new Map<string, KubeObject[]>();
  for (const key of [...objects.keys()].sort(compare)) {
    const object = objects.get(key);
    if (object === undefined) continue;
    const list = byKind.get(object.kind) ?? [];
    list.push(object);
    byKind.set(object.kind, list);
  }
  return Object.freeze({
    version,
    size: objects.size,
    get: (key: string) => objects.get(key),
    list: (kind: string, namespace?: string): readonly KubeObject[] => {
      const all = byKind.get(kind) ?? [];
      return Object.freeze(namespace === undefined ? [...all] : all.filter((o) => o.metadata.namespace === namespace));
    },
  });
}
