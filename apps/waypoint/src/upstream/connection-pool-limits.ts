// Circuit breaking of one upstream cluster: the Envoy thresholds istiod derives from a DestinationRule's
// ConnectionPoolSettings (`applyConnectionPool`, reference §7.4). Admission counters only; the caller answers an
// overflow with 503 and response flag UO.

import type { ConnectionPool } from '@weft/mesh-model';

/**
 * Istio's default for every threshold (`getDefaultCircuitBreakerThresholds`): 2^32-1, effectively unlimited. This
 * replaces Envoy's own defaults (1024 connections/pending/requests, and only 3 concurrent retries), which Istio
 * found too low during pod churn, so an unset `maxRetries` does NOT mean Envoy's 3.
 */
export const UNLIMITED = 2 ** 32 - 1;

/**
 * Circuit breaking from ConnectionPool: http2MaxRequests (max active requests), http1MaxPendingRequests,
 * maxRetries, tcp.maxConnections. Overflow → the caller answers 503 with flag UO. Defaults effectively unlimited.
 *
 * istiod copies a limit only when it is positive, so 0 (the domain's "unset") keeps the unlimited default. Requests
 * and retries are counted separately: a retry attempt takes a retry slot (`tryStartRetry`) and, as Envoy counts it
 * among active requests too, a request slot (`tryStartRequest`).
 *
 * Without a connection pool of its own, the waypoint models each active request as holding one upstream connection
 * (HTTP/1.1 semantics): requests beyond `maxConnections` are those Envoy would queue as pending, so at most
 * `maxConnections + http1MaxPendingRequests` requests are admitted, and never more than `http2MaxRequests`.
 */
export class ConnectionPoolLimits {
  private readonly maxRequests: number;
  private readonly maxAdmitted: number;
  private readonly maxRetries: number;
  private activeRequests = 0;
  private activeRetries = 0;

  constructor(pool: ConnectionPool | undefined) {
    const http = pool?.http;
    const maxConnections = limit(pool?.tcp?.maxConnections);
    const maxPending = limit(http?.http1MaxPendingRequests);
    this.maxRequests = limit(http?.http2MaxRequests);
    this.maxAdmitted = Math.min(this.maxRequests, maxConnections + maxPending);
    this.maxRetries = limit(http?.maxRetries);
  }

  /** Takes a request slot; false when a limit is reached (Envoy's `upstream_rq_pending_overflow` / max requests). */
  tryStartRequest(): boolean {
    if (this.activeRequests >= this.maxAdmitted) return false;
    this.activeRequests += 1;
    return true;
  }

  finishRequest(): void {
    this.activeRequests = Math.max(this.activeRequests - 1, 0);
  }

  /**
   * Takes a retry slot; false when `maxRetries` retries are already in flight (Envoy's `upstream_rq_retry_overflow`).
   * Envoy then skips the retry and returns the response it already has, rather than a 503.
   */
  tryStartRetry(): boolean {
    if (this.activeRetries >= this.maxRetries) return false;
    this.activeRetries += 1;
    return true;
  }

  finishRetry(): void {
    this.activeRetries = Math.max(this.activeRetries - 1, 0);
  }
}

function limit(value: number | undefined): number {
  return value !== undefined && value > 0 ? value : UNLIMITED;
}
