// What one Delta ADS stream has subscribed to and what it has been sent, per type URL, and the decisions that follow
// from it: how a request changes the subscription, whether it ACKs or NACKs, and which upserts and removals a
// snapshot means for this subscriber. Plain values in, plain values out; the gRPC edge lives in delta-server.ts.

import { createHash } from 'node:crypto';
import type { Node } from './generated/envoy/config/core/v3/base';
import type { DeltaDiscoveryRequest, DeltaDiscoveryResponse } from './generated/envoy/service/discovery/v3/discovery';

/** The name Envoy's delta protocol uses for "every resource of this type". */
export const WILDCARD_NAME = '*';

/** Length of the hex prefix of a SHA-256 that `contentVersion` returns; 64 bits is plenty to tell versions apart. */
const CONTENT_VERSION_HEX_CHARS = 16;

/** A resource version derived from its encoded bytes, so equal content always has an equal version (as istiod). */
export function contentVersion(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, CONTENT_VERSION_HEX_CHARS);
}

/** A resource body as `google.protobuf.Any` carries it; a plain shape so sources need no generated types. */
export interface DeltaResourceBody {
  readonly typeUrl: string;
  readonly value: Buffer;
}

export interface DeltaSnapshotEntry {
  readonly version: string;
  readonly resource: DeltaResourceBody;
}

/** Every current resource of one type URL, by name. */
export type DeltaSnapshot = ReadonlyMap<string, DeltaSnapshotEntry>;

export interface DeltaNack {
  readonly nonce: string;
  readonly code: number;
  readonly message: string;
  /** Epoch milliseconds when the NACK arrived. */
  readonly at: number;
}

/** One type URL as one subscriber sees it. */
export interface DeltaSubscription {
  readonly typeUrl: string;
  readonly wildcard: boolean;
  /** Names subscribed explicitly (on-demand), besides or instead of the wildcard. */
  readonly names: ReadonlySet<string>;
  /** Name → the version this subscriber holds, as far as the server knows (sent, or declared on reconnect). */
  readonly sent: ReadonlyMap<string, string>;
  /** Names subscribed but not yet answered; an absent one is answered with a removal ("does not exist"). */
  readonly owed: ReadonlySet<string>;
  /** The first request of this type on the stream is always answered, even with nothing. */
  readonly mustRespond: boolean;
  /** Nonces sent and not yet ACKed or NACKed, oldest first. */
  readonly pendingNonces: readonly string[];
  readonly lastAckedNonce: string | undefined;
  readonly lastNack: DeltaNack | undefined;
  readonly acks: number;
  readonly nacks: number;
}

export interface DeltaSubscriberState {
  /** From the first request that carried one (Envoy sends `node` on the first message of a stream only). */
  readonly node: Node | undefined;
  readonly types: ReadonlyMap<string, DeltaSubscription>;
}

export type DeltaReply =
  | { readonly kind: 'none' }
  | { readonly kind: 'ack'; readonly nonce: string }
  | { readonly kind: 'nack'; readonly nack: DeltaNack }
  /** A nonce that is not outstanding (superseded, or from an earlier stream); it changes no ACK state. */
  | { readonly kind: 'stale'; readonly nonce: string; readonly nacked: boolean };

export type DeltaRequestOutcome =
  | {
      readonly ok: true;
      readonly state: DeltaSubscriberState;
      readonly typeUrl: string;
      readonly firstRequest: boolean;
      readonly subscribed: readonly string[];
      readonly unsubscribed: readonly string[];
      /** How many `initial_resource_versions` entries were taken as already sent. */
      readonly adoptedVersions: number;
      readonly reply: DeltaReply;
      /** The edge should compute and send this type's delta now rather than wait for a change. */
      readonly respond: boolean;
    }
  | { readonly ok: false; readonly message: string };

/** What one response to one subscriber carries; both lists empty and `respond` false means send nothing. */
export interface DeltaUpdate {
  readonly resources: readonly { readonly name: string; readonly version: string; readonly resource: DeltaResourceBody }[];
  readonly removedNames: readonly string[];
  readonly respond: boolean;
}

export function createSubscriberState(): DeltaSubscriberState {
  return { node: undefined, types: new Map() };
}

function emptySubscription(typeUrl: string): DeltaSubscription {
  return {
    typeUrl,
    wildcard: false,
    names: new Set(),
    sent: new Map(),
    owed: new Set(),
    mustRespond: true,
    pendingNonces: [],
    lastAckedNonce: undefined,
    lastNack: undefined,
    acks: 0,
    nacks: 0,
  };
}

/** Applies one request: subscription changes, `initial_resource_versions` (first request only) and ACK/NACK. */
export function onRequest(state: DeltaSubscriberState, request: DeltaDiscoveryRequest, now: number): DeltaRequestOutcome {
  const typeUrl = request.typeUrl;
  if (typeUrl === '') return { ok: false, message: 'DeltaDiscoveryRequest without type_url on an aggregated stream' };
  const previous = state.types.get(typeUrl);
  const firstRequest = previous === undefined;
  const sub = previous ?? emptySubscription(typeUrl);

  let wildcard = sub.wildcard;
  const names = new Set(sub.names);
  const sent = new Map(sub.sent);
  const owed = new Set(sub.owed);
  // Envoy's legacy rule: a first request that subscribes to nothing is a wildcard subscription.
  if (firstRequest && request.resourceNamesSubscribe.length === 0) wildcard = true;
  for (const name of request.resourceNamesSubscribe) {
    if (name === WILDCARD_NAME) wildcard = true;
    else {
      names.add(name);
      owed.add(name);
    }
  }
  // Unsubscribes come after subscribes, so ztunnel's on-demand opener (subscribe "*" + unsubscribe "*") means "nothing".
  for (const name of request.resourceNamesUnsubscribe) {
    if (name === WILDCARD_NAME) wildcard = false;
    else {
      names.delete(name);
      owed.delete(name);
    }
  }
  // The client forgets what it no longer subscribes to, so a later re-subscribe must send the resource again.
  for (const name of sent.keys()) if (!wildcard && !names.has(name)) sent.delete(name);

  let adoptedVersions = 0;
  if (firstRequest) {
    for (const [name, version] of Object.entries(request.initialResourceVersions)) {
      sent.set(name, version);
      adoptedVersions++;
    }
  }

  const { reply, pendingNonces, lastAckedNonce, lastNack, acks, nacks } = applyReply(sub, request, now);
  const next: DeltaSubscription = {
    ...sub,
    wildcard,
    names,
    sent,
    owed,
    pendingNonces,
    lastAckedNonce,
    lastNack,
    acks,
    nacks,
  };
  const types = new Map(state.types);
  types.set(typeUrl, next);
  const subscribed = request.resourceNamesSubscribe;
  return {
    ok: true,
    state: { node: state.node ?? request.node, types },
    typeUrl,
    firstRequest,
    subscribed,
    unsubscribed: request.resourceNamesUnsubscribe,
    adoptedVersions,
    reply,
    respond: firstRequest || subscribed.length > 0,
  };
}

type AckFields = Pick<DeltaSubscription, 'pendingNonces' | 'lastAckedNonce' | 'lastNack' | 'acks' | 'nacks'>;

function applyReply(sub: DeltaSubscription, request: DeltaDiscoveryRequest, now: number): AckFields & { reply: DeltaReply } {
  const nonce = request.responseNonce;
  if (nonce === '') return { ...sub, reply: { kind: 'none' } };
  const nacked = request.errorDetail !== undefined;
  const index = sub.pendingNonces.indexOf(nonce);
  if (index < 0) return { ...sub, reply: { kind: 'stale', nonce, nacked } };
  // Answering a nonce also settles every older one: the client processes responses in order.
  const pendingNonces = sub.pendingNonces.slice(index + 1);
  if (!nacked) return { ...sub, pendingNonces, lastAckedNonce: nonce, acks: sub.acks + 1, reply: { kind: 'ack', nonce } };
  const detail = request.errorDetail;
  const nack: DeltaNack = { nonce, code: detail?.code ?? 0, message: detail?.message ?? '', at: now };
  return { ...sub, pendingNonces, lastNack: nack, nacks: sub.nacks + 1, reply: { kind: 'nack', nack } };
}

function matches(sub: DeltaSubscription, name: string): boolean {
  return sub.wildcard || sub.names.has(name);
}

/**
 * The upserts (resources whose version differs from what the subscriber holds) and removals (names it holds that no
 * longer exist or no longer match its subscription, plus newly subscribed names that do not exist) for one type.
 */
export function computeDelta(state: DeltaSubscriberState, typeUrl: string, snapshot: DeltaSnapshot): DeltaUpdate {
  const sub = state.types.get(typeUrl);
  if (sub === undefined) return { resources: [], removedNames: [], respond: false };
  const resources: { name: string; version: string; resource: DeltaResourceBody }[] = [];
  const upsert = (name: string): void => {
    const entry = snapshot.get(name);
    if (entry !== undefined && sub.sent.get(name) !== entry.version) {
      resources.push({ name, version: entry.version, resource: entry.resource });
    }
  };
  if (sub.wildcard) for (const name of snapshot.keys()) upsert(name);
  else for (const name of sub.names) upsert(name);

  const removedNames: string[] = [];
  for (const name of sub.sent.keys()) {
    if (!snapshot.has(name) || !matches(sub, name)) removedNames.push(name);
  }
  for (const name of sub.owed) {
    if (!snapshot.has(name) && !sub.sent.has(name)) removedNames.push(name);
  }
  return { resources, removedNames, respond: sub.mustRespond || resources.length > 0 || removedNames.length > 0 };
}

/** Records that `update` went out under `nonce`: versions become "held", removals are forgotten, owed is paid. */
export function recordSent(
  state: DeltaSubscriberState,
  typeUrl: string,
  update: DeltaUpdate,
  nonce: string,
): DeltaSubscriberState {
  const sub = state.types.get(typeUrl);
  if (sub === undefined) return state;
  const sent = new Map(sub.sent);
  for (const r of update.resources) sent.set(r.name, r.version);
  for (const name of update.removedNames) sent.delete(name);
  const types = new Map(state.types);
  types.set(typeUrl, {
    ...sub,
    sent,
    owed: new Set(),
    mustRespond: false,
    pendingNonces: [...sub.pendingNonces, nonce],
  });
  return { ...state, types };
}

/** The wire form of `update`. */
export function toDeltaResponse(typeUrl: string, update: DeltaUpdate, nonce: string): DeltaDiscoveryResponse {
  return {
    systemVersionInfo: '',
    typeUrl,
    nonce,
    resources: update.resources.map((r) => ({ name: r.name, version: r.version, resource: r.resource, aliases: [] })),
    removedResources: [...update.removedNames],
    removedResourceNames: [],
  };
}
