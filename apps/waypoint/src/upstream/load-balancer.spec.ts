import type { LoadBalancer } from '@weft/mesh-model';
import { sequence } from '@weft/testing';

import { createLoadBalancer } from './load-balancer';
import type { Endpoint } from './resolve-endpoints';

const hosts: readonly Endpoint[] = ['a', 'b', 'c', 'd'].map((uid, i) => ({ uid, ip: `10.0.0.${i + 1}`, port: 8080 }));

/** Draw that selects index `i` of `n` hosts. */
const draw = (i: number, n = hosts.length): number => (i + 0.5) / n;

describe('createLoadBalancer LEAST_REQUEST (P2C)', () => {
  const policies: [string, LoadBalancer | undefined][] = [
    ['no policy (the default)', undefined],
    ['LEAST_REQUEST', { kind: 'simple', simple: 'LEAST_REQUEST' }],
    ['consistentHash (falls back)', { kind: 'consistentHash', hashKey: { kind: 'useSourceIp' }, minimumRingSize: 0 }],
    ['PASSTHROUGH (falls back)', { kind: 'simple', simple: 'PASSTHROUGH' }],
  ];

  it.each<[string, Record<string, number>, [number, number], string]>([
    ['the second draw when it has fewer active requests', { a: 2, c: 1 }, [draw(0), draw(2)], 'c'],
    ['the first draw when it has fewer', { a: 0, c: 3 }, [draw(0), draw(2)], 'a'],
    ['the first draw on a tie', { a: 1, c: 1 }, [draw(0), draw(2)], 'a'],
    ['draws with replacement: the same host twice', { b: 5 }, [draw(1), draw(1)], 'b'],
  ])('picks %s', (_name, active, draws, expected) => {
    for (const [, policy] of policies) {
      const lb = createLoadBalancer(policy, sequence(...draws));
      for (const [uid, count] of Object.entries(active)) for (let i = 0; i < count; i += 1) lb.started(uid);
      expect(lb.pick(hosts)?.uid).toBe(expected);
    }
  });

  it('counts finished requests down', () => {
    const lb = createLoadBalancer(undefined, sequence(draw(0), draw(1)));
    lb.started('a');
    lb.started('a');
    lb.started('b');
    lb.finished('a');
    lb.finished('a');
    lb.finished('a'); // one too many: never below zero
    expect(lb.pick(hosts)?.uid).toBe('a');
  });
});

describe('createLoadBalancer ROUND_ROBIN', () => {
  it('cycles from a random seed and follows the current host list', () => {
    const lb = createLoadBalancer({ kind: 'simple', simple: 'ROUND_ROBIN' }, sequence(2 / 2 ** 32));
    const picks = [1, 2, 3, 4, 5].map(() => lb.pick(hosts)?.uid);
    expect(picks).toEqual(['c', 'd', 'a', 'b', 'c']);
    // The counter is now 7: modulo a shorter list.
    expect(lb.pick(hosts.slice(0, 3))?.uid).toBe('b');
  });
});

describe('createLoadBalancer RANDOM', () => {
  it.each<[number, string]>([
    [0, 'a'],
    [0.3, 'b'],
    [0.99, 'd'],
    [1, 'd'],
  ])('random() = %s picks %s', (value, expected) => {
    const lb = createLoadBalancer({ kind: 'simple', simple: 'RANDOM' }, sequence(value));
    expect(lb.pick(hosts)?.uid).toBe(expected);
  });
});

describe('createLoadBalancer exclusions (retry_ignore_previous_hosts)', () => {
  it.each<[string, ReadonlySet<string>, number, string]>([
    ['skips previously tried hosts', new Set(['a', 'b']), 0, 'c'],
    ['an empty exclusion changes nothing', new Set<string>(), 0, 'a'],
    ['uses every host again when all were tried', new Set(['a', 'b', 'c', 'd']), 0.3, 'b'],
  ])('%s', (_name, exclude, value, expected) => {
    const lb = createLoadBalancer({ kind: 'simple', simple: 'RANDOM' }, sequence(value));
    expect(lb.pick(hosts, exclude)?.uid).toBe(expected);
  });

  it('returns undefined only when there are no endpoints', () => {
    expect(createLoadBalancer(undefined, sequence()).pick([])).toBeUndefined();
  });
});
