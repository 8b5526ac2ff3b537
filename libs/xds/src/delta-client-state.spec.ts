// Table tests for the client-side Delta ADS decisions: (re)connect requests, on-demand subscription changes,
// decode-everything-then-ACK/NACK, and reconnect backoff.
import type { DeltaDiscoveryResponse, Resource } from './generated/envoy/service/discovery/v3/discovery';
import { StringValue } from './generated/google/protobuf/wrappers';
import {
  DeltaClientTypeState,
  DeltaDecoder,
  NACK_STATUS_CODE,
  backoffDelay,
  createClientTypeState,
  initialRequest,
  nackMessage,
  processResponse,
  subscribeNames,
  unsubscribeNames,
} from './delta-client-state';

const T = 'type.googleapis.com/google.protobuf.StringValue';

const decodeString: DeltaDecoder<string> = (r) => {
  try {
    return { ok: true, value: `${r.name}=${StringValue.decode(r.value).value}` };
  } catch (err) {
    return { ok: false, message: `not a StringValue: ${(err as Error).message}` };
  }
};

function resource(name: string, text: string | Uint8Array, version = `v-${name}`): Resource {
  const value = Buffer.from(typeof text === 'string' ? StringValue.encode({ value: text }).finish() : text);
  return { name, version, aliases: [], resource: { typeUrl: T, value } };
}

function response(fields: Partial<DeltaDiscoveryResponse>): DeltaDiscoveryResponse {
  return { systemVersionInfo: '', resources: [], typeUrl: T, removedResources: [], removedResourceNames: [], nonce: 'n1', ...fields };
}

function withKnown(state: DeltaClientTypeState, known: Record<string, string>): DeltaClientTypeState {
  return { ...state, known: new Map(Object.entries(known)) };
}

/** Bytes that claim a 5-byte string but hold one byte: every protobuf decoder rejects them. */
const MALFORMED = new Uint8Array([0x0a, 0x05, 0x61]);

describe('initialRequest', () => {
  it.each([
    { case: 'wildcard alone is an empty subscribe list', sub: { wildcard: true }, subscribe: [], unsubscribe: [] },
    { case: 'wildcard plus names', sub: { wildcard: true, names: ['a'] }, subscribe: ['*', 'a'], unsubscribe: [] },
    { case: 'names only', sub: { wildcard: false, names: ['a', 'b'] }, subscribe: ['a', 'b'], unsubscribe: [] },
    { case: 'on-demand with nothing yet (ztunnel opener)', sub: { wildcard: false }, subscribe: ['*'], unsubscribe: ['*'] },
  ])('$case', ({ sub, subscribe, unsubscribe }) => {
    const state = withKnown(createClientTypeState(T, sub), { a: 'v1' });
    const req = initialRequest(state);
    expect(req.typeUrl).toBe(T);
    expect(req.resourceNamesSubscribe).toEqual(subscribe);
    expect(req.resourceNamesUnsubscribe).toEqual(unsubscribe);
    expect(req.initialResourceVersions).toEqual({ a: 'v1' });
    expect(req.responseNonce).toBe('');
  });
});

describe('subscribeNames / unsubscribeNames', () => {
  it('sends only what changes', () => {
    const s0 = createClientTypeState(T, { wildcard: false, names: ['a'] });
    const add = subscribeNames(s0, ['a', 'b', 'b']);
    expect(add.request?.resourceNamesSubscribe).toEqual(['b']);
    expect([...add.state.names]).toEqual(['a', 'b']);
    expect(subscribeNames(add.state, ['a']).request).toBeUndefined();
    expect(subscribeNames(add.state, ['*']).state.wildcard).toBe(true);
  });

  it('forgets held resources that are no longer subscribed, and only those', () => {
    const s0 = withKnown(createClientTypeState(T, { wildcard: false, names: ['a', 'b'] }), { a: '1', b: '2' });
    const out = unsubscribeNames(s0, ['a', 'zzz']);
    expect(out.request?.resourceNamesUnsubscribe).toEqual(['a']);
    expect(out.forgotten).toEqual(['a']);
    expect([...out.state.known.keys()]).toEqual(['b']);
    expect(unsubscribeNames(out.state, ['zzz']).request).toBeUndefined();
  });

  it('keeps wildcard resources when a name is unsubscribed, drops them with "*"', () => {
    const s0 = withKnown(createClientTypeState(T, { wildcard: true, names: ['a'] }), { a: '1', b: '2' });
    expect(unsubscribeNames(s0, ['a']).forgotten).toEqual([]);
    const off = unsubscribeNames(s0, ['*']);
    expect(off.state.wildcard).toBe(false);
    expect(off.forgotten).toEqual(['b']);
  });
});

describe('processResponse', () => {
  it('applies everything and ACKs when every resource decodes', () => {
    const s0 = withKnown(createClientTypeState(T, { wildcard: true }), { old: 'v0' });
    const out = processResponse(s0, response({ resources: [resource('a', 'A'), resource('b', 'B')], removedResources: ['old'], systemVersionInfo: 'sv' }), decodeString, 7);
    expect(out.upserts.map((u) => u.value)).toEqual(['a=A', 'b=B']);
    expect(out.removals).toEqual(['old']);
    expect(out.rejections).toEqual([]);
    expect(out.reply).toMatchObject({ typeUrl: T, responseNonce: 'n1' });
    expect(out.reply.errorDetail).toBeUndefined();
    expect(Object.fromEntries(out.state.known)).toEqual({ a: 'v-a', b: 'v-b' });
    expect(out.state).toMatchObject({ responses: 1, lastNonce: 'n1', lastAckedNonce: 'n1', lastNack: undefined, systemVersionInfo: 'sv' });
  });

  it('applies the good resources, NACKs naming the bad one, and keeps its previous version', () => {
    const s0 = withKnown(createClientTypeState(T, { wildcard: true }), { bad: 'v-before' });
    const out = processResponse(s0, response({ resources: [resource('good', 'G'), resource('bad', MALFORMED, 'v-after')] }), decodeString, 9);
    expect(out.upserts.map((u) => u.name)).toEqual(['good']);
    expect(out.rejections.map((r) => r.name)).toEqual(['bad']);
    expect(out.reply.responseNonce).toBe('n1');
    expect(out.reply.errorDetail?.code).toBe(NACK_STATUS_CODE);
    expect(out.reply.errorDetail?.message).toMatch(/^rejected 1 of 2 resources of type\.googleapis\.com\/google\.protobuf\.StringValue: "bad": not a StringValue/);
    expect(Object.fromEntries(out.state.known)).toEqual({ good: 'v-good', bad: 'v-before' });
    expect(out.state.lastNack).toEqual({ nonce: 'n1', message: out.reply.errorDetail?.message, at: 9 });
    expect(out.state.lastAckedNonce).toBeUndefined();
  });

  it.each([
    {
      case: 'a body of another type',
      resources: [{ ...resource('x', 'X'), resource: { typeUrl: 'type.googleapis.com/other.Type', value: Buffer.alloc(0) } }],
      message: 'body is type.googleapis.com/other.Type, response is type.googleapis.com/google.protobuf.StringValue',
    },
    { case: 'no body', resources: [{ ...resource('x', 'X'), resource: undefined }], message: 'resource has no body (TTL heartbeats are not supported)' },
    { case: 'a name twice', resources: [resource('x', 'X'), resource('x', 'Y')], message: 'named twice in one response' },
  ])('rejects $case', ({ resources, message }) => {
    const out = processResponse(createClientTypeState(T, { wildcard: true }), response({ resources }), decodeString, 0);
    expect(out.rejections).toEqual([{ name: 'x', message }]);
  });

  it('turns a throwing decoder and an adapter-style rejection into rejections', () => {
    const throwing: DeltaDecoder<string> = () => {
      throw new Error('boom');
    };
    expect(processResponse(createClientTypeState(T, { wildcard: true }), response({ resources: [resource('x', 'X')] }), throwing, 0).rejections).toEqual([
      { name: 'x', message: 'decoder failed: boom' },
    ]);
    const adapterStyle: DeltaDecoder<string> = () => ({
      ok: false,
      rejection: { code: 'ERR_XDS_RESOURCE_INVALID', field: 'workload.addresses[0]', message: 'must be 4 or 16 bytes' },
    });
    expect(processResponse(createClientTypeState(T, { wildcard: true }), response({ resources: [resource('x', 'X')] }), adapterStyle, 0).rejections).toEqual([
      { name: 'x', message: 'workload.addresses[0]: must be 4 or 16 bytes (ERR_XDS_RESOURCE_INVALID)' },
    ]);
  });

  it('merges removed_resources and removed_resource_names', () => {
    const out = processResponse(
      createClientTypeState(T, { wildcard: true }),
      response({ removedResources: ['a', 'b'], removedResourceNames: [{ name: 'b' }, { name: 'c' }] }),
      decodeString,
      0,
    );
    expect(out.removals).toEqual(['a', 'b', 'c']);
  });
});

describe('nackMessage', () => {
  it('lists at most 20 names and counts the rest', () => {
    const rejections = Array.from({ length: 23 }, (_, i) => ({ name: `r${i}`, message: 'bad' }));
    const text = nackMessage(T, 30, rejections);
    expect(text).toContain('rejected 23 of 30 resources');
    expect(text).toContain('"r19": bad');
    expect(text).not.toContain('"r20"');
    expect(text).toMatch(/and 3 more$/);
  });
});

describe('backoffDelay', () => {
  const backoff = { initialMs: 100, maxMs: 1_000 };
  it.each([
    { attempt: 0, random: 0.5, delay: 100 },
    { attempt: 1, random: 0.5, delay: 200 },
    { attempt: 3, random: 0.5, delay: 800 },
    { attempt: 4, random: 0.5, delay: 1_000 },
    { attempt: 30, random: 0.5, delay: 1_000 },
    { attempt: 0, random: 0, delay: 80 },
    { attempt: 4, random: 0.999999, delay: 1_000 },
    { attempt: 2, random: 0.999999, delay: 480 },
  ])('attempt $attempt with random $random waits $delay ms', ({ attempt, random, delay }) => {
    expect(backoffDelay(attempt, backoff, random)).toBe(delay);
  });
});
