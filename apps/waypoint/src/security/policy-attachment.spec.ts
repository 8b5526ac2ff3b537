import type { PolicyTargetRef } from '@weft/mesh-model';
import { policiesFor, type PolicyTarget } from './policy-attachment';

const GW = 'gateway.networking.k8s.io';
const ref = (kind: string, name: string, group: string, namespace = ''): PolicyTargetRef => ({ group, kind, name, namespace });
const policy = (name: string, namespace: string, ...targets: PolicyTargetRef[]) => ({ name, namespace, targets });

const target: PolicyTarget = {
  gateway: { name: 'waypoint', namespace: 'app' },
  service: { name: 'reviews', namespace: 'app', kind: 'Service' },
};

describe('policiesFor', () => {
  const cases: readonly [string, ReturnType<typeof policy>, boolean, PolicyTarget?][] = [
    ['Gateway of this waypoint, same namespace', policy('p', 'app', ref('Gateway', 'waypoint', GW)), true],
    ['Gateway with explicit same namespace', policy('p', 'app', ref('Gateway', 'waypoint', GW, 'app')), true],
    ['Gateway of another waypoint', policy('p', 'app', ref('Gateway', 'other', GW)), false],
    ['Gateway named alike in another namespace', policy('p', 'other', ref('Gateway', 'waypoint', GW)), false],
    ['Gateway cross-namespace reference', policy('p', 'other', ref('Gateway', 'waypoint', GW, 'app')), false],
    ['Gateway with a wrong group', policy('p', 'app', ref('Gateway', 'waypoint', 'networking.istio.io')), false],
    ['destination Service', policy('p', 'app', ref('Service', 'reviews', '')), true],
    ['another Service', policy('p', 'app', ref('Service', 'ratings', '')), false],
    ['Service from another namespace', policy('p', 'other', ref('Service', 'reviews', '')), false],
    ['Service when the destination is a ServiceEntry', policy('p', 'app', ref('Service', 'reviews', '')), false,
      { ...target, service: { name: 'reviews', namespace: 'app', kind: 'ServiceEntry' } }],
    ['ServiceEntry destination', policy('p', 'app', ref('ServiceEntry', 'reviews', 'networking.istio.io')), true,
      { ...target, service: { name: 'reviews', namespace: 'app', kind: 'ServiceEntry' } }],
    ['Service when no destination service is known', policy('p', 'app', ref('Service', 'reviews', '')), false, { gateway: target.gateway }],
    ['GatewayClass istio-waypoint from the root namespace', policy('p', 'istio-system', ref('GatewayClass', 'istio-waypoint', GW)), true],
    ['GatewayClass istio-waypoint outside the root namespace', policy('p', 'app', ref('GatewayClass', 'istio-waypoint', GW)), false],
    ['another GatewayClass', policy('p', 'istio-system', ref('GatewayClass', 'istio', GW)), false],
    ['selector policy (no targetRefs)', policy('p', 'app'), false],
    ['one of several refs matches', policy('p', 'app', ref('Service', 'ratings', ''), ref('Gateway', 'waypoint', GW)), true],
  ];

  // Rows become objects: jest would pass its `done` callback in place of an omitted fourth element.
  it.each(cases.map(([name, p, expected, t]) => ({ name, p, expected, t: t ?? target })))('$name', ({ p, expected, t }) => {
    expect(policiesFor([p], t)).toEqual(expected ? [p] : []);
  });

  it('honours a custom root namespace and keeps input order', () => {
    const a = policy('a', 'mesh-root', ref('GatewayClass', 'istio-waypoint', GW));
    const b = policy('b', 'app', ref('Gateway', 'waypoint', GW));
    const c = policy('c', 'istio-system', ref('GatewayClass', 'istio-waypoint', GW));
    expect(policiesFor([a, b, c], target, 'mesh-root')).toEqual([a, b]);
  });
});
