// Bounds the CreateCertificate calls in flight (ztunnel: at most 8) with two priorities: a connection waiting for an
// identity goes before prefetches and renewals (reference §3.4).

export type FetchPriority = 'high' | 'low';

/** ztunnel `SecretManager`'s concurrency limit on CA calls. */
export const MAX_CONCURRENT_FETCHES = 8;

interface Queued {
  readonly key: string;
  readonly task: () => Promise<void>;
}

export class FetchLimiter {
  private readonly high: Queued[] = [];
  private readonly low: Queued[] = [];
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly max: number = MAX_CONCURRENT_FETCHES) {
    if (!(Number.isInteger(max) && max > 0)) {
      throw new RangeError(`max concurrent fetches must be a positive integer, got ${max}`);
    }
  }

  /** Runs `task` when a slot is free; `task` must handle its own failures. One queued task per key. */
  enqueue(key: string, priority: FetchPriority, task: () => Promise<void>): void {
    (priority === 'high' ? this.high : this.low).push({ key, task });
    this.pump();
  }

  /** Moves a queued low-priority task ahead of the other low ones; a running task is left alone. */
  raise(key: string): void {
    const index = this.low.findIndex((q) => q.key === key);
    if (index < 0) return;
    const [queued] = this.low.splice(index, 1);
    if (queued !== undefined) this.high.push(queued);
  }

  /** Drops a task that has not started; returns whether one was dropped. */
  cancel(key: string): boolean {
    for (const queue of [this.high, this.low]) {
      const index = queue.findIndex((q) => q.key === key);
      if (index >= 0) {
        queue.splice(index, 1);
        return true;
      }
    }
    return false;
  }

  /** Drops every queued task and resolves once the running ones have settled. */
  async drain(): Promise<void> {
    this.high.length = 0;
    this.low.length = 0;
    await Promise.allSettled([...this.running]);
  }

  get active(): number {
    return this.running.size;
  }

  private pump(): void {
    while (this.running.size < this.max) {
      const next = this.high.shift() ?? this.low.shift();
      if (next === undefined) return;
      const run: Promise<void> = next
        .task()
        .catch(() => undefined)
        .finally(() => {
          this.running.delete(run);
          this.pump();
        });
      this.running.add(run);
    }
  }
}
