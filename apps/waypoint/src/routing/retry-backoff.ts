// The pause before a retry: Envoy's fully jittered exponential back-off (JitteredBackOffStrategy).

import type { RetryPolicy } from '@weft/mesh-model';

/** Envoy's `upstream.base_retry_backoff_ms` default, used when the policy sets no base interval. */
export const DEFAULT_RETRY_BASE_INTERVAL_MS = 25;
/** Envoy caps the interval at 10 × base when no max_interval is configured (Istio never configures one). */
const MAX_INTERVAL_FACTOR = 10;

/**
 * Milliseconds to wait before the next retry, `retriesSoFar` retries having been made already. As Envoy's
 * JitteredBackOffStrategy::nextBackOffMs: the interval starts at the base, doubles after each retry while below
 * half the max, then stays at the max (10 × base); the wait is uniform in [0, interval). So with 25 ms: [0,25),
 * [0,50), [0,100), [0,200), then [0,250). (Envoy's router docs still describe an older (2^N−1)·base formula; the
 * code doubles.) `random` is uniform in [0, 1).
 */
export function retryBackoffMs(policy: RetryPolicy, retriesSoFar: number, random: () => number): number {
  const base = Math.floor(policy.backoffBaseIntervalMs ?? DEFAULT_RETRY_BASE_INTERVAL_MS);
  if (!(base >= 1)) return 0;
  const max = base * MAX_INTERVAL_FACTOR;
  let interval = base;
  for (let i = 0; i < retriesSoFar && interval < max; i++) {
    interval = interval < Math.floor(max / 2) ? interval * 2 : max;
  }
  return Math.min(Math.floor(random() * interval), interval - 1);
}
