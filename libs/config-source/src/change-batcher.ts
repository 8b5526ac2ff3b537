// Turns a stream of object changes into one event per quiet period: a trailing debounce with an upper bound,
// shared by both sources, plus the listener fan-out. Owns exactly one timer, cleared by close().
import { objectKey, type KubeObject } from '@weft/mesh-config';
import type { ConfigEvent, ConfigListener, ConfigSourceLogger } from './config-source';
import type { ConfigSourceError } from './config-source-error';
import { isEmptyChange, type ObjectSet } from './object-set';

/** Calls `run` once activity has been quiet for `delayMs`, or `maxDelayMs` after the first trigger at the latest. */
export class Debouncer {
  private timer: NodeJS.Timeout | undefined;
  private firstTriggerAt: number | undefined;
  private closed = false;

  constructor(
    private readonly run: () => void,
    private readonly delayMs: number,
    private readonly maxDelayMs: number,
  ) {}

  get pending(): boolean {
    return this.timer !== undefined;
  }

  trigger(): void {
    if (this.closed) return;
    const now = Date.now();
    this.firstTriggerAt ??= now;
    const wait = Math.max(0, Math.min(this.delayMs, this.firstTriggerAt + this.maxDelayMs - now));
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.fire(), wait);
  }

  /** Runs now if something is pending. */
  flush(): void {
    if (this.timer !== undefined) this.fire();
  }

  /** Drops a pending run without running it. */
  cancel(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.firstTriggerAt = undefined;
  }

  close(): void {
    this.closed = true;
    this.cancel();
  }

  private fire(): void {
    this.cancel();
    this.run();
  }
}

export class ListenerSet {
  private readonly listeners = new Set<ConfigListener>();

  constructor(private readonly logger: ConfigSourceLogger) {}

  subscribe(listener: ConfigListener): () => void {
    // Wrap so the same function subscribed twice gets two independent subscriptions.
    const entry: ConfigListener = (event) => listener(event);
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  emit(event: ConfigEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (cause) {
        // A failing consumer must not stop the others from seeing the batch.
        this.logger.error('config listener threw', { version: event.version, cause });
      }
    }
  }
}

/**
 * Accumulates upserts, deletes and errors, and on flush applies them to `objects` in one step and emits one
 * event. Later changes to the same key win within a batch.
 */
export class ChangeBatcher {
  private upserts = new Map<string, KubeObject>();
  private deletes = new Set<string>();
  private replaceKinds = new Set<string>();
  private errors: ConfigSourceError[] = [];
  private readonly debouncer: Debouncer;

  constructor(
    private readonly objects: ObjectSet,
    private readonly listeners: ListenerSet,
    delayMs: number,
    maxDelayMs: number,
  ) {
    this.debouncer = new Debouncer(() => this.flush(), delayMs, maxDelayMs);
  }

  upsert(object: KubeObject): void {
    const key = objectKey(object);
    this.deletes.delete(key);
    this.upserts.set(key, object);
    this.debouncer.trigger();
  }

  delete(object: Pick<KubeObject, 'kind' | 'metadata'>): void {
    const key = objectKey(object);
    this.upserts.delete(key);
    this.deletes.add(key);
    this.debouncer.trigger();
  }

  /** A complete re-list of `kind`: everything of that kind not in `objects` goes away. */
  replaceKind(kind: string, objects: readonly KubeObject[]): void {
    for (const [key, object] of this.upserts) if (object.kind === kind) this.upserts.delete(key);
    for (const object of objects) this.upserts.set(objectKey(object), object);
    this.replaceKinds.add(kind);
    this.debouncer.trigger();
  }

  report(error: ConfigSourceError): void {
    this.errors.push(error);
    this.debouncer.trigger();
  }

  /**
   * Applies whatever is pending now and emits the event if there is anything to say; `initial` always emits
   * (the first event after start, version 1 even when empty).
   */
  flush(initial = false): void {
    this.debouncer.cancel();
    const errors = this.errors;
    const change = this.objects.apply({
      upserts: this.upserts.values(),
      deletes: this.deletes,
      replaceKinds: this.replaceKinds,
    });
    this.upserts = new Map();
    this.deletes = new Set();
    this.replaceKinds = new Set();
    this.errors = [];
    if (initial) this.objects.markInitial();
    else if (isEmptyChange(change) && errors.length === 0) return;
    this.listeners.emit({ version: this.objects.version, changed: change, errors });
  }

  close(): void {
    this.debouncer.close();
  }
}
