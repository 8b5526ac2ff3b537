import type { ConnectionPool } from '@weft/mesh-model';
import { ConnectionPoolLimits, UNLIMITED } from './connection-pool-limits';

const http = (overrides: Partial<NonNullable<ConnectionPool['http']>>): ConnectionPool['http'] => ({
  http1MaxPendingRequests: 0,
  http2MaxRequests: 0,
  maxRequestsPerConnection: 0,
  maxRetries: 0,
  maxConcurrentStreams: 0,
  ...overrides,
});

/** How many `try` calls succeed before the first refusal (capped, for the unlimited cases). */
function admitted(tryStart: () => boolean, cap = 5000): number {
  let n = 0;
  while (n < cap && tryStart()) n += 1;
  return n;
}

describe('ConnectionPoolLimits', () => {
  it.each<[string, ConnectionPool | undefined, number, number]>([
    // [name, pool, requests admitted, retries admitted] — 5000 stands for "unlimited" here.
    ['no pool: Istio defaults, effectively unlimited (not Envoy’s 3 retries)', undefined, 5000, 5000],
    ['zeros mean the defaults', { http: http({}) }, 5000, 5000],
    ['http2MaxRequests caps active requests', { http: http({ http2MaxRequests: 3 }) }, 3, 5000],
    ['maxRetries caps concurrent retries', { http: http({ maxRetries: 2 }) }, 5000, 2],
    [
      'tcp.maxConnections plus http1MaxPendingRequests cap admitted requests',
      { tcp: { maxConnections: 2 }, http: http({ http1MaxPendingRequests: 1 }) },
      3,
      5000,
    ],
    [
      'the smaller of the two limits wins',
      { tcp: { maxConnections: 2 }, http: http({ http1MaxPendingRequests: 1, http2MaxRequests: 2 }) },
      2,
      5000,
    ],
  ])('%s', (_name, pool, requests, retries) => {
    const limits = new ConnectionPoolLimits(pool);
    expect(admitted(() => limits.tryStartRequest())).toBe(requests);
    expect(admitted(() => limits.tryStartRetry())).toBe(retries);
  });

  it('frees a slot when a request or retry finishes, and never counts below zero', () => {
    const limits = new ConnectionPoolLimits({ http: http({ http2MaxRequests: 1, maxRetries: 1 }) });
    limits.finishRequest();
    limits.finishRetry();
    expect(limits.tryStartRequest()).toBe(true);
    expect(limits.tryStartRequest()).toBe(false);
    limits.finishRequest();
    expect(limits.tryStartRequest()).toBe(true);
    expect(limits.tryStartRetry()).toBe(true);
    expect(limits.tryStartRetry()).toBe(false);
    limits.finishRetry();
    expect(limits.tryStartRetry()).toBe(true);
  });

  it('uses 2^32-1 as the unlimited default', () => {
    expect(UNLIMITED).toBe(4_294_967_295);
  });
});
