import { waypointGateway, type KubeObject } from '@weft/mesh-config';

import { gatewayStatusWrites, waypointGatewayStatus, type WaypointStatusSettings } from './waypoint-status';

const settings: WaypointStatusSettings = { domainSuffix: 'cluster.local', now: '2026-12-01T10:00:00Z' };
const later: WaypointStatusSettings = { ...settings, now: '2026-12-01T11:00:00Z' };

function gateway(status?: unknown): KubeObject {
  const base = waypointGateway({ namespace: 'shop' });
  return { ...base, metadata: { ...base.metadata, uid: 'uid-1', generation: 2 }, ...(status === undefined ? {} : { status }) };
}

function service(spec: Record<string, unknown>): KubeObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name: 'waypoint', namespace: 'shop' }, spec };
}

describe('waypointGatewayStatus', () => {
  it.each<[string, KubeObject | undefined, string, string, unknown]>([
    ['no Service yet: accepted, not programmed, no address', undefined, 'False', 'Pending', null],
    ['a Service with a ClusterIP: its IP', service({ clusterIP: '10.96.0.20' }), 'True', 'Programmed', [{ type: 'IPAddress', value: '10.96.0.20' }]],
    [
      'a dual-stack Service: every cluster IP',
      service({ clusterIP: '10.96.0.20', clusterIPs: ['10.96.0.20', 'fd00::20'] }),
      'True',
      'Programmed',
      [
        { type: 'IPAddress', value: '10.96.0.20' },
        { type: 'IPAddress', value: 'fd00::20' },
      ],
    ],
    ['a Service without a known IP: the Service hostname', service({}), 'True', 'Programmed', [{ type: 'Hostname', value: 'waypoint.shop.svc.cluster.local' }]],
    ['a headless Service: the hostname', service({ clusterIP: 'None' }), 'True', 'Programmed', [{ type: 'Hostname', value: 'waypoint.shop.svc.cluster.local' }]],
  ])('%s', (_name, svc, programmed, reason, addresses) => {
    const status = waypointGatewayStatus(gateway(), svc, settings);
    expect(status.conditions).toEqual([
      { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'Resource accepted', lastTransitionTime: settings.now, observedGeneration: 2 },
      expect.objectContaining({ type: 'Programmed', status: programmed, reason, lastTransitionTime: settings.now, observedGeneration: 2 }),
    ]);
    expect(status.addresses).toEqual(addresses);
  });

  it('keeps a condition transition time while its status holds and moves it when the status flips', () => {
    const first = waypointGatewayStatus(gateway(), undefined, settings);
    const second = waypointGatewayStatus(gateway(first), service({ clusterIP: '10.96.0.20' }), later);
    expect(second.conditions.map((c) => [c.type, c.lastTransitionTime])).toEqual([
      ['Accepted', settings.now],
      ['Programmed', later.now],
    ]);
  });

  it('says which Service hostname the waypoint is programmed for (istiod wording)', () => {
    const status = waypointGatewayStatus(gateway(), service({ clusterIP: '10.96.0.20' }), { ...settings, domainSuffix: 'example.org' });
    expect(status.conditions[1]?.message).toBe('Resource programmed, assigned to service(s) waypoint.shop.svc.example.org:15008');
  });
});

describe('gatewayStatusWrites', () => {
  const svc = service({ clusterIP: '10.96.0.20' });
  const programmed = waypointGatewayStatus(gateway(), svc, settings);
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
    ['a Gateway whose Service appeared', [gateway(waypointGatewayStatus(gateway(), undefined, settings)), svc], 1],
    ['a Gateway already showing the status', [gateway(programmed), svc], 0],
    ['the same status in another key order', [gateway(reordered), svc], 0],
    ['a Gateway of another class', [{ ...gateway(), spec: { gatewayClassName: 'istio' } }], 0],
  ])('%s: %i write(s)', (_name, objects, count) => {
    const writes = gatewayStatusWrites(objects, later);
    expect(writes).toHaveLength(count);
    for (const write of writes) expect([write.namespace, write.name]).toEqual(['shop', 'waypoint']);
  });
});
