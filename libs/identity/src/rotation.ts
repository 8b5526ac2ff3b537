// When a workload certificate is renewed and how failed fetches are retried (reference §3.4), as pure functions so
// the proxy's scheduler owns the timers and tests own the clock and the randomness.

/** ztunnel `ExponentialBackoff.initial_interval`. */
export const CERT_FETCH_BACKOFF_INITIAL_MS = 500;
/** ztunnel `CERT_REFRESH_FAILURE_RETRY_DELAY_MAX_INTERVAL` (150 s). */
export const CERT_FETCH_BACKOFF_MAX_MS = 150_000;
/** ztunnel `ExponentialBackoff.multiplier`. */
export const CERT_FETCH_BACKOFF_FACTOR = 2;
/** ztunnel `ExponentialBackoff.randomization_factor`: each delay lands within ±20 % of the nominal interval. */
export const CERT_FETCH_BACKOFF_JITTER = 0.2;

/**
 * ztunnel's `WorkloadCertificate::refresh_at`: renew at half-life, `notBefore + (notAfter − notBefore) / 2`.
 * A certificate whose notAfter precedes its notBefore is due at notAfter, i.e. at once.
 */
export function renewalTime(notBefore: Date, notAfter: Date): Date {
  const lifetime = notAfter.getTime() - notBefore.getTime();
  if (lifetime < 0) return new Date(notAfter.getTime());
  return new Date(notBefore.getTime() + Math.floor(lifetime / 2));
}

export interface BackoffOptions {
  readonly initialMs?: number;
  readonly maxMs?: number;
  readonly factor?: number;
  /** Randomisation factor in [0, 1]: the delay is drawn from `interval × [1 − jitter, 1 + jitter]`. */
  readonly jitter?: number;
  /** Uniform in [0, 1), like Math.random; injected so tests are deterministic. Default Math.random. */
  readonly random?: () => number;
}

export interface Backoff {
  /** The nominal interval before retry number `attempt` (0 = first retry): `min(max, initial × factor^attempt)`. */
  intervalMs(attempt: number): number;
  /** The jittered delay before retry number `attempt`, never above `maxMs`. */
  delayMs(attempt: number): number;
}

/**
 * Exponential backoff for one identity's certificate fetch; ztunnel keeps one per identity so a failing identity
 * does not delay the others. The caller counts attempts and resets to 0 after a success.
 */
export function createBackoff(options: BackoffOptions = {}): Backoff {
  const initialMs = options.initialMs ?? CERT_FETCH_BACKOFF_INITIAL_MS;
  const maxMs = options.maxMs ?? CERT_FETCH_BACKOFF_MAX_MS;
  const factor = options.factor ?? CERT_FETCH_BACKOFF_FACTOR;
  const jitter = options.jitter ?? CERT_FETCH_BACKOFF_JITTER;
  const random = options.random ?? Math.random;
  if (!(initialMs > 0) || !(maxMs >= initialMs) || !(factor >= 1)) {
    throw new RangeError(`backoff needs 0 < initialMs <= maxMs and factor >= 1, got ${initialMs}, ${maxMs}, ${factor}`);
  }
  if (!(jitter >= 0 && jitter <= 1)) throw new RangeError(`backoff jitter must be within [0, 1], got ${jitter}`);

  const intervalMs = (attempt: number): number => {
    if (!Number.isInteger(attempt) || attempt < 0) {
      throw new RangeError(`attempt must be a non-negative integer, got ${attempt}`);
    }
    // factor^attempt overflows to Infinity for large attempts; min() still lands on maxMs.
    return Math.min(maxMs, initialMs * factor ** attempt);
  };
  return {
    intervalMs,
    delayMs(attempt) {
      const interval = intervalMs(attempt);
      const scale = 1 - jitter + 2 * jitter * random();
      // The backoff crate ztunnel uses may overshoot max by the jitter; capping keeps maxMs a true ceiling.
      return Math.min(maxMs, Math.round(interval * scale));
    },
  };
}
