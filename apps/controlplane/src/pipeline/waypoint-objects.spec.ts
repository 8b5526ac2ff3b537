import { WAYPOINT_IMAGE, waypointGateway, type KubeObject } from '@weft/mesh-config';

import { appliedRecord, fingerprint, planWaypointObjects, type AppliedObject } from './waypoint-objects';

function gateway(name: string, extra: { uid?: string; labels?: Record<string, string>; deleting?: boolean } = {}): KubeObject {
  const base = waypointGateway({ namespace: 'shop', name });
  return {
    ...base,
    metadata: {
      ...base.metadata,
      ...(extra.uid === undefined ? { uid: `uid-${name}` } : extra.uid === '' ? {} : { uid: extra.uid }),
      ...(extra.labels === undefined ? {} : { labels: extra.labels }),
      ...(extra.deleting === true ? { deletionTimestamp: '2026-12-01T00:00:00Z' } : {}),
    },
  };
}

const otherClass: KubeObject = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'Gateway',
  metadata: { name: 'ingress', namespace: 'shop', uid: 'uid-ingress' },
  spec: { gatewayClassName: 'istio' },
};

/** What the controller remembers after applying everything planned for `objects`. */
function appliedFor(objects: readonly KubeObject[], image = WAYPOINT_IMAGE): Map<string, AppliedObject> {
  const plan = planWaypointObjects({ objects, applied: new Map(), deployment: { image } });
  return new Map(plan.apply.map((object) => [object.key, appliedRecord(object)]));
}

const keys = (objects: readonly { key: string }[]): string[] => objects.map((o) => o.key);
const WAYPOINT_KEYS = ['ServiceAccount/shop/waypoint', 'Service/shop/waypoint', 'Deployment/shop/waypoint'];

describe('planWaypointObjects', () => {
  it.each<[string, readonly KubeObject[], Map<string, AppliedObject>, string[], string[]]>([
    ['nothing', [], new Map(), [], []],
    ['a new waypoint Gateway: its three objects', [gateway('waypoint')], new Map(), WAYPOINT_KEYS, []],
    ['an unchanged Gateway: nothing', [gateway('waypoint')], appliedFor([gateway('waypoint')]), [], []],
    [
      'a relabelled Gateway: every object carries the label, so all three again',
      [gateway('waypoint', { labels: { 'istio.io/waypoint-for': 'all' } })],
      appliedFor([gateway('waypoint')]),
      WAYPOINT_KEYS,
      [],
    ],
    ['a deleted Gateway: its objects, Deployment first', [], appliedFor([gateway('waypoint')]), [], [...WAYPOINT_KEYS].reverse()],
    ['a Gateway being deleted counts as gone', [gateway('waypoint', { deleting: true })], appliedFor([gateway('waypoint')]), [], [...WAYPOINT_KEYS].reverse()],
    ['a Gateway of another class: nothing', [otherClass], new Map(), [], []],
  ])('%s', (_name, objects, applied, apply, remove) => {
    const plan = planWaypointObjects({ objects, applied, deployment: { image: WAYPOINT_IMAGE } });
    expect(keys(plan.apply)).toEqual(apply);
    expect(keys(plan.remove)).toEqual(remove);
  });

  it('owns every object by the Gateway so Kubernetes garbage-collects them', () => {
    const plan = planWaypointObjects({ objects: [gateway('waypoint')], applied: new Map(), deployment: { image: WAYPOINT_IMAGE } });
    for (const { object } of plan.apply) {
      expect(object.metadata.ownerReferences).toEqual([
        { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', name: 'waypoint', uid: 'uid-waypoint', controller: true },
      ]);
      expect(object.metadata.namespace).toBe('shop');
    }
  });

  it('re-applies only the Deployment when only the image changes', () => {
    const plan = planWaypointObjects({ objects: [gateway('waypoint')], applied: appliedFor([gateway('waypoint')]), deployment: { image: 'registry/waypoint:2' } });
    expect(keys(plan.apply)).toEqual(['Deployment/shop/waypoint']);
    expect(JSON.stringify(plan.apply[0]?.object)).toContain('registry/waypoint:2');
  });

  it('re-applies everything on a resync', () => {
    const plan = planWaypointObjects({ objects: [gateway('waypoint')], applied: appliedFor([gateway('waypoint')]), deployment: { image: WAYPOINT_IMAGE }, reapplyAll: true });
    expect(keys(plan.apply)).toEqual(WAYPOINT_KEYS);
  });

  it('keeps one Gateway when another goes', () => {
    const both = [gateway('waypoint'), gateway('second')];
    const plan = planWaypointObjects({ objects: [gateway('second')], applied: appliedFor(both), deployment: { image: WAYPOINT_IMAGE } });
    expect(plan.apply).toEqual([]);
    expect(keys(plan.remove)).toEqual([...WAYPOINT_KEYS].reverse());
    expect([...plan.desired.keys()].every((key) => key.endsWith('/second'))).toBe(true);
  });

  it('leaves out a Gateway without uid (it cannot be an owner) and says so', () => {
    const plan = planWaypointObjects({ objects: [gateway('waypoint', { uid: '' })], applied: new Map(), deployment: { image: WAYPOINT_IMAGE } });
    expect(plan.apply).toEqual([]);
    expect(plan.unowned).toEqual(['shop/waypoint']);
  });
});

describe('fingerprint', () => {
  it.each([
    ['key order does not matter', { a: 1, b: { c: 2, d: 3 } }, { b: { d: 3, c: 2 }, a: 1 }, true],
    ['array order does', { a: [1, 2] }, { a: [2, 1] }, false],
    ['values do', { a: 1 }, { a: 2 }, false],
  ])('%s', (_name, a, b, equal) => {
    expect(fingerprint(a) === fingerprint(b)).toBe(equal);
  });
});
