// Weighted choice among a route's destinations (Envoy weighted_clusters): a point drawn uniformly over the total
// weight falls into one destination's slice; zero-weight destinations have no slice.

import type { WeightedDestination } from '@weft/mesh-model';

/**
 * The destination for one request. A lone destination gets everything whatever its weight (istiod routes it as a
 * plain cluster); several whose weights are all 0 get nothing, and the caller answers 500 (reference §7.3).
 * `random` is uniform in [0, 1), like Math.random.
 */
export function pickDestination(
  destinations: readonly WeightedDestination[],
  random: () => number,
): WeightedDestination | undefined {
  if (destinations.length <= 1) return destinations[0];
  const total = destinations.reduce((sum, d) => sum + weightOf(d), 0);
  if (total <= 0) return undefined;
  const point = random() * total;
  let end = 0;
  let last: WeightedDestination | undefined;
  for (const d of destinations) {
    const weight = weightOf(d);
    if (weight === 0) continue;
    end += weight;
    last = d;
    if (point < end) return d;
  }
  // Only reached when random() returns 1 or the float sum rounds below the point: the last slice owns the edge.
  return last;
}

function weightOf(d: WeightedDestination): number {
  return Number.isFinite(d.weight) && d.weight > 0 ? d.weight : 0;
}
