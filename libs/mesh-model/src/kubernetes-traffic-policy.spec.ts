import { type KubernetesTrafficPolicy, mapKubernetesTrafficPolicy } from './kubernetes-traffic-policy';
import type { LoadBalancing } from './types';

const sameZone: LoadBalancing = {
  routingPreference: ['NETWORK', 'REGION', 'ZONE'],
  mode: 'FAILOVER',
  healthPolicy: 'ONLY_HEALTHY',
};
const sameNode: LoadBalancing = {
  routingPreference: ['NETWORK', 'REGION', 'ZONE', 'SUBZONE', 'NODE'],
  mode: 'FAILOVER',
  healthPolicy: 'ONLY_HEALTHY',
};
const nodeLocal: LoadBalancing = { routingPreference: ['NODE'], mode: 'STRICT', healthPolicy: 'ONLY_HEALTHY' };

describe('mapKubernetesTrafficPolicy', () => {
  it.each<[string, KubernetesTrafficPolicy, LoadBalancing | undefined]>([
    ['nothing set', {}, undefined],
    ['internalTrafficPolicy Cluster', { internalTrafficPolicy: 'Cluster' }, undefined],
    ['internalTrafficPolicy Local', { internalTrafficPolicy: 'Local' }, nodeLocal],
    ['Local over a traffic distribution', { internalTrafficPolicy: 'Local', trafficDistribution: 'PreferClose' }, nodeLocal],
    ['PreferClose', { trafficDistribution: 'PreferClose' }, sameZone],
    ['PreferSameZone', { trafficDistribution: 'PreferSameZone' }, sameZone],
    ['PreferSameNode', { trafficDistribution: 'PreferSameNode' }, sameNode],
    ['the spec over the annotation', { trafficDistribution: 'PreferSameNode', annotation: 'PreferClose' }, sameNode],
    ['the annotation, case-insensitively', { annotation: 'preferSAMEnode' }, sameNode],
    ['the annotation when the spec value is unknown', { trafficDistribution: 'PreferSomewhere', annotation: 'PreferClose' }, sameZone],
    ['the namespace annotation when the service has none', { namespaceAnnotation: 'PreferClose' }, sameZone],
    ['the service annotation over the namespace one', { annotation: 'PreferSameNode', namespaceAnnotation: 'PreferClose' }, sameNode],
    ['an unknown service annotation as "any"', { annotation: 'Nearby', namespaceAnnotation: 'PreferClose' }, undefined],
    [
      'publishNotReadyAddresses alone',
      { publishNotReadyAddresses: true },
      { routingPreference: [], mode: 'UNSPECIFIED_MODE', healthPolicy: 'ALLOW_ALL' },
    ],
    [
      'publishNotReadyAddresses with Local',
      { internalTrafficPolicy: 'Local', publishNotReadyAddresses: true },
      { ...nodeLocal, healthPolicy: 'ALLOW_ALL' },
    ],
  ])('maps %s', (_name, settings, expected) => {
    expect(mapKubernetesTrafficPolicy(settings)).toEqual(expected);
  });

  it('returns a fresh object each time, so one service cannot alter another', () => {
    const first = mapKubernetesTrafficPolicy({ trafficDistribution: 'PreferClose' });
    const second = mapKubernetesTrafficPolicy({ trafficDistribution: 'PreferClose' });
    expect(first).not.toBe(second);
    expect(first?.routingPreference).not.toBe(second?.routingPreference);
  });
});
