import type { KubeObject } from './kube-object';
import { isWaypointGateway, waypointGateway, waypointWorkloadObjects, WAYPOINT_IMAGE } from './waypoint-deployment';

const gateway = (labels: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'Gateway',
  metadata: { name: 'waypoint', namespace: 'shop', uid: 'gw-1', labels },
  spec: { gatewayClassName: 'istio-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] },
});

describe('waypointWorkloadObjects', () => {
  it('deploys a ServiceAccount, Service and Deployment named after the Gateway and owned by it', () => {
    const objects = waypointWorkloadObjects(gateway({ 'istio.io/waypoint-for': 'service' }));
    expect(objects.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`)).toEqual(['ServiceAccount/shop/waypoint', 'Service/shop/waypoint', 'Deployment/shop/waypoint']);
    for (const o of objects) {
      expect(o.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'Gateway', name: 'waypoint', uid: 'gw-1' })]);
      expect(o.metadata.labels).toMatchObject({ 'gateway.networking.k8s.io/gateway-name': 'waypoint', 'istio.io/waypoint-for': 'service' });
    }
  });

  it('runs pods that are never captured, with the Gateway identity, the proxy ports and the downward-API env', () => {
    const deployment = waypointWorkloadObjects(gateway())[2] as { spec: { template: { metadata: { labels: Record<string, string> }; spec: { serviceAccountName: string; containers: { image: string; ports: { containerPort: number }[]; env: { name: string }[] }[] } } } };
    expect(deployment.spec.template.metadata.labels).toMatchObject({ 'istio.io/dataplane-mode': 'none', 'gateway.networking.k8s.io/gateway-name': 'waypoint' });
    expect(deployment.spec.template.spec.serviceAccountName).toBe('waypoint');
    const [container] = deployment.spec.template.spec.containers;
    expect(container?.image).toBe(WAYPOINT_IMAGE);
    expect(container?.ports.map((p) => p.containerPort)).toEqual([15021, 15008, 15020]);
    expect(container?.env.map((e) => e.name)).toEqual(['GATEWAY_NAME', 'POD_NAME', 'POD_NAMESPACE', 'SERVICE_ACCOUNT', 'INSTANCE_IP', 'NODE_NAME']);
  });

  it('selects the pods by the gateway-name label and exposes 15008 (mesh) and 15021', () => {
    const service = waypointWorkloadObjects(gateway())[1] as { spec: { selector: Record<string, string>; ports: { name: string; port: number }[] } };
    expect(service.spec.selector).toEqual({ 'gateway.networking.k8s.io/gateway-name': 'waypoint' });
    expect(service.spec.ports.map((p) => `${p.name}:${p.port}`)).toEqual(['status-port:15021', 'mesh:15008']);
  });

  it.each<[unknown, boolean]>([
    [gateway(), true],
    [{ kind: 'Gateway', spec: { gatewayClassName: 'istio' } }, false],
    [{ kind: 'HTTPRoute', spec: { gatewayClassName: 'istio-waypoint' } }, false],
  ])('isWaypointGateway(%j) is %s', (obj, expected) => {
    expect(isWaypointGateway(obj as KubeObject)).toBe(expected);
  });
});

describe('waypointGateway', () => {
  it("writes istioctl's Gateway: listener mesh on 15008 HBONE, class istio-waypoint, waypoint-for only when given", () => {
    expect(waypointGateway({ namespace: 'shop' })).toEqual({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: 'waypoint', namespace: 'shop' },
      spec: { gatewayClassName: 'istio-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] },
    });
    expect(waypointGateway({ namespace: 'shop', name: 'reviews-wp', for: 'service' }).metadata).toEqual({ name: 'reviews-wp', namespace: 'shop', labels: { 'istio.io/waypoint-for': 'service' } });
  });

  it('refuses the reserved name none', () => {
    expect(() => waypointGateway({ namespace: 'shop', name: 'none' })).toThrow('"none" is reserved');
  });
});
