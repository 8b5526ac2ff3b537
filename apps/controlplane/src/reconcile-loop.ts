// How the controlplane's Kubernetes controllers run their reconciles: one at a time, changes made meanwhile folded
// into one more pass on the newest state, failures retried with exponential backoff, and a close that waits for the
// pass in flight up to a deadline (client-go's work queue, for a queue that holds one item: "everything").

import type { MessageFirstLogger } from './logging';

export interface ReconcileLoopOptions {
  /** Names the controller in log lines (`waypoint reconcile failed`). */
  readonly name: string;
  /**
   * One pass over the newest state; resolves how many writes failed (0: done). It should return early once
   * `stopped()` is true. A throw counts as one failure.
   */
  readonly reconcile: (stopped: () => boolean) => Promise<number>;
  readonly logger: MessageFirstLogger;
  /** First retry after a failed pass; doubles per consecutive failed pass up to `retryMaxMs`. */
  readonly retryMinMs: number;
  readonly retryMaxMs: number;
}

/** The delay before retrying after `failures` consecutive failed passes (1 → `minMs`). */
export function retryDelayMs(failures: number, minMs: number, maxMs: number): number {
  return Math.min(maxMs, minMs * 2 ** Math.max(0, failures - 1));
}

export class ReconcileLoop {
  /** A pass is wanted; set again while one runs, so the newest state is always read once more. */
  private dirty = false;
  private running: Promise<void> | undefined;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;
  private isStopped = false;

  constructor(private readonly options: ReconcileLoopOptions) {}

  get stopped(): boolean {
    return this.isStopped;
  }

  /** Asks for a pass: now if none runs, else once more after the one running. */
  schedule(): void {
    if (this.isStopped) return;
    this.dirty = true;
    if (this.running !== undefined) return;
    this.running = this.drain().finally(() => {
      this.running = undefined;
    });
  }

  /** Stops scheduling and waits for the pass in flight up to the deadline. Idempotent. */
  close(deadlineMs: number): Promise<void> {
    this.closing ??= this.closeWithin(deadlineMs);
    return this.closing;
  }

  /** Stops scheduling at once; a pass in flight finishes unobserved. Idempotent. */
  destroy(): void {
    this.isStopped = true;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private async closeWithin(deadlineMs: number): Promise<void> {
    const running = this.running;
    this.destroy();
    if (running === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.options.logger.warn(`${this.options.name} reconcile still running at shutdown; leaving it`, { deadlineMs });
        resolve();
      }, deadlineMs);
    });
    await Promise.race([running, deadline]);
    clearTimeout(timer);
  }

  private async drain(): Promise<void> {
    while (this.dirty && !this.isStopped) {
      this.dirty = false;
      let failed: number;
      try {
        failed = await this.options.reconcile(() => this.isStopped);
      } catch (cause) {
        // A bug in planning must not end reconciling: it is logged and retried like a failed write.
        this.options.logger.error(`${this.options.name} reconcile failed`, { err: cause });
        failed = 1;
      }
      if (!this.isStopped) this.settle(failed);
    }
  }

  /** Schedules the retry after failures, or clears it after a clean pass. */
  private settle(failed: number): void {
    if (failed === 0) {
      this.failures = 0;
      if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      return;
    }
    this.failures += 1;
    if (this.retryTimer !== undefined) return; // a newer change retried sooner; keep the pending timer
    const delayMs = retryDelayMs(this.failures, this.options.retryMinMs, this.options.retryMaxMs);
    this.options.logger.warn(`${this.options.name} reconcile incomplete; retrying`, { failed, failures: this.failures, delayMs });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.schedule();
    }, delayMs);
  }
}
