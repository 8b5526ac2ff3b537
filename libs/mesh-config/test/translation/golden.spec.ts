// Golden tests: the guides' manifests, as a cluster would hold them after following the guides, translate to the
// hand-checked resources in golden/. Regenerate with UPDATE_GOLDEN=1 and re-check the diff by hand against §4.4.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { translateMesh } from '../../src/translation';
import { guideCluster, readManifests, type GuideClusterOptions } from './guide-cluster';

const scenarios: readonly [string, GuideClusterOptions][] = [
  // As written: the waypoint of 07 exists and is ready, but nothing is enrolled in it.
  ['guides.json', {}],
  // After `istioctl waypoint apply --namespace default --enroll-namespace`.
  ['guides-waypoint-enrolled.json', { enrollWaypoint: true }],
];

describe.each(scenarios)('translateMesh on the guide manifests (%s)', (file, options) => {
  const golden = join(__dirname, 'golden', file);
  const result = translateMesh({ objects: guideCluster(options) });

  it('matches the hand-checked golden file', () => {
    const actual = `${JSON.stringify(result, null, 2)}\n`;
    if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(golden, actual);
    expect(actual).toBe(readFileSync(golden, 'utf8'));
  });

  it('is independent of the order of the objects', () => {
    expect(translateMesh({ objects: [...guideCluster(options)].reverse() })).toEqual(result);
  });
});

it('reads every guide manifest', () => {
  expect(new Set(readManifests().map((o) => o.kind))).toEqual(
    new Set(['ServiceAccount', 'Deployment', 'Service', 'AuthorizationPolicy', 'Namespace', 'VirtualService', 'DestinationRule', 'PeerAuthentication', 'Gateway']),
  );
});
