// "A bad resource is rejected while the last good config keeps serving": when an object that was valid becomes
// invalid, the mesh keeps using its previous valid version until it is fixed or deleted. In Kubernetes a validating
// webhook does this by refusing the update; a manifest directory has no webhook, so the controlplane does it here.

import { objectKey, type KubeObject } from '@weft/mesh-config';

export interface LastGoodResult {
  /** What the mesh is computed from: every valid object, plus the last good version of each invalid one. */
  readonly effective: readonly KubeObject[];
  /** Keys of invalid objects served from their last good version. */
  readonly heldBack: readonly string[];
  /** Keys of invalid objects with no good version yet (left out). */
  readonly excluded: readonly string[];
  /** The memory to pass to the next call. */
  readonly lastGood: ReadonlyMap<string, KubeObject>;
}

/**
 * Pure merge step. `current` is everything the source holds now, `invalidKeys` the keys validation rejected.
 * Objects deleted from the source are forgotten, so a deleted bad object does not linger.
 */
export function mergeWithLastGood(
  current: readonly KubeObject[],
  invalidKeys: ReadonlySet<string>,
  previous: ReadonlyMap<string, KubeObject>,
): LastGoodResult {
  const effective: KubeObject[] = [];
  const heldBack: string[] = [];
  const excluded: string[] = [];
  const lastGood = new Map<string, KubeObject>();
  for (const object of current) {
    const key = objectKey(object);
    if (!invalidKeys.has(key)) {
      effective.push(object);
      lastGood.set(key, object);
      continue;
    }
    const good = previous.get(key);
    if (good === undefined) {
      excluded.push(key);
      continue;
    }
    effective.push(good);
    lastGood.set(key, good);
    heldBack.push(key);
  }
  return { effective, heldBack: heldBack.sort(), excluded: excluded.sort(), lastGood };
}
