import type { OutlierDetection } from '@weft/mesh-model';
import { OutlierDetector, type RequestOutcome } from './outlier-detector';
import type { Endpoint } from './resolve-endpoints';

const policy = (overrides: Partial<OutlierDetection> = {}): OutlierDetection => ({
  maxEjectionPercent: 100,
  minHealthPercent: 0,
  splitExternalLocalOriginErrors: false,
  ...overrides,
});

const ok: RequestOutcome = { kind: 'response', status: 200 };
const s500: RequestOutcome = { kind: 'response', status: 500 };
const s503: RequestOutcome = { kind: 'response', status: 503 };
const s404: RequestOutcome = { kind: 'response', status: 404 };
const local: RequestOutcome = { kind: 'local-failure' };

/** A clock the test moves by hand. */
function clock(start = 0): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('OutlierDetector consecutive errors', () => {
  it.each<[string, OutlierDetection | undefined, readonly RequestOutcome[], boolean]>([
    ['no policy never ejects', undefined, Array<RequestOutcome>(20).fill(s500), false],
    ['default 5 consecutive 5xx eject', policy(), Array<RequestOutcome>(5).fill(s500), true],
    ['4 are not enough', policy(), Array<RequestOutcome>(4).fill(s500), false],
    ['a success resets the count', policy(), [s500, s500, s500, s500, ok, s500], false],
    ['a 4xx resets the count too', policy(), [s500, s500, s500, s500, s404, s500], false],
    [
      'consecutive5xxErrors 0 disables',
      policy({ consecutive5xxErrors: 0 }),
      Array<RequestOutcome>(20).fill(s500),
      false,
    ],
    ['a configured threshold', policy({ consecutive5xxErrors: 2 }), [s500, s500], true],
    ['local failures count as 5xx', policy({ consecutive5xxErrors: 3 }), [local, s500, local], true],
    [
      'gateway errors are off unless set',
      policy({ consecutive5xxErrors: 0 }),
      Array<RequestOutcome>(20).fill(s503),
      false,
    ],
    [
      'consecutive gateway errors when set',
      policy({ consecutive5xxErrors: 0, consecutiveGatewayErrors: 2 }),
      [s503, s503],
      true,
    ],
    [
      'a non-gateway 5xx breaks a gateway run',
      policy({ consecutive5xxErrors: 0, consecutiveGatewayErrors: 2 }),
      [s503, s500, s503],
      false,
    ],
    [
      'local failures are gateway errors',
      policy({ consecutive5xxErrors: 0, consecutiveGatewayErrors: 2 }),
      [local, local],
      true,
    ],
    [
      'split: local failures stay out of the 5xx count',
      policy({ consecutive5xxErrors: 2, splitExternalLocalOriginErrors: true }),
      [local, s500, local],
      false,
    ],
    [
      'split: consecutive local-origin failures (default 5)',
      policy({ consecutive5xxErrors: 0, splitExternalLocalOriginErrors: true }),
      Array<RequestOutcome>(5).fill(local),
      true,
    ],
    [
      'split: a response resets the local-origin count',
      policy({ consecutive5xxErrors: 0, splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailures: 2 }),
      [local, s500, local],
      false,
    ],
  ])('%s', (_name, config, outcomes, ejected) => {
    const detector = new OutlierDetector(config, clock().now);
    for (const outcome of outcomes) detector.record('a', outcome, 1);
    expect(detector.isEjected('a')).toBe(ejected);
  });
});

describe('OutlierDetector max ejection percent', () => {
  it.each<[string, number, number, number]>([
    // [name, maxEjectionPercent, hosts, how many of them can be ejected]
    ['Istio default 10% ejects nothing from fewer than 10 hosts', 0, 9, 0],
    ['Istio default 10% ejects one of 10', 0, 10, 1],
    ['10% of 25 hosts is 2', 10, 25, 2],
    ['50% of 4 hosts is 2', 50, 4, 2],
    ['100% ejects every host', 100, 3, 3],
    ['a single host needs 100%', 99, 1, 0],
  ])('%s', (_name, maxEjectionPercent, total, expected) => {
    const detector = new OutlierDetector(policy({ consecutive5xxErrors: 1, maxEjectionPercent }), clock().now);
    const uids = Array.from({ length: total }, (_, i) => `h${i}`);
    for (const uid of uids) detector.record(uid, s500, total);
    expect(uids.filter((uid) => detector.isEjected(uid))).toHaveLength(expected);
  });

  it('resets the counter when the ejection is refused, so it takes another full run to try again', () => {
    const detector = new OutlierDetector(policy({ consecutive5xxErrors: 2, maxEjectionPercent: 50 }), clock().now);
    detector.record('b', s500, 2);
    detector.record('b', s500, 2); // b ejected: 1 of 2
    detector.record('a', s500, 2);
    detector.record('a', s500, 2); // refused: 2 of 2 > 50%
    expect(detector.isEjected('a')).toBe(false);
    detector.record('a', s500, 4); // the cluster grew, but a's run starts again
    expect(detector.isEjected('a')).toBe(false);
    detector.record('a', s500, 4);
    expect(detector.isEjected('a')).toBe(true);
  });
});

describe('OutlierDetector ejection time', () => {
  const od = policy({ consecutive5xxErrors: 1, intervalMs: 10_000, baseEjectionTimeMs: 30_000 });

  it.each<[string, number, boolean]>([
    ['still ejected just before base_ejection_time', 29_999, true],
    ['un-ejected at the first interval tick after base_ejection_time', 30_000, false],
  ])('%s', (_name, after, ejected) => {
    const time = clock();
    const detector = new OutlierDetector(od, time.now);
    detector.record('a', s500, 1);
    time.advance(after);
    expect(detector.isEjected('a')).toBe(ejected);
  });

  it('un-ejects on the interval timer, not the moment the time is up', () => {
    const time = clock();
    const detector = new OutlierDetector(od, time.now);
    time.advance(5_000);
    detector.record('a', s500, 1); // ejected at 5s; ticks at 10s, 20s, 30s, 40s
    time.advance(30_000); // 35s: 30s have passed but the last tick (30s) saw only 25s
    expect(detector.isEjected('a')).toBe(true);
    time.advance(5_000); // the 40s tick
    expect(detector.isEjected('a')).toBe(false);
  });

  it('multiplies base_ejection_time by the ejection count while the host keeps failing', () => {
    const time = clock();
    const detector = new OutlierDetector(od, time.now);
    detector.record('a', s500, 1); // 1st ejection: 30s
    time.advance(30_000);
    expect(detector.isEjected('a')).toBe(false);
    detector.record('a', s500, 1); // 2nd ejection at once: 60s
    time.advance(50_000);
    expect(detector.isEjected('a')).toBe(true);
    time.advance(10_000);
    expect(detector.isEjected('a')).toBe(false);
  });

  it('lets the multiplier decay while the host stays healthy', () => {
    const time = clock();
    const detector = new OutlierDetector(od, time.now);
    detector.record('a', s500, 1); // backoff 1, un-ejected at the 30s tick
    time.advance(30_000 + 10_000); // the 40s tick is one interval after un-ejection: backoff back to 0
    detector.record('a', s500, 1); // ejected again for 30s, not 60s
    time.advance(30_000);
    expect(detector.isEjected('a')).toBe(false);
  });

  it('caps the ejection time at max_ejection_time (300s)', () => {
    const time = clock();
    const detector = new OutlierDetector(policy({ consecutive5xxErrors: 1, baseEjectionTimeMs: 200_000 }), time.now);
    detector.record('a', s500, 1); // 200s
    time.advance(200_000);
    detector.record('a', s500, 1); // would be 400s; capped at 300s
    time.advance(300_000);
    expect(detector.isEjected('a')).toBe(false);
  });

  it('resets the counters on un-ejection', () => {
    const time = clock();
    const detector = new OutlierDetector(policy({ consecutive5xxErrors: 2 }), time.now);
    detector.record('a', s500, 1);
    detector.record('a', s500, 1); // ejected
    detector.record('a', s500, 1); // an in-flight failure while ejected keeps counting
    time.advance(30_000);
    expect(detector.isEjected('a')).toBe(false);
    detector.record('a', s500, 1); // one failure after un-ejection is not two
    expect(detector.isEjected('a')).toBe(false);
  });
});

describe('OutlierDetector filter', () => {
  const endpoints: Endpoint[] = ['a', 'b', 'c', 'd'].map((uid, i) => ({ uid, ip: `10.0.0.${i + 1}`, port: 80 }));

  it.each<[string, OutlierDetection | undefined, readonly string[], readonly string[]]>([
    ['no policy keeps every endpoint', undefined, ['a'], ['a', 'b', 'c', 'd']],
    ['drops ejected endpoints', policy({ consecutive5xxErrors: 1 }), ['a', 'c'], ['b', 'd']],
    [
      'min health percent: 50% healthy is not below 50',
      policy({ consecutive5xxErrors: 1, minHealthPercent: 50 }),
      ['a', 'c'],
      ['b', 'd'],
    ],
    [
      'min health percent: below it every endpoint is used (panic)',
      policy({ consecutive5xxErrors: 1, minHealthPercent: 60 }),
      ['a', 'c'],
      ['a', 'b', 'c', 'd'],
    ],
    [
      'min health percent 0: all ejected leaves none (no healthy upstream)',
      policy({ consecutive5xxErrors: 1 }),
      ['a', 'b', 'c', 'd'],
      [],
    ],
  ])('%s', (_name, config, failing, expected) => {
    const detector = new OutlierDetector(config, clock().now);
    for (const uid of failing) detector.record(uid, s500, endpoints.length);
    expect(detector.filter(endpoints).map((e) => e.uid)).toEqual(expected);
  });
});
