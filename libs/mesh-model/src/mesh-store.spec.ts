import { authorization, podUid, port, service, workload } from '../test/fixtures';
import { type MeshBatch, type MeshChange, MeshStoreError, isEmptyChange } from './mesh-change';
import { createMeshStore } from './mesh-store';

const WEB = 'default/web.default.svc.cluster.local';
const API = 'default/api.default.svc.cluster.local';
const a = workload({ uid: podUid('a'), addresses: ['10.0.0.1'], services: { [WEB]: [port(80, 8080)] } });
const b = workload({ uid: podUid('b'), addresses: ['10.0.0.2'] });
const c = workload({ uid: podUid('c'), addresses: ['10.0.0.3'] });
const api = service({ name: 'api' });
const web = service({ name: 'web', vips: [{ network: '', address: '10.96.0.10' }] });
const allow = authorization({ name: 'allow-all' });

describe('createMeshStore apply', () => {
  it('notifies every listener exactly once per batch, with the version after the batch', () => {
    const store = createMeshStore();
    const first: MeshChange[] = [];
    const second: MeshChange[] = [];
    store.subscribe((c) => first.push(c));
    store.subscribe((c) => second.push(c));

    store.apply({ workloads: { upsert: [a, b] }, services: { upsert: [web] }, authorizations: { upsert: [allow] } });
    store.apply({ workloads: { remove: [b.uid] } });

    expect(first.map((c) => c.version)).toEqual([1, 2]);
    expect(second).toEqual(first);
    expect(store.version).toBe(2);
  });

  it.each<[string, MeshBatch, Partial<Record<'workloads' | 'services' | 'authorizations', object>>]>([
    [
      'adds of every kind',
      { workloads: { upsert: [c] }, services: { upsert: [api] }, authorizations: { upsert: [allow] } },
      {
        workloads: { added: [c.uid], updated: [], removed: [], unchanged: [], unknownRemovals: [] },
        services: { added: [API] },
        authorizations: { added: ['default/allow-all'] },
      },
    ],
    [
      'an update, a removal and a removal of an unknown key',
      { workloads: { upsert: [{ ...a, status: 'UNHEALTHY' }], remove: [b.uid, 'Kubernetes//Pod/default/ghost'] } },
      {
        workloads: {
          added: [],
          updated: [a.uid],
          removed: [b.uid],
          unchanged: [],
          unknownRemovals: ['Kubernetes//Pod/default/ghost'],
        },
      },
    ],
    [
      'a re-sent identical resource',
      { workloads: { upsert: [{ ...a, addresses: [...a.addresses] }] }, services: { upsert: [web] } },
      { workloads: { unchanged: [a.uid], updated: [] }, services: { unchanged: [web.namespace + '/' + web.hostname] } },
    ],
    [
      'remove and re-add in one batch as the net difference',
      { workloads: { remove: [a.uid], upsert: [{ ...a, node: 'node-b' }] } },
      { workloads: { added: [], removed: [], updated: [a.uid] } },
    ],
    [
      'two upserts of one key: the later wins',
      { workloads: { upsert: [{ ...b, node: 'node-x' }, { ...b, node: 'node-y' }] } },
      { workloads: { updated: [b.uid] } },
    ],
  ])('reports %s', (_name, batch, expected) => {
    const store = createMeshStore();
    store.apply({ workloads: { upsert: [a, b] }, services: { upsert: [web] } });
    const seen: MeshChange[] = [];
    store.subscribe((c) => seen.push(c));

    const returned = store.apply(batch);

    expect(seen).toHaveLength(1);
    for (const [kind, fields] of Object.entries(expected)) {
      expect(returned[kind as keyof typeof expected]).toMatchObject(fields);
    }
  });

  it('keeps the last of two upserts of one key', () => {
    const store = createMeshStore();
    store.apply({ workloads: { upsert: [{ ...b, node: 'node-x' }, { ...b, node: 'node-y' }] } });
    expect(store.workloadByUid(b.uid)?.node).toBe('node-y');
  });

  it('lists service keys whose endpoints changed, and none for an unchanged re-send', () => {
    const store = createMeshStore();
    const added = store.apply({ workloads: { upsert: [a, b] } });
    const resent = store.apply({ workloads: { upsert: [a, b] } });
    const moved = store.apply({ workloads: { upsert: [{ ...a, services: { [API]: [port(9090, 9090)] } }] } });

    expect(added.endpointsChanged).toEqual([WEB]);
    expect(resent.endpointsChanged).toEqual([]);
    expect(isEmptyChange(resent)).toBe(true);
    expect(moved.endpointsChanged).toEqual([API, WEB]);
  });

  it('rejects invalid resources and still applies the rest of the batch', () => {
    const store = createMeshStore();
    const change = store.apply({
      workloads: { upsert: [workload({ uid: '' }), workload({ uid: podUid('bad'), addresses: ['10.0.0.300'] }), b] },
      services: { remove: [''] },
    });

    expect(change.rejected).toEqual([
      expect.objectContaining({ kind: 'workload', key: 'upsert[0]', code: 'ERR_MESH_KEY_MISSING' }),
      expect.objectContaining({ kind: 'workload', key: podUid('bad'), code: 'ERR_MESH_ADDRESS_INVALID' }),
      expect.objectContaining({ kind: 'service', key: 'remove[0]', code: 'ERR_MESH_KEY_MISSING' }),
    ]);
    expect(change.workloads.added).toEqual([b.uid]);
    expect(store.workloadByUid(podUid('bad'))).toBeUndefined();
  });

  it('hands listeners a frozen change', () => {
    const store = createMeshStore();
    let seen: MeshChange | undefined;
    store.subscribe((c) => (seen = c));
    store.apply({ workloads: { upsert: [a] } });
    expect(Object.isFrozen(seen)).toBe(true);
    expect(Object.isFrozen(seen?.workloads.added)).toBe(true);
  });
});

describe('createMeshStore listeners', () => {
  it('keeps notifying the others and returns the failure when a listener throws', () => {
    const store = createMeshStore();
    const boom = new Error('listener bug');
    const thrower = (): void => {
      throw boom;
    };
    const calls: number[] = [];
    store.subscribe(() => calls.push(1));
    store.subscribe(thrower);
    store.subscribe(() => calls.push(3));

    const first = store.apply({ workloads: { upsert: [a] } });
    const second = store.apply({ workloads: { upsert: [b] } });

    expect(calls).toEqual([1, 3, 1, 3]);
    expect(first.listenerFailures).toEqual([{ listener: thrower, error: boom }]);
    expect(second.listenerFailures).toHaveLength(1);
    expect(store.workloadByUid(b.uid)).toBe(b);
  });

  it('stops calling a listener once unsubscribed, even mid-round, and starts new ones at the next batch', () => {
    const store = createMeshStore();
    const calls: string[] = [];
    let unsubscribeLast = (): void => undefined;
    const unsubscribeFirst = store.subscribe((c) => {
      calls.push(`first@${c.version}`);
      unsubscribeLast();
      store.subscribe((d) => calls.push(`late@${d.version}`));
    });
    unsubscribeLast = store.subscribe((c) => calls.push(`last@${c.version}`));

    store.apply({});
    unsubscribeFirst();
    unsubscribeFirst();
    store.apply({});

    expect(calls).toEqual(['first@1', 'late@2']);
  });

  it('refuses apply() from inside a listener without touching the state', () => {
    const store = createMeshStore();
    store.subscribe((c) => {
      if (c.version === 1) store.apply({ workloads: { upsert: [b] } });
    });

    const change = store.apply({ workloads: { upsert: [a] } });

    expect(change.listenerFailures).toHaveLength(1);
    const error = change.listenerFailures[0]?.error;
    expect(error).toBeInstanceOf(MeshStoreError);
    expect(error).toMatchObject({ code: 'ERR_MESH_STORE_REENTRANT_APPLY' });
    expect(store.workloadByUid(b.uid)).toBeUndefined();
    expect(store.version).toBe(1);
    expect(store.apply({ workloads: { upsert: [b] } }).workloads.added).toEqual([b.uid]);
  });
});

describe('createMeshStore iteration', () => {
  it('lists every kind sorted by key whatever the order of writes', () => {
    const store = createMeshStore();
    const zeta = service({ name: 'zeta' });
    const alpha = service({ name: 'alpha', namespace: 'other' });
    store.apply({
      workloads: { upsert: [b, a] },
      services: { upsert: [zeta, alpha] },
      authorizations: { upsert: [authorization({ name: 'z' }), authorization({ name: 'a', namespace: 'x' })] },
    });

    expect(store.workloads().map((w) => w.uid)).toEqual([a.uid, b.uid]);
    expect(store.services().map((s) => s.name)).toEqual(['zeta', 'alpha']);
    expect(store.authorizations().map((p) => `${p.namespace}/${p.name}`)).toEqual(['default/z', 'x/a']);
  });
});
