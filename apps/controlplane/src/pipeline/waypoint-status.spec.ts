import { waypointGateway, type KubeObject } from '@weft/mesh-config';

import { gatewayStatusWrites, waypointGatewayStatus, type WaypointStatusSettings } from './waypoint-status';

const settings: WaypointStatusSettings = { domainSuffix: 'cluster.local', now: '2026-12-01T10:00:00Z' };
const later: WaypointStatusSettings = { ...settings, now: '2026-12-01T11:00:00Z' };
const HOSTNAME = { type: 'Hostname', value: 'waypoint.shop.svc.cluster.local' };

function gateway(status?: unknown): KubeObject {
  const base = waypointGateway({ namespace: 'shop' });
  return { ...base, metadata: { ...base.metadata, uid: 'uid-1', generation: 2 }, ...(status === undefined ? {} : { status }) };
}

function service(spec: Record<string, unknown>): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'waypoint', namespace: 'shop' },
    spec: { selector: { 'gateway.networking.k8s.io/gateway-name': 'waypoint' }, ...spec },
  };
}

function waypointPod(ready: boolean, extra: { namespace?: string; gatewayName?: string; deleting?: boolean } = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'waypoint-0',
      namespace: extra.namespace ?? 'shop',
      labels: { 'gateway.networking.k8s.io/gateway-name': extra.gatewayName ?? 'waypoint' },
      ...(extra.deleting === true ? { deletionTimestamp: '2026-12-01T09:00:00Z' } : {}),
    },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  };
}

describe('waypointGatewayStatus (istiod reportGatewayStatus for the waypoint class)', () => {
  it.each<[string, KubeObject | undefined, boolean, string, string, unknown]>([
    ['no Service yet: accepted, not programmed, no address', undefined, false, 'False', 'AddressNotUsable', null],
    ['a Service without a Ready pod: not programmed, no address yet', service({ clusterIP: '10.96.0.20' }), false, 'False', 'AddressNotAssigned', null],
    ['a Service with a Ready pod: its IP and its hostname', service({ clusterIP: '10.96.0.20' }), true, 'True', 'Programmed', [{ type: 'IPAddress', value: '10.96.0.20' }, HOSTNAME]],
    [
      'a dual-stack Service: every cluster IP, then the hostname',
      service({ clusterIP: '10.96.0.20', clusterIPs: ['10.96.0.20', 'fd00::20'] }),
      true,
      'True',
      'Programmed',
      [{ type: 'IPAddress', value: '10.96.0.20' }, { type: 'IPAddress', value: 'fd00::20' }, HOSTNAME],
    ],
    ['a Service without a known IP: the hostname', service({}), true, 'True', 'Programmed', [HOSTNAME]],
    ['a headless Service: the hostname', service({ clusterIP: 'None' }), true, 'True', 'Programmed', [HOSTNAME]],
  ])('%s', (_name, svc, ready, programmed, reason, addresses) => {
    const status = waypointGatewayStatus(gateway(), svc, ready, settings);
    expect(status.conditions).toEqual([
      { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'Resource accepted', lastTransitionTime: settings.now, observedGeneration: 2 },
      expect.objectContaining({ type: 'Programmed', status: programmed, reason, lastTransitionTime: settings.now, observedGeneration: 2 }),
    ]);
    expect(status.addresses).toEqual(addresses);
  });

  it("says why it is not programmed in istiod's words", () => {
    expect(waypointGatewayStatus(gateway(), undefined, false, settings).conditions[1]?.message).toBe(
      'Failed to assign to any requested addresses: hostname "waypoint.shop.svc.cluster.local" not found',
    );
    expect(waypointGatewayStatus(gateway(), service({ clusterIP: '10.96.0.20' }), false, settings).conditions[1]?.message).toBe(
      'Failed to assign to any requested addresses: no instances found for hostname "waypoint.shop.svc.cluster.local"',
    );
  });

  it('never removes addresses once written, even when no pod is Ready any more', () => {
    const programmed = waypointGatewayStatus(gateway(), service({ clusterIP: '10.96.0.20' }), true, settings);
    const after = waypointGatewayStatus(gateway(programmed), service({ clusterIP: '10.96.0.20' }), false, later);
    expect(after.addresses).toEqual(programmed.addresses);
    expect(after.conditions[1]).toMatchObject({ status: 'False', reason: 'AddressNotAssigned', lastTransitionTime: later.now });
  });

  it('keeps a condition transition time while its status holds and moves it when the status flips', () => {
    const first = waypointGatewayStatus(gateway(), undefined, false, settings);
    const second = waypointGatewayStatus(gateway(first), service({ clusterIP: '10.96.0.20' }), true, later);
    expect(second.conditions.map((c) => [c.type, c.lastTransitionTime])).toEqual([
      ['Accepted', settings.now],
      ['Programmed', later.now],
    ]);
  });

  it('says which Service hostname the waypoint is programmed for (istiod wording)', () => {
    const status = waypointGatewayStatus(gateway(), service({ clusterIP: '10.96.0.20' }), true, { ...settings, domainSuffix: 'example.org' });
    expect(status.conditions[1]?.message).toBe('Resource programmed, assigned to service(s) waypoint.shop.svc.example.org:15008');
  });
});

describe('gatewayStatusWrites', () => {
  const svc = service({ clusterIP: '10.96.0.20' });
  const programmed = waypointGatewayStatus(gateway(), svc, true, settings);
  // The API server returns fields in its own order; comparison must not depend on it.
  const reordered = {
    addresses: programmed.addresses,
    conditions: programmed.conditions.map(({ message, reason, status, type, lastTransitionTime, observedGeneration }) => ({
      observedGeneration,
      lastTransitionTime,
      type,
      status,
      reason,
      message,
    })),
  };

  it.each<[string, readonly KubeObject[], number]>([
    ['a fresh Gateway', [gateway()], 1],
    ['a Gateway whose Service appeared', [gateway(waypointGatewayStatus(gateway(), undefined, false, settings)), svc], 1],
    ['a Gateway already showing the status', [gateway(programmed), svc, waypointPod(true)], 0],
    ['the same status in another key order', [gateway(reordered), svc, waypointPod(true)], 0],
    ['a Gateway of another class', [{ ...gateway(), spec: { gatewayClassName: 'istio' } }], 0],
  ])('%s: %i write(s)', (_name, objects, count) => {
    const writes = gatewayStatusWrites(objects, later);
    expect(writes).toHaveLength(count);
    for (const write of writes) expect([write.namespace, write.name]).toEqual(['shop', 'waypoint']);
  });

  it.each<[string, KubeObject, boolean]>([
    ['a Ready pod the Service selects', waypointPod(true), true],
    ['a pod that is not Ready', waypointPod(false), false],
    ['a Ready pod that is terminating', waypointPod(true, { deleting: true }), false],
    ['a Ready pod of another Gateway', waypointPod(true, { gatewayName: 'other' }), false],
    ['a Ready pod in another namespace', waypointPod(true, { namespace: 'elsewhere' }), false],
  ])('%s programs the waypoint: %s', (_name, pod, expected) => {
    const [write] = gatewayStatusWrites([gateway(), svc, pod], later);
    expect(write?.status.conditions[1]?.status).toBe(expected ? 'True' : 'False');
    expect(write?.status.addresses !== null).toBe(expected);
  });
});
