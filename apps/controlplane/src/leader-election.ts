// Leader election over a coordination.k8s.io/v1 Lease, as istiod runs its write-side controllers: every replica
// serves xDS and the CA, one holds the Lease and writes to the cluster. The loop is client-go's leaderelection
// (tools/leaderelection); the decision on each attempt is pipeline/lease-decision.ts.

import type { KubeApi } from '@weft/config-source';

import type { MessageFirstLogger } from './logging';
import { decideLease, LEASE_API_VERSION, LEASE_KIND, releasedLease } from './pipeline/lease-decision';

/** The Lease the controlplane replicas compete for, in their own namespace. */
export const CONTROLPLANE_LEASE = 'weft-controlplane-leader';

/** client-go's defaults (istiod uses the same): how long a Lease holds without renewal… */
export const LEADER_LEASE_DURATION_MS = 15_000;
/** …how long a leader keeps trying to renew before it steps down (shorter, so it stops before others take over)… */
export const LEADER_RENEW_DEADLINE_MS = 10_000;
/** …and how often each replica tries to acquire or renew. */
export const LEADER_RETRY_PERIOD_MS = 2_000;
/** How long `close()` waits for the attempt in flight and the release. */
export const LEADER_CLOSE_DEADLINE_MS = 5_000;

export interface LeaderElection {
  /** True while this replica holds the lease. */
  isLeader(): boolean;
  /** Listener called with true on acquiring and false on losing the lease; returns the unsubscribe function. */
  onChange(listener: (leading: boolean) => void): () => void;
  start(): void;
  /** Stops trying; if leading, releases the lease (best effort, within the deadline) and reports false. Idempotent. */
  close(deadlineMs?: number): Promise<void>;
}

export interface LeaderElectionOptions {
  readonly api: Pick<KubeApi, 'getObject' | 'createObject' | 'replaceObject'>;
  readonly namespace: string;
  /** The Lease. */
  readonly name: string;
  /** This replica (the pod name). */
  readonly identity: string;
  readonly logger: MessageFirstLogger;
  /** Written into the Lease in whole seconds, rounded up (at least 1 s). Default 15 s. */
  readonly leaseDurationMs?: number;
  /** Default 10 s; must be below the lease duration. */
  readonly renewDeadlineMs?: number;
  /** Default 2 s; must be below the renew deadline. */
  readonly retryPeriodMs?: number;
  readonly now?: () => number;
}

/**
 * Stable code; match on `code`, never on `message`.
 *
 * - `ERR_LEADER_ELECTION_CONFIG_INVALID`: the identity is empty, or the timings do not satisfy
 *   lease duration > renew deadline > retry period > 0 (client-go's own check).
 */
export class LeaderElectionError extends Error {
  override readonly name = 'LeaderElectionError';
  readonly code = 'ERR_LEADER_ELECTION_CONFIG_INVALID';
}

export function createLeaderElection(options: LeaderElectionOptions): LeaderElection {
  return new LeaseLeaderElection(options);
}

/**
 * Manifest mode and tests: one process, always the leader. It leads from creation, so listeners hear only the
 * `false` that `close()` reports.
 */
export function soleLeader(): LeaderElection {
  const listeners = new Set<(leading: boolean) => void>();
  let leading = true;
  return {
    isLeader: () => leading,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    start: () => undefined,
    async close() {
      if (!leading) return;
      leading = false;
      for (const listener of [...listeners]) listener(false);
    },
  };
}

class LeaseLeaderElection implements LeaderElection {
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly now: () => number;
  private readonly fields: Readonly<Record<string, string>>;
  private readonly listeners = new Set<(leading: boolean) => void>();
  /** The one timer: the next attempt, or the renew deadline when that comes first. */
  private timer: NodeJS.Timeout | undefined;
  private attempt: Promise<void> | undefined;
  private leading = false;
  /** The `renewTime` of this replica's last stored write as holder; undefined once it knows it no longer holds it. */
  private renewedAtMs: number | undefined;
  private observedHolder: string | undefined;
  private started = false;
  private closed = false;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: LeaderElectionOptions) {
    this.leaseDurationMs = options.leaseDurationMs ?? LEADER_LEASE_DURATION_MS;
    this.renewDeadlineMs = options.renewDeadlineMs ?? LEADER_RENEW_DEADLINE_MS;
    this.retryPeriodMs = options.retryPeriodMs ?? LEADER_RETRY_PERIOD_MS;
    this.now = options.now ?? Date.now;
    if (options.identity === '') throw new LeaderElectionError('leader election needs a non-empty identity (the pod name)');
    if (!(this.leaseDurationMs > this.renewDeadlineMs && this.renewDeadlineMs > this.retryPeriodMs && this.retryPeriodMs > 0)) {
      const { leaseDurationMs, renewDeadlineMs, retryPeriodMs } = this;
      throw new LeaderElectionError(
        `leader election timings must satisfy lease duration > renew deadline > retry period > 0; got ${leaseDurationMs} ms, ${renewDeadlineMs} ms, ${retryPeriodMs} ms`,
      );
    }
    this.fields = { lease: `${options.namespace}/${options.name}`, identity: options.identity };
  }

  isLeader(): boolean {
    return this.leading;
  }

  onChange(listener: (leading: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    this.options.logger.info('attempting to acquire the leader lease', this.fields);
    this.tick();
  }

  close(deadlineMs = LEADER_CLOSE_DEADLINE_MS): Promise<void> {
    this.closing ??= this.closeWithin(deadlineMs);
    return this.closing;
  }

  private async closeWithin(deadlineMs: number): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    // Reported before the Lease is freed, so this replica's writers stop before another replica's start
    // (client-go's ReleaseOnCancel asks the same of its callers).
    this.setLeading(false);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), deadlineMs);
    });
    const released = await Promise.race([this.release().then(() => true), deadline]);
    clearTimeout(timer);
    if (!released) this.options.logger.warn('leader lease release still running at shutdown; the lease expires on its own', { ...this.fields, deadlineMs });
  }

  /** Starts an attempt unless one is in flight, then arms the timer for the next. */
  private tick(): void {
    this.timer = undefined;
    if (this.closed) return;
    this.settle();
    if (this.closed) return; // a listener closed the election on hearing the step-down
    if (this.attempt === undefined) {
      this.attempt = this.tryAcquireOrRenew().finally(() => {
        this.attempt = undefined;
        this.settle();
      });
    }
    let delayMs = this.retryPeriodMs;
    if (this.leading && this.renewedAtMs !== undefined) {
      delayMs = Math.min(delayMs, Math.max(0, this.renewedAtMs + this.renewDeadlineMs - this.now()));
    }
    this.timer = setTimeout(() => this.tick(), delayMs);
  }

  /** One read and at most one write; never throws (failures are logged and retried on the next tick). */
  private async tryAcquireOrRenew(): Promise<void> {
    const { api, namespace, name, identity, logger } = this.options;
    try {
      const current = await api.getObject(LEASE_API_VERSION, LEASE_KIND, namespace, name);
      if (this.closed) return;
      const nowMs = this.now();
      const decision = decideLease({ current, namespace, name, identity, nowMs, leaseDurationMs: this.leaseDurationMs });
      if (decision.action === 'wait') {
        // Someone else holds it: whatever this replica last wrote is gone, so it steps down at once.
        this.renewedAtMs = undefined;
        this.observe(decision.holder);
        return;
      }
      const stored = decision.action === 'create' ? await api.createObject(decision.lease) : await api.replaceObject(decision.lease);
      if (!stored) {
        logger.debug('the leader lease was written by another replica first; retrying', { ...this.fields, action: decision.action });
        return;
      }
      this.renewedAtMs = nowMs;
      this.observe(identity);
      if (decision.action === 'takeover') logger.info('took over the leader lease', { ...this.fields, previousHolder: decision.previousHolder });
    } catch (cause) {
      logger.warn('leader lease attempt failed; retrying', { ...this.fields, retryPeriodMs: this.retryPeriodMs, err: cause });
    }
  }

  /** Leading is holding the Lease with a renewal younger than the renew deadline (client-go's renew loop). */
  private settle(): void {
    const sinceRenewMs = this.renewedAtMs === undefined ? Number.POSITIVE_INFINITY : this.now() - this.renewedAtMs;
    const leading = !this.closed && sinceRenewMs < this.renewDeadlineMs;
    if (this.leading && !leading && this.renewedAtMs !== undefined && !this.closed) {
      this.options.logger.warn('leader lease not renewed within the renew deadline; stepping down', { ...this.fields, renewDeadlineMs: this.renewDeadlineMs });
    }
    this.setLeading(leading);
  }

  private setLeading(leading: boolean): void {
    if (this.leading === leading) return;
    this.leading = leading;
    this.options.logger.info(leading ? 'became the leader' : 'stopped leading', this.fields);
    for (const listener of [...this.listeners]) {
      if (this.leading !== leading) return; // a listener changed it again (closed the election): the newer call reports
      try {
        const result: unknown = listener(leading);
        if (result instanceof Promise) result.catch((cause: unknown) => this.listenerFailed(cause));
      } catch (cause) {
        this.listenerFailed(cause);
      }
    }
  }

  private listenerFailed(cause: unknown): void {
    this.options.logger.error('leader election listener failed', { ...this.fields, err: cause });
  }

  /** Logs a change of holder, as client-go's OnNewLeader. */
  private observe(holder: string): void {
    if (holder === this.observedHolder) return;
    this.observedHolder = holder;
    if (holder !== this.options.identity) this.options.logger.info('new leader observed', { ...this.fields, leader: holder });
  }

  /** After the attempt in flight, gives the Lease up if this replica still holds it (client-go `release`). */
  private async release(): Promise<void> {
    await this.attempt;
    if (this.renewedAtMs === undefined) return;
    const { api, namespace, name, identity, logger } = this.options;
    try {
      const current = await api.getObject(LEASE_API_VERSION, LEASE_KIND, namespace, name);
      const released = current === undefined ? undefined : releasedLease(current, identity, this.now());
      if (released === undefined) return; // no longer ours
      if (await api.replaceObject(released)) {
        this.renewedAtMs = undefined;
        logger.info('released the leader lease', this.fields);
      } else {
        logger.warn('the leader lease changed while releasing it; it expires on its own', this.fields);
      }
    } catch (cause) {
      logger.warn('releasing the leader lease failed; it expires on its own', { ...this.fields, err: cause });
    }
  }
}
