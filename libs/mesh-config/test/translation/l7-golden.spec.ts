// Golden test of the waypoint L7 translation: the guides' manifests with `default` enrolled in the 07 waypoint, on
// their own and with the test-only additions in l7-manifests/, translate to the hand-checked golden/l7.json.
// Regenerate with UPDATE_GOLDEN=1 and re-check the diff by hand (golden/README.md, "Waypoint L7 golden").

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { KubeObject } from '../../src/kube-object';
import { translateWaypointL7, type WaypointL7Result } from '../../src/l7-translation';
import { translateMesh } from '../../src/translate-mesh';
import { translateSettings } from '../../src/translate-types';
import { guideCluster, readManifests } from './guide-cluster';

const L7_DIR = join(__dirname, 'l7-manifests');
const GOLDEN = join(__dirname, 'golden', 'l7.json');

function translate(objects: readonly KubeObject[]): WaypointL7Result {
  const mesh = translateMesh({ objects });
  return translateWaypointL7({ objects, settings: translateSettings(), waypoints: mesh.waypoints, services: mesh.services });
}

const scenarios: Readonly<Record<string, KubeObject[]>> = {
  'guides-waypoint-enrolled': guideCluster({ enrollWaypoint: true }),
  'guides-waypoint-enrolled+l7-extras': guideCluster({ enrollWaypoint: true }, [...readManifests(), ...readManifests(L7_DIR)]),
};

/** Direct-response bodies are bytes; JSON shows them as base64 so the golden stays readable. */
function replacer(_key: string, value: unknown): unknown {
  return value instanceof Uint8Array ? { base64: Buffer.from(value).toString('base64') } : value;
}

describe('translateWaypointL7 on the guide manifests', () => {
  const results = Object.fromEntries(Object.entries(scenarios).map(([name, objects]) => [name, translate(objects)]));

  it('matches the hand-checked golden file', () => {
    const actual = `${JSON.stringify(results, replacer, 2)}\n`;
    if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(GOLDEN, actual);
    expect(actual).toBe(readFileSync(GOLDEN, 'utf8'));
  });

  it.each(Object.entries(scenarios))('%s is independent of the order of the objects', (name, objects) => {
    expect(translate([...objects].reverse())).toEqual(results[name]);
  });
});
