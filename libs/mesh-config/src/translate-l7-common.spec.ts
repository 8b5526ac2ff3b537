// Istio's host rules for VirtualService/DestinationRule hosts, and the readers shared by the L7 steps.
import { dottedShortName, durationMs, hostMatches, readHeaderOperations, readStringMatch, resolveHost } from './translate-l7-common';

describe('resolveHost (istio ResolveShortnameToFQDN)', () => {
  it.each([
    ['reviews', 'default', 'reviews.default.svc.cluster.local'],
    ['reviews', 'other', 'reviews.other.svc.cluster.local'],
    ['reviews.default', 'other', 'reviews.default'],
    ['reviews.default.svc.cluster.local', 'other', 'reviews.default.svc.cluster.local'],
    ['*', 'default', '*'],
    ['*.example.com', 'default', '*.example.com'],
  ])('%s in %s → %s', (host, ns, expected) => {
    expect(resolveHost(host, ns, 'cluster.local')).toBe(expected);
  });

  it.each([
    ['reviews.default', 'reviews.default.svc.cluster.local'],
    ['reviews.default.svc', 'reviews.default.svc.cluster.local'],
    ['reviews', undefined],
    ['api.example.com', undefined],
  ])('dottedShortName(%s) = %s', (host, expected) => {
    expect(dottedShortName(host, 'cluster.local')).toBe(expected);
  });
});

describe('hostMatches', () => {
  it.each([
    ['a.b.svc.cluster.local', 'exact'],
    ['*', 'wildcard'],
    ['*.b.svc.cluster.local', 'wildcard'],
    ['*.svc.cluster.local', 'wildcard'],
    ['*.c.svc.cluster.local', undefined],
    ['b.svc.cluster.local', undefined],
  ])('%s → %s', (pattern, expected) => {
    expect(hostMatches(pattern, 'a.b.svc.cluster.local')).toBe(expected);
  });
});

describe('readers', () => {
  it('reads string matches, with {} as any value and a bad regex as a problem', () => {
    expect(readStringMatch({ exact: 'a' })).toEqual({ ok: true, match: { kind: 'exact', value: 'a' } });
    expect(readStringMatch({})).toEqual({ ok: true, match: { kind: 'any' } });
    expect(readStringMatch({ regex: '[' })).toMatchObject({ ok: false, problem: expect.stringContaining('"["') });
  });

  it('reads header operations, leaving out empty names and empty blocks', () => {
    expect(readHeaderOperations({ set: { a: '1', '': 'x' }, remove: ['b', ''] })).toEqual({ set: { a: '1' }, add: {}, remove: ['b'] });
    expect(readHeaderOperations({})).toBeUndefined();
  });

  it('reads Go durations in milliseconds; negative or malformed ones are absent', () => {
    expect([durationMs('1.5s'), durationMs('250ms'), durationMs('1h'), durationMs('-1s'), durationMs('soon'), durationMs(5)]).toEqual([1500, 250, 3_600_000, undefined, undefined, undefined]);
  });
});
