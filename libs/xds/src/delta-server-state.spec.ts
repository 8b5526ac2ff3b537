// Table tests for the server-side Delta ADS decisions: subscriptions, ACK/NACK bookkeeping and delta computation.
import type { DeltaDiscoveryRequest } from './generated/envoy/service/discovery/v3/discovery';
import { StringValue } from './generated/google/protobuf/wrappers';
import {
  DeltaSnapshot,
  DeltaSnapshotEntry,
  DeltaSubscriberState,
  DeltaUpdate,
  computeDelta,
  contentVersion,
  createSubscriberState,
  onRequest,
  recordSent,
  toDeltaResponse,
} from './delta-server-state';

const T = 'type.googleapis.com/google.protobuf.StringValue';
const U = 'type.googleapis.com/google.protobuf.BytesValue';

function snapshot(entries: Record<string, string>): DeltaSnapshot {
  const map = new Map<string, DeltaSnapshotEntry>();
  for (const [name, text] of Object.entries(entries)) {
    const value = Buffer.from(StringValue.encode({ value: text }).finish());
    map.set(name, { version: contentVersion(value), resource: { typeUrl: T, value } });
  }
  return map;
}

function req(fields: Partial<DeltaDiscoveryRequest>): DeltaDiscoveryRequest {
  return {
    typeUrl: T,
    resourceNamesSubscribe: [],
    resourceNamesUnsubscribe: [],
    resourceLocatorsSubscribe: [],
    resourceLocatorsUnsubscribe: [],
    initialResourceVersions: {},
    responseNonce: '',
    ...fields,
  };
}

/** Applies requests in order and fails loudly on an invalid one. */
function apply(state: DeltaSubscriberState, ...requests: Partial<DeltaDiscoveryRequest>[]): DeltaSubscriberState {
  let s = state;
  for (const r of requests) {
    const out = onRequest(s, req(r), 1_000);
    if (!out.ok) throw new Error(out.message);
    s = out.state;
  }
  return s;
}

const summary = (u: DeltaUpdate) => ({ upserts: u.resources.map((r) => r.name), removed: u.removedNames, respond: u.respond });

/** Sends what computeDelta finds and returns the new state plus what was sent. */
function pushOnce(state: DeltaSubscriberState, snap: DeltaSnapshot, nonce = 'n1') {
  const update = computeDelta(state, T, snap);
  return { state: recordSent(state, T, update, nonce), sent: summary(update) };
}

describe('contentVersion', () => {
  it('is the first 16 hex chars of sha256 and depends only on the bytes', () => {
    const a = contentVersion(new Uint8Array([1, 2, 3]));
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(contentVersion(new Uint8Array([1, 2, 3]))).toBe(a);
    expect(contentVersion(new Uint8Array([1, 2, 4]))).not.toBe(a);
    expect(contentVersion(new Uint8Array())).toBe('e3b0c44298fc1c14');
  });
});

describe('onRequest: subscriptions', () => {
  it.each([
    { case: 'empty first subscribe is the legacy wildcard', requests: [{}], wildcard: true, names: [] },
    { case: '"*" subscribes the wildcard', requests: [{ resourceNamesSubscribe: ['*'] }], wildcard: true, names: [] },
    {
      case: 'ztunnel on-demand opener (subscribe and unsubscribe "*") subscribes nothing',
      requests: [{ resourceNamesSubscribe: ['*'], resourceNamesUnsubscribe: ['*'] }],
      wildcard: false,
      names: [],
    },
    { case: 'names only', requests: [{ resourceNamesSubscribe: ['a', 'b'] }], wildcard: false, names: ['a', 'b'] },
    {
      case: 'wildcard plus names',
      requests: [{ resourceNamesSubscribe: ['*', 'a'] }],
      wildcard: true,
      names: ['a'],
    },
    {
      case: 'an empty later request does not turn the wildcard on',
      requests: [{ resourceNamesSubscribe: ['a'] }, {}],
      wildcard: false,
      names: ['a'],
    },
    {
      case: 'unsubscribing "*" drops the wildcard and keeps names',
      requests: [{ resourceNamesSubscribe: ['*', 'a'] }, { resourceNamesUnsubscribe: ['*'] }],
      wildcard: false,
      names: ['a'],
    },
    {
      case: 'unsubscribing a name',
      requests: [{ resourceNamesSubscribe: ['a', 'b'] }, { resourceNamesUnsubscribe: ['a'] }],
      wildcard: false,
      names: ['b'],
    },
  ])('$case', ({ requests, wildcard, names }) => {
    const sub = apply(createSubscriberState(), ...requests).types.get(T);
    expect(sub?.wildcard).toBe(wildcard);
    expect([...(sub?.names ?? [])]).toEqual(names);
  });

  it('answers the first request of a type and any request that subscribes something', () => {
    const first = onRequest(createSubscriberState(), req({}), 0);
    expect(first.ok && first.firstRequest && first.respond).toBe(true);
    if (!first.ok) return;
    const ack = onRequest(first.state, req({ responseNonce: 'x' }), 0);
    expect(ack.ok && ack.respond).toBe(false);
    const more = onRequest(first.state, req({ resourceNamesSubscribe: ['a'] }), 0);
    expect(more.ok && more.respond).toBe(true);
  });

  it('takes node from the first request that carries one and rejects a request without type_url', () => {
    const node = {
      id: 'ztunnel~10.0.0.1~z.istio-system~istio-system.svc.cluster.local',
      cluster: '',
      metadata: { NAME: 'z' },
      dynamicParameters: {},
      userAgentName: '',
      extensions: [],
      clientFeatures: [],
    };
    const s = apply(createSubscriberState(), { node }, { typeUrl: U, node: { ...node, id: 'other' } });
    expect(s.node?.id).toBe(node.id);
    expect(onRequest(s, req({ typeUrl: '' }), 0)).toEqual({ ok: false, message: expect.stringContaining('type_url') });
  });
});

describe('computeDelta', () => {
  const v1 = snapshot({ a: 'A1', b: 'B1', c: 'C1' });

  it('sends everything to a new wildcard subscriber, then nothing until something changes', () => {
    const first = pushOnce(apply(createSubscriberState(), {}), v1);
    expect(first.sent).toEqual({ upserts: ['a', 'b', 'c'], removed: [], respond: true });
    expect(summary(computeDelta(first.state, T, v1))).toEqual({ upserts: [], removed: [], respond: false });
  });

  it.each<{ case: string; next: Record<string, string>; upserts: string[]; removed: string[] }>([
    { case: 'an update sends only the changed resource', next: { a: 'A1', b: 'B2', c: 'C1' }, upserts: ['b'], removed: [] },
    { case: 'a delete becomes a removal', next: { a: 'A1', c: 'C1' }, upserts: [], removed: ['b'] },
    { case: 'an addition is sent', next: { a: 'A1', b: 'B1', c: 'C1', d: 'D1' }, upserts: ['d'], removed: [] },
  ])('wildcard: $case', ({ next, upserts, removed }) => {
    const { state } = pushOnce(apply(createSubscriberState(), {}), v1);
    expect(summary(computeDelta(state, T, snapshot(next)))).toEqual({ upserts, removed, respond: true });
  });

  it('sends a named subscriber only its names and nothing for unrelated changes', () => {
    const { state, sent } = pushOnce(apply(createSubscriberState(), { resourceNamesSubscribe: ['a'] }), v1);
    expect(sent.upserts).toEqual(['a']);
    expect(computeDelta(state, T, snapshot({ a: 'A1', b: 'B9', x: 'X' })).respond).toBe(false);
  });

  it('answers a subscription to a missing name with a removal, once', () => {
    const { state, sent } = pushOnce(apply(createSubscriberState(), { resourceNamesSubscribe: ['a', 'ghost'] }), v1);
    expect(sent).toEqual({ upserts: ['a'], removed: ['ghost'], respond: true });
    expect(computeDelta(state, T, v1).respond).toBe(false);
    // Once it exists it is sent like any other subscribed resource.
    expect(summary(computeDelta(state, T, snapshot({ a: 'A1', ghost: 'G' }))).upserts).toEqual(['ghost']);
  });

  it('answers the on-demand opener with an empty response', () => {
    const s = apply(createSubscriberState(), { resourceNamesSubscribe: ['*'], resourceNamesUnsubscribe: ['*'] });
    expect(summary(computeDelta(s, T, v1))).toEqual({ upserts: [], removed: [], respond: true });
  });

  it('resends a resource after unsubscribe and re-subscribe', () => {
    let { state } = pushOnce(apply(createSubscriberState(), { resourceNamesSubscribe: ['a'] }), v1);
    state = apply(state, { resourceNamesUnsubscribe: ['a'] });
    expect(computeDelta(state, T, v1).respond).toBe(false);
    state = apply(state, { resourceNamesSubscribe: ['a'] });
    expect(summary(computeDelta(state, T, v1)).upserts).toEqual(['a']);
  });

  it('forgets wildcard-only resources when "*" is unsubscribed (no removals: the client drops them itself)', () => {
    let { state } = pushOnce(apply(createSubscriberState(), { resourceNamesSubscribe: ['*', 'a'] }), v1);
    state = apply(state, { resourceNamesUnsubscribe: ['*'] });
    expect([...(state.types.get(T)?.sent.keys() ?? [])]).toEqual(['a']);
    expect(computeDelta(state, T, v1).respond).toBe(false);
  });

  it.each([
    {
      case: 'unchanged resources are not resent, changed ones are, deleted ones are removed',
      subscribe: [],
      initial: { a: 'A1', b: 'B-old', gone: 'G' },
      upserts: ['b', 'c'],
      removed: ['gone'],
    },
    {
      case: 'a named subscriber with a held resource it no longer subscribes gets a removal',
      subscribe: ['a'],
      initial: { a: 'A1', b: 'B1' },
      upserts: [],
      removed: ['b'],
    },
  ])('initial_resource_versions: $case', ({ subscribe, initial, upserts, removed }) => {
    const versions: Record<string, string> = {};
    for (const [name, text] of Object.entries(initial)) {
      versions[name] = contentVersion(StringValue.encode({ value: text }).finish());
    }
    const out = onRequest(createSubscriberState(), req({ resourceNamesSubscribe: subscribe, initialResourceVersions: versions }), 0);
    expect(out.ok && out.adoptedVersions).toBe(Object.keys(initial).length);
    if (!out.ok) return;
    expect(summary(computeDelta(out.state, T, v1))).toEqual({ upserts, removed, respond: true });
  });

  it('ignores initial_resource_versions after the first request of a type', () => {
    const { state } = pushOnce(apply(createSubscriberState(), {}), v1);
    const after = apply(state, { initialResourceVersions: { a: 'bogus' } });
    expect(computeDelta(after, T, v1).respond).toBe(false);
  });

  it('returns nothing for a type the stream never asked for', () => {
    expect(computeDelta(apply(createSubscriberState(), {}), U, v1)).toEqual({ resources: [], removedNames: [], respond: false });
  });
});

describe('onRequest: ACK and NACK', () => {
  function sentTwice(): DeltaSubscriberState {
    const first = pushOnce(apply(createSubscriberState(), {}), snapshot({ a: 'A1' }), 'n1');
    return pushOnce(first.state, snapshot({ a: 'A2' }), 'n2').state;
  }

  it.each([
    { case: 'ACK of the latest nonce settles all', request: { responseNonce: 'n2' }, kind: 'ack', pending: [], acked: 'n2' },
    { case: 'ACK of an older nonce leaves the newer pending', request: { responseNonce: 'n1' }, kind: 'ack', pending: ['n2'], acked: 'n1' },
    { case: 'an unknown nonce is stale', request: { responseNonce: 'old-stream' }, kind: 'stale', pending: ['n1', 'n2'], acked: undefined },
    { case: 'no nonce is no reply', request: {}, kind: 'none', pending: ['n1', 'n2'], acked: undefined },
  ])('$case', ({ request, kind, pending, acked }) => {
    const out = onRequest(sentTwice(), req(request), 5);
    if (!out.ok) throw new Error(out.message);
    expect(out.reply.kind).toBe(kind);
    expect(out.state.types.get(T)?.pendingNonces).toEqual(pending);
    expect(out.state.types.get(T)?.lastAckedNonce).toBe(acked);
  });

  it('records a NACK with its nonce, code, message and time', () => {
    const out = onRequest(sentTwice(), req({ responseNonce: 'n2', errorDetail: { code: 3, message: 'bad "a"', details: [] } }), 42);
    if (!out.ok) throw new Error(out.message);
    expect(out.reply).toEqual({ kind: 'nack', nack: { nonce: 'n2', code: 3, message: 'bad "a"', at: 42 } });
    const sub = out.state.types.get(T);
    expect(sub?.lastNack).toEqual({ nonce: 'n2', code: 3, message: 'bad "a"', at: 42 });
    expect([sub?.nacks, sub?.acks, sub?.lastAckedNonce]).toEqual([1, 0, undefined]);
  });
});

describe('toDeltaResponse', () => {
  it('carries name, version, body, removals and the nonce', () => {
    const snap = snapshot({ a: 'A1' });
    const update = computeDelta(apply(createSubscriberState(), {}), T, snap);
    const res = toDeltaResponse(T, { ...update, removedNames: ['z'] }, 'n9');
    expect(res.nonce).toBe('n9');
    expect(res.typeUrl).toBe(T);
    expect(res.removedResources).toEqual(['z']);
    expect(res.resources.map((r) => [r.name, r.version, r.resource?.typeUrl])).toEqual([['a', snap.get('a')?.version, T]]);
  });
});
