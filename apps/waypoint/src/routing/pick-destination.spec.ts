// Table tests for the weighted split over a route's destinations.

import type { WeightedDestination } from '@weft/mesh-model';
import { pickDestination } from './pick-destination';

function dest(host: string, weight: number): WeightedDestination {
  return { destination: { host, serviceNamespace: 'default', port: 0, subset: '' }, weight };
}

describe('pickDestination', () => {
  const v1 = dest('v1', 90);
  const v2 = dest('v2', 10);
  const zero = dest('zero', 0);
  const cases: [string, WeightedDestination[], number, WeightedDestination | undefined][] = [
    ['no destinations', [], 0.5, undefined],
    ['a lone destination with weight 0 gets everything', [zero], 0.99, zero],
    ['a lone weighted destination', [v1], 0.99, v1],
    ['low draw falls in the first slice', [v1, v2], 0, v1],
    ['draw just below the first boundary', [v1, v2], 0.8999, v1],
    ['draw at the boundary falls in the second slice', [v1, v2], 0.9, v2],
    ['highest draw', [v1, v2], 0.9999, v2],
    ['a zero-weight destination has no slice', [zero, v2], 0, v2],
    ['zero weight between others is skipped', [v2, zero, v1], 0.1, v1],
    ['all weights 0 with several: nothing', [zero, dest('zero2', 0)], 0.5, undefined],
    ['random() returning 1 still picks the last weighted one', [v1, v2, zero], 1, v2],
    ['a negative weight counts as 0', [dest('neg', -5), v2], 0, v2],
  ];
  it.each(cases)('%s', (_name, destinations, draw, expected) => {
    expect(pickDestination(destinations, () => draw)).toBe(expected);
  });

  it('splits in proportion to the weights', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 1000; i++) {
      const picked = pickDestination([dest('a', 1), dest('b', 3)], () => i / 1000);
      const host = picked?.destination.host ?? 'none';
      counts.set(host, (counts.get(host) ?? 0) + 1);
    }
    expect(Object.fromEntries(counts)).toEqual({ a: 250, b: 750 });
  });
});
