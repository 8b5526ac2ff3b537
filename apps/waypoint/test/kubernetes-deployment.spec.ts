// The Deployment the controlplane creates for a waypoint Gateway (libs/mesh-config) starts this waypoint: its
// environment parses into a valid config naming the Gateway and the controlplane, and the token and root
// certificate the config reads are mounted where it reads them.

import { waypointGateway, waypointWorkloadObjects } from '@weft/mesh-config';
import { containerEnv, findObject, podSpec, volumeForFile, type RenderedObject } from '@weft/testing';

import { parseWaypointConfig } from '../src/config';

const fields = { 'metadata.name': 'waypoint-7d9f-abcde', 'metadata.namespace': 'shop', 'spec.serviceAccountName': 'waypoint', 'status.podIP': '10.1.0.9', 'spec.nodeName': 'node-a' };

function deployment(options: Parameters<typeof waypointWorkloadObjects>[1]): RenderedObject {
  const objects = waypointWorkloadObjects(waypointGateway({ namespace: 'shop' }), options) as unknown as RenderedObject[];
  return findObject(objects, 'Deployment', 'waypoint');
}

describe("the waypoint Deployment's pod", () => {
  it('gives a config naming its Gateway, identity and the controlplane the chart installed', () => {
    const pod = podSpec(deployment({ image: 'weft/waypoint:1', xdsAddress: 'istiod.mesh-system.svc:15012', trustDomain: 'corp.example', clusterId: 'east' }));
    const [container] = pod.containers;
    if (container === undefined) throw new Error('no container');
    const parsed = parseWaypointConfig(containerEnv(container, fields));
    if (!parsed.ok) throw new Error(parsed.errors.join('; '));
    const { config } = parsed;
    expect([config.gatewayName, config.POD_NAMESPACE, config.SERVICE_ACCOUNT, config.INSTANCE_IP]).toEqual(['waypoint', 'shop', 'waypoint', '10.1.0.9']);
    expect([config.XDS_ADDRESS, config.CA_ADDRESS, config.TRUST_DOMAIN, config.CLUSTER_ID]).toEqual(['istiod.mesh-system.svc:15012', 'istiod.mesh-system.svc:15012', 'corp.example', 'east']);
    // Kubernetes mode: the token is the waypoint's own, not a node's.
    expect(config.WEFT_IMPERSONATE).toBe('false');
  });

  it('keeps the defaults (istiod.istio-system.svc:15012, cluster.local) when the install does not override them', () => {
    const [container] = podSpec(deployment({})).containers;
    if (container === undefined) throw new Error('no container');
    const parsed = parseWaypointConfig(containerEnv(container, fields));
    if (!parsed.ok) throw new Error(parsed.errors.join('; '));
    expect([parsed.config.XDS_ADDRESS, parsed.config.TRUST_DOMAIN]).toEqual(['istiod.istio-system.svc:15012', 'cluster.local']);
  });

  it('mounts its istio-ca token and the published mesh root where the config reads them', () => {
    const pod = podSpec(deployment({}));
    const [container] = pod.containers;
    if (container === undefined) throw new Error('no container');
    const parsed = parseWaypointConfig(containerEnv(container, fields));
    if (!parsed.ok) throw new Error(parsed.errors.join('; '));
    const token = volumeForFile(pod, container, parsed.config.WEFT_TOKEN_FILE);
    expect(token?.projected?.sources).toEqual([{ serviceAccountToken: { path: 'istio-token', audience: 'istio-ca', expirationSeconds: 43_200 } }]);
    expect(parsed.config.WEFT_TOKEN_FILE.endsWith('/istio-token')).toBe(true);
    const root = volumeForFile(pod, container, parsed.config.XDS_ROOT_CA);
    expect(root?.configMap?.name).toBe('istio-ca-root-cert');
    expect(parsed.config.XDS_ROOT_CA.endsWith('/root-cert.pem')).toBe(true);
  });
});
