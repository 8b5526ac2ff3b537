import type { KubeObject } from '@weft/mesh-config';

import {
  decideLease,
  formatMicroTime,
  leaseDurationSeconds,
  leaseExpiresAtMs,
  parseMicroTime,
  releasedLease,
  type LeaseDecision,
  type LeaseSpec,
} from './lease-decision';

const T0 = Date.parse('2026-12-02T01:02:03.000Z');
const at = (offsetMs: number): string => formatMicroTime(T0 + offsetMs);

function lease(spec: Record<string, unknown> | undefined, resourceVersion = '42'): KubeObject {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: 'weft-controlplane-leader', namespace: 'istio-system', resourceVersion, uid: 'u-1' },
    ...(spec === undefined ? {} : { spec }),
  };
}

const heldBy = (holderIdentity: string, renewedAtOffsetMs: number, extra: Record<string, unknown> = {}): KubeObject =>
  lease({ holderIdentity, leaseDurationSeconds: 15, acquireTime: at(-60_000), renewTime: at(renewedAtOffsetMs), leaseTransitions: 3, ...extra });

describe('decideLease', () => {
  const base = { namespace: 'istio-system', name: 'weft-controlplane-leader', identity: 'cp-a', nowMs: T0, leaseDurationMs: 15_000 };
  const now = at(0);

  const cases: { name: string; current: KubeObject | undefined; expected: LeaseDecision }[] = [
    {
      name: 'no Lease: create one held by us, no transitions yet',
      current: undefined,
      expected: {
        action: 'create',
        lease: {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: 'weft-controlplane-leader', namespace: 'istio-system' },
          spec: { holderIdentity: 'cp-a', leaseDurationSeconds: 15, acquireTime: now, renewTime: now, leaseTransitions: 0 },
        },
      },
    },
    {
      name: 'held by us: renew, keeping acquireTime, transitions and resourceVersion',
      current: heldBy('cp-a', -2_000),
      expected: {
        action: 'renew',
        lease: lease({ holderIdentity: 'cp-a', leaseDurationSeconds: 15, acquireTime: at(-60_000), renewTime: now, leaseTransitions: 3 }),
      },
    },
    {
      name: 'held by us even though expired (the API was down): renew',
      current: heldBy('cp-a', -20_000),
      expected: {
        action: 'renew',
        lease: lease({ holderIdentity: 'cp-a', leaseDurationSeconds: 15, acquireTime: at(-60_000), renewTime: now, leaseTransitions: 3 }),
      },
    },
    {
      name: 'held by another, renewed 2 s ago: wait until renewTime + 15 s',
      current: heldBy('cp-b', -2_000),
      expected: { action: 'wait', holder: 'cp-b', expiresAtMs: T0 + 13_000 },
    },
    {
      name: 'held by another, expiring exactly now: still wait (expired means renewTime + duration < now)',
      current: heldBy('cp-b', -15_000),
      expected: { action: 'wait', holder: 'cp-b', expiresAtMs: T0 },
    },
    {
      name: 'held by another, expired: take over with a new acquireTime and one more transition',
      current: heldBy('cp-b', -15_001),
      expected: {
        action: 'takeover',
        previousHolder: 'cp-b',
        lease: lease({ holderIdentity: 'cp-a', leaseDurationSeconds: 15, acquireTime: now, renewTime: now, leaseTransitions: 4 }),
      },
    },
    {
      name: 'released (empty holder, 1 s) just now: take over at once',
      current: lease({ holderIdentity: '', leaseDurationSeconds: 1, acquireTime: now, renewTime: now, leaseTransitions: 3 }),
      expected: {
        action: 'takeover',
        previousHolder: '',
        lease: lease({ holderIdentity: 'cp-a', leaseDurationSeconds: 15, acquireTime: now, renewTime: now, leaseTransitions: 4 }),
      },
    },
    {
      name: 'a Lease with no spec (created by hand): take over',
      current: lease(undefined),
      expected: {
        action: 'takeover',
        previousHolder: '',
        lease: lease({ holderIdentity: 'cp-a', leaseDurationSeconds: 15, acquireTime: now, renewTime: now, leaseTransitions: 1 }),
      },
    },
    {
      name: 'held by another without a renewTime: expired, take over',
      current: lease({ holderIdentity: 'cp-b', leaseDurationSeconds: 15 }),
      expected: {
        action: 'takeover',
        previousHolder: 'cp-b',
        lease: lease({ holderIdentity: 'cp-a', leaseDurationSeconds: 15, acquireTime: now, renewTime: now, leaseTransitions: 1 }),
      },
    },
    {
      name: 'held by another with a malformed renewTime: expired, take over',
      current: lease({ holderIdentity: 'cp-b', leaseDurationSeconds: 15, renewTime: 'yesterday' }),
      expected: {
        action: 'takeover',
        previousHolder: 'cp-b',
        lease: lease({ holderIdentity: 'cp-a', leaseDurationSeconds: 15, acquireTime: now, renewTime: now, leaseTransitions: 1 }),
      },
    },
    {
      name: 'held by another with a longer duration of its own: its duration counts',
      current: heldBy('cp-b', -20_000, { leaseDurationSeconds: 30 }),
      expected: { action: 'wait', holder: 'cp-b', expiresAtMs: T0 + 10_000 },
    },
    {
      name: 'fields the election does not own (strategy) are kept',
      current: heldBy('cp-a', -2_000, { strategy: 'OldestEmulationVersion' }),
      expected: {
        action: 'renew',
        lease: lease({ holderIdentity: 'cp-a', leaseDurationSeconds: 15, acquireTime: at(-60_000), renewTime: now, leaseTransitions: 3, strategy: 'OldestEmulationVersion' }),
      },
    },
  ];

  it.each(cases)('$name', ({ current, expected }) => {
    expect(decideLease({ ...base, current })).toEqual(expected);
  });

  it('writes a duration below one second as one second (the API server refuses 0)', () => {
    const decision = decideLease({ ...base, current: undefined, leaseDurationMs: 60 });
    expect(decision).toMatchObject({ action: 'create', lease: { spec: { leaseDurationSeconds: 1 } } });
  });
});

describe('releasedLease', () => {
  it('clears the holder and sets one second, keeping transitions and resourceVersion (ReleaseOnCancel)', () => {
    expect(releasedLease(heldBy('cp-a', -2_000), 'cp-a', T0)).toEqual(
      lease({ holderIdentity: '', leaseDurationSeconds: 1, acquireTime: at(0), renewTime: at(0), leaseTransitions: 3 }),
    );
  });

  it.each([
    ['another holder', heldBy('cp-b', -2_000)],
    ['no holder', lease({ holderIdentity: '', leaseDurationSeconds: 1 })],
  ])('releases nothing held by %s', (_name, current) => {
    expect(releasedLease(current, 'cp-a', T0)).toBeUndefined();
  });
});

describe('lease times', () => {
  it.each<[string, LeaseSpec, number]>([
    ['renewTime + duration', { renewTime: '2026-12-02T01:02:03.456789Z', leaseDurationSeconds: 15 }, Date.parse('2026-12-02T01:02:18.456Z') + 0.789],
    ['no duration: already expired', { renewTime: '2026-12-02T01:02:03.456789Z' }, Number.NEGATIVE_INFINITY],
    ['no renewTime: already expired', { leaseDurationSeconds: 15 }, Number.NEGATIVE_INFINITY],
  ])('expiry: %s', (_name, spec, expected) => {
    expect(leaseExpiresAtMs(spec)).toBeCloseTo(expected, 3);
  });

  it.each<[number, string]>([
    [Date.parse('2026-12-02T01:02:03.456Z'), '2026-12-02T01:02:03.456000Z'],
    [Date.parse('2026-12-02T01:02:03.456Z') + 0.789, '2026-12-02T01:02:03.456789Z'],
    [Date.parse('2026-12-02T01:02:03.999Z') + 0.9999, '2026-12-02T01:02:04.000000Z'],
  ])('formats %d as MicroTime %s', (ms, text) => {
    expect(formatMicroTime(ms)).toBe(text);
  });

  it.each<[string, number | undefined]>([
    ['2026-12-02T01:02:03.456789Z', Date.parse('2026-12-02T01:02:03.456Z') + 0.789],
    ['2026-12-02T01:02:03Z', Date.parse('2026-12-02T01:02:03Z')],
    ['2026-12-02T03:02:03.5+02:00', Date.parse('2026-12-02T01:02:03.500Z')],
    ['2026-12-02 01:02:03', undefined],
    ['', undefined],
  ])('parses %j', (text, expected) => {
    const parsed = parseMicroTime(text);
    if (expected === undefined) expect(parsed).toBeUndefined();
    else expect(parsed).toBeCloseTo(expected, 3);
  });

  it.each<[number, number]>([
    [15_000, 15],
    [15_500, 16],
    [60, 1],
    [0, 1],
  ])('a lease of %d ms is written as %d s', (ms, seconds) => {
    expect(leaseDurationSeconds(ms)).toBe(seconds);
  });
});
