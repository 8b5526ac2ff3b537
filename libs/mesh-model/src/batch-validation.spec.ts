import { authorization, podUid, service, workload } from '../test/fixtures';
import { validateBatch } from './batch-validation';
import type { MeshBatch } from './mesh-change';

describe('validateBatch', () => {
  it.each<[string, MeshBatch, { kind: string; key: string; code: string } | undefined]>([
    ['a valid batch', { workloads: { upsert: [workload({ uid: podUid('a'), addresses: ['10.0.0.1', 'fd00::1'] })] } }, undefined],
    [
      'a workload without uid',
      { workloads: { upsert: [workload({ uid: '' })] } },
      { kind: 'workload', key: 'upsert[0]', code: 'ERR_MESH_KEY_MISSING' },
    ],
    [
      'a workload with a non-IP address',
      { workloads: { upsert: [workload({ uid: podUid('a'), addresses: ['pod-a'] })] } },
      { kind: 'workload', key: podUid('a'), code: 'ERR_MESH_ADDRESS_INVALID' },
    ],
    [
      'a negative capacity',
      { workloads: { upsert: [workload({ uid: podUid('a'), capacity: -1 })] } },
      { kind: 'workload', key: podUid('a'), code: 'ERR_MESH_CAPACITY_INVALID' },
    ],
    [
      'a fractional capacity',
      { workloads: { upsert: [workload({ uid: podUid('a'), capacity: 0.5 })] } },
      { kind: 'workload', key: podUid('a'), code: 'ERR_MESH_CAPACITY_INVALID' },
    ],
    [
      'a service without hostname',
      { services: { upsert: [service({ name: 'x', hostname: '' })] } },
      { kind: 'service', key: 'upsert[0]', code: 'ERR_MESH_KEY_MISSING' },
    ],
    [
      'a VIP prefix longer than the family allows',
      { services: { upsert: [service({ name: 'x', vips: [{ network: '', address: '10.0.0.0', length: 33 }] })] } },
      { kind: 'service', key: 'default/x.default.svc.cluster.local', code: 'ERR_MESH_ADDRESS_INVALID' },
    ],
    [
      'a non-IP VIP',
      { services: { upsert: [service({ name: 'x', vips: [{ network: '', address: '10.0.0' }] })] } },
      { kind: 'service', key: 'default/x.default.svc.cluster.local', code: 'ERR_MESH_ADDRESS_INVALID' },
    ],
    [
      'an authorization without name',
      { authorizations: { upsert: [authorization({ name: '' })] } },
      { kind: 'authorization', key: 'upsert[0]', code: 'ERR_MESH_KEY_MISSING' },
    ],
    [
      'an empty removal key',
      { authorizations: { remove: ['default/a', ''] } },
      { kind: 'authorization', key: 'remove[1]', code: 'ERR_MESH_KEY_MISSING' },
    ],
  ])('judges %s', (_name, batch, rejection) => {
    const result = validateBatch(batch);
    expect(result.rejected).toEqual(rejection === undefined ? [] : [expect.objectContaining(rejection)]);
    const kept = result.workloads.upsert.length + result.services.upsert.length + result.authorizations.upsert.length;
    const given = [batch.workloads, batch.services, batch.authorizations].reduce(
      (sum, kind) => sum + (kind?.upsert?.length ?? 0),
      0,
    );
    const rejectedUpserts = result.rejected.filter((r) => !r.key.startsWith('remove[')).length;
    expect(kept).toBe(given - rejectedUpserts);
  });
});
