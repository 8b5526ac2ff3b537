import {
  CERT_FETCH_BACKOFF_FACTOR,
  CERT_FETCH_BACKOFF_INITIAL_MS,
  CERT_FETCH_BACKOFF_JITTER,
  CERT_FETCH_BACKOFF_MAX_MS,
  createBackoff,
  renewalTime,
} from './rotation';

describe('renewalTime', () => {
  it.each<[string, string, string, string]>([
    ['a 24 h workload certificate', '2025-01-01T00:00:00Z', '2025-01-02T00:00:00Z', '2025-01-01T12:00:00.000Z'],
    ['a 1 h certificate', '2025-01-01T10:00:00Z', '2025-01-01T11:00:00Z', '2025-01-01T10:30:00.000Z'],
    ['an odd-second lifetime (rounded down to the ms)', '2025-01-01T00:00:00Z', '2025-01-01T00:00:01.001Z', '2025-01-01T00:00:00.500Z'],
    ['a zero lifetime', '2025-01-01T00:00:00Z', '2025-01-01T00:00:00Z', '2025-01-01T00:00:00.000Z'],
    ['an inverted validity (due at notAfter)', '2025-01-02T00:00:00Z', '2025-01-01T00:00:00Z', '2025-01-01T00:00:00.000Z'],
  ])('renews %s at half-life', (_name, notBefore, notAfter, expected) => {
    expect(renewalTime(new Date(notBefore), new Date(notAfter)).toISOString()).toBe(expected);
  });
});

describe('createBackoff', () => {
  it('uses ztunnel\'s parameters by default', () => {
    expect([CERT_FETCH_BACKOFF_INITIAL_MS, CERT_FETCH_BACKOFF_MAX_MS, CERT_FETCH_BACKOFF_FACTOR, CERT_FETCH_BACKOFF_JITTER]).toEqual([
      500, 150_000, 2, 0.2,
    ]);
  });

  it('doubles from 500 ms and stops at 150 s', () => {
    const backoff = createBackoff({ initialMs: 500, maxMs: 150_000, factor: 2, jitter: 0 });
    const sequence = Array.from({ length: 12 }, (_, attempt) => backoff.delayMs(attempt));
    expect(sequence).toEqual([500, 1000, 2000, 4000, 8000, 16_000, 32_000, 64_000, 128_000, 150_000, 150_000, 150_000]);
    expect(backoff.intervalMs(2000)).toBe(150_000);
  });

  it.each<[string, number, number]>([
    ['the lowest draw', 0, 800],
    ['the middle draw', 0.5, 1000],
    ['a high draw', 0.75, 1100],
  ])('spreads the delay by ±jitter: %s', (_name, draw, expected) => {
    const backoff = createBackoff({ jitter: 0.2, random: () => draw });
    expect(backoff.intervalMs(1)).toBe(1000);
    expect(backoff.delayMs(1)).toBe(expected);
  });

  it('never exceeds the maximum, even with the jitter', () => {
    const backoff = createBackoff({ random: () => 0.999 });
    expect(backoff.delayMs(20)).toBe(150_000);
    expect(backoff.delayMs(0)).toBe(600);
  });

  it('draws a fresh random number per call', () => {
    const draws = [0, 1 - Number.EPSILON];
    const backoff = createBackoff({ random: () => draws.shift() ?? 0.5 });
    expect([backoff.delayMs(0), backoff.delayMs(0), backoff.delayMs(0)]).toEqual([400, 600, 500]);
  });

  it('stays within the band with the default random source', () => {
    const backoff = createBackoff();
    for (let i = 0; i < 50; i += 1) {
      const delay = backoff.delayMs(3);
      expect(delay).toBeGreaterThanOrEqual(3200);
      expect(delay).toBeLessThanOrEqual(4800);
    }
  });

  it.each<[string, () => unknown]>([
    ['a negative attempt', () => createBackoff().delayMs(-1)],
    ['a fractional attempt', () => createBackoff().intervalMs(1.5)],
    ['a zero initial delay', () => createBackoff({ initialMs: 0 })],
    ['a maximum below the initial delay', () => createBackoff({ initialMs: 1000, maxMs: 10 })],
    ['a shrinking factor', () => createBackoff({ factor: 0.5 })],
    ['a jitter above 1', () => createBackoff({ jitter: 1.5 })],
  ])('throws RangeError for %s', (_name, call) => {
    expect(call).toThrow(RangeError);
  });
});
