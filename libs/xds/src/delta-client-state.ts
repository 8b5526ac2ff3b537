// The client side of Delta ADS for one type URL, as plain values: what is subscribed, which resource versions are
// held, the request that (re)opens a stream, and what a response means — decode every resource first, then the
// upserts, removals and rejections to apply and the ACK or NACK to send. The gRPC edge lives in delta-client.ts.

import type { DeltaDiscoveryRequest, DeltaDiscoveryResponse } from './generated/envoy/service/discovery/v3/discovery';
import { errorText } from './delta-errors';
import { WILDCARD_NAME } from './delta-server-state';

/** google.rpc.Code INVALID_ARGUMENT, the code a NACK's `error_detail` carries (as Envoy and ztunnel send). */
export const NACK_STATUS_CODE = 3;
/** A NACK lists at most this many rejected resources by name; the rest are counted. */
const NACK_MAX_LISTED = 20;

/** One resource as a Delta ADS response carries it. */
export interface DeltaResourceInput {
  readonly name: string;
  readonly version: string;
  readonly value: Uint8Array;
}

/**
 * A decoder's verdict on one resource. The second failure shape is the adapters' `Result<T>` (xds-result.ts), so
 * their decode functions plug in as they are.
 */
export type DeltaDecodeResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly message: string }
  | { readonly ok: false; readonly rejection: { readonly message: string; readonly field?: string; readonly code?: string } };

export type DeltaDecoder<T> = (resource: DeltaResourceInput) => DeltaDecodeResult<T>;

export interface DeltaRejection {
  readonly name: string;
  readonly message: string;
}

export interface DeltaClientNack {
  readonly nonce: string;
  readonly message: string;
  readonly at: number;
}

export interface DeltaClientTypeState {
  readonly typeUrl: string;
  readonly wildcard: boolean;
  readonly names: ReadonlySet<string>;
  /** Name → version of every resource applied; sent back as `initial_resource_versions` on reconnect. */
  readonly known: ReadonlyMap<string, string>;
  readonly responses: number;
  readonly lastNonce: string | undefined;
  readonly lastAckedNonce: string | undefined;
  readonly lastNack: DeltaClientNack | undefined;
  /** `system_version_info` of the last response; for debugging only, as in Envoy. */
  readonly systemVersionInfo: string;
}

/** Wildcard (every resource of the type, ztunnel's default) or named resources only (on-demand). */
export type DeltaClientSubscription = { readonly wildcard: boolean; readonly names?: readonly string[] };

export function createClientTypeState(typeUrl: string, subscription: DeltaClientSubscription): DeltaClientTypeState {
  return {
    typeUrl,
    wildcard: subscription.wildcard,
    names: new Set(subscription.names ?? []),
    known: new Map(),
    responses: 0,
    lastNonce: undefined,
    lastAckedNonce: undefined,
    lastNack: undefined,
    systemVersionInfo: '',
  };
}

function request(typeUrl: string, fields: Partial<DeltaDiscoveryRequest>): DeltaDiscoveryRequest {
  return {
    typeUrl,
    resourceNamesSubscribe: [],
    resourceNamesUnsubscribe: [],
    resourceLocatorsSubscribe: [],
    resourceLocatorsUnsubscribe: [],
    initialResourceVersions: {},
    responseNonce: '',
    ...fields,
  };
}

/**
 * The first request of this type on a new stream: the whole subscription again plus every held version, so the
 * server resends only what changed and reports what was deleted meanwhile. The edge adds `node` to the stream's
 * first message. Wildcard alone is an empty subscribe list (as ztunnel); nothing at all is ztunnel's on-demand opener,
 * subscribe and unsubscribe "*" in one message.
 */
export function initialRequest(state: DeltaClientTypeState): DeltaDiscoveryRequest {
  const names = [...state.names];
  const initialResourceVersions = Object.fromEntries(state.known);
  if (state.wildcard) {
    return request(state.typeUrl, {
      resourceNamesSubscribe: names.length === 0 ? [] : [WILDCARD_NAME, ...names],
      initialResourceVersions,
    });
  }
  if (names.length === 0) {
    return request(state.typeUrl, {
      resourceNamesSubscribe: [WILDCARD_NAME],
      resourceNamesUnsubscribe: [WILDCARD_NAME],
      initialResourceVersions,
    });
  }
  return request(state.typeUrl, { resourceNamesSubscribe: names, initialResourceVersions });
}

/** Adds names ("*" turns the wildcard on); `request` is what to send on a live stream, absent when nothing changed. */
export function subscribeNames(
  state: DeltaClientTypeState,
  names: readonly string[],
): { readonly state: DeltaClientTypeState; readonly request: DeltaDiscoveryRequest | undefined } {
  const added = names.filter((n) => (n === WILDCARD_NAME ? !state.wildcard : !state.names.has(n)));
  if (added.length === 0) return { state, request: undefined };
  const next = new Set(state.names);
  for (const n of added) if (n !== WILDCARD_NAME) next.add(n);
  const wildcard = state.wildcard || added.includes(WILDCARD_NAME);
  return {
    state: { ...state, wildcard, names: next },
    request: request(state.typeUrl, { resourceNamesSubscribe: [...new Set(added)] }),
  };
}

/**
 * Removes names ("*" turns the wildcard off). The client drops what it no longer subscribes to — the server sends no
 * removal for it — so `forgotten` lists the held names the application must remove.
 */
export function unsubscribeNames(
  state: DeltaClientTypeState,
  names: readonly string[],
): {
  readonly state: DeltaClientTypeState;
  readonly request: DeltaDiscoveryRequest | undefined;
  readonly forgotten: readonly string[];
} {
  const removed = names.filter((n) => (n === WILDCARD_NAME ? state.wildcard : state.names.has(n)));
  if (removed.length === 0) return { state, request: undefined, forgotten: [] };
  const nextNames = new Set(state.names);
  for (const n of removed) nextNames.delete(n);
  const wildcard = state.wildcard && !removed.includes(WILDCARD_NAME);
  const known = new Map(state.known);
  const forgotten: string[] = [];
  for (const name of state.known.keys()) {
    if (!wildcard && !nextNames.has(name)) {
      known.delete(name);
      forgotten.push(name);
    }
  }
  return {
    state: { ...state, wildcard, names: nextNames, known },
    request: request(state.typeUrl, { resourceNamesUnsubscribe: [...new Set(removed)] }),
    forgotten,
  };
}

export interface DeltaAccepted<T> {
  readonly name: string;
  readonly version: string;
  readonly value: T;
}

export interface DeltaResponseOutcome<T> {
  /** The state to keep once the batch is applied: accepted versions recorded, removals forgotten. */
  readonly state: DeltaClientTypeState;
  readonly upserts: readonly DeltaAccepted<T>[];
  readonly removals: readonly string[];
  readonly rejections: readonly DeltaRejection[];
  /** The ACK, or the NACK when anything was rejected (accepted resources still apply, as ztunnel does). */
  readonly reply: DeltaDiscoveryRequest;
}

function rejectionMessage(result: Exclude<DeltaDecodeResult<unknown>, { ok: true }>): string {
  if ('message' in result) return result.message;
  const r = result.rejection;
  const field = r.field === undefined || r.field === '' ? '' : `${r.field}: `;
  return `${field}${r.message}${r.code === undefined ? '' : ` (${r.code})`}`;
}

function decodeOne<T>(
  typeUrl: string,
  resource: DeltaDiscoveryResponse['resources'][number],
  decode: DeltaDecoder<T>,
): DeltaDecodeResult<T> {
  const body = resource.resource;
  if (body === undefined) return { ok: false, message: 'resource has no body (TTL heartbeats are not supported)' };
  if (body.typeUrl !== typeUrl) return { ok: false, message: `body is ${body.typeUrl}, response is ${typeUrl}` };
  try {
    return decode({ name: resource.name, version: resource.version, value: body.value });
  } catch (err) {
    // A decoder is supposed to return its verdict; one that throws still rejects only this resource.
    return { ok: false, message: `decoder failed: ${errorText(err)}` };
  }
}

/** The `error_detail.message` of a NACK: which resources were rejected and why. */
export function nackMessage(typeUrl: string, total: number, rejections: readonly DeltaRejection[]): string {
  const listed = rejections.slice(0, NACK_MAX_LISTED).map((r) => `${JSON.stringify(r.name)}: ${r.message}`);
  const more = rejections.length > NACK_MAX_LISTED ? `; and ${rejections.length - NACK_MAX_LISTED} more` : '';
  return `rejected ${rejections.length} of ${total} resources of ${typeUrl}: ${listed.join('; ')}${more}`;
}

/** Decodes every resource of `response` before deciding anything, then returns the batch and the reply. */
export function processResponse<T>(
  state: DeltaClientTypeState,
  response: DeltaDiscoveryResponse,
  decode: DeltaDecoder<T>,
  now: number,
): DeltaResponseOutcome<T> {
  const upserts: DeltaAccepted<T>[] = [];
  const rejections: DeltaRejection[] = [];
  const seen = new Set<string>();
  for (const resource of response.resources) {
    if (seen.has(resource.name)) {
      rejections.push({ name: resource.name, message: 'named twice in one response' });
      continue;
    }
    seen.add(resource.name);
    const result = decodeOne(state.typeUrl, resource, decode);
    if (result.ok) upserts.push({ name: resource.name, version: resource.version, value: result.value });
    else rejections.push({ name: resource.name, message: rejectionMessage(result) });
  }
  const removals = [...new Set([...response.removedResources, ...response.removedResourceNames.map((r) => r.name)])];

  const known = new Map(state.known);
  for (const name of removals) known.delete(name);
  // Rejected resources keep whatever version was held before, so a reconnect asks for them again.
  for (const u of upserts) known.set(u.name, u.version);

  const nonce = response.nonce;
  const nacked = rejections.length > 0;
  const message = nacked ? nackMessage(state.typeUrl, response.resources.length, rejections) : '';
  const reply = request(state.typeUrl, {
    responseNonce: nonce,
    ...(nacked ? { errorDetail: { code: NACK_STATUS_CODE, message, details: [] } } : {}),
  });
  return {
    state: {
      ...state,
      known,
      responses: state.responses + 1,
      lastNonce: nonce,
      lastAckedNonce: nacked ? state.lastAckedNonce : nonce,
      lastNack: nacked ? { nonce, message, at: now } : state.lastNack,
      systemVersionInfo: response.systemVersionInfo,
    },
    upserts,
    removals,
    rejections,
    reply,
  };
}

/** The NACK for a response that could not be applied at all (unknown type, or the application's apply failed). */
export function nackAll(typeUrl: string, nonce: string, message: string): DeltaDiscoveryRequest {
  return request(typeUrl, { responseNonce: nonce, errorDetail: { code: NACK_STATUS_CODE, message, details: [] } });
}

export interface DeltaBackoff {
  readonly initialMs: number;
  readonly maxMs: number;
}

/** Fraction of the delay randomised either way, as gRPC's connection backoff does (±20%). */
const BACKOFF_JITTER = 0.2;
const BACKOFF_MULTIPLIER = 2;

/** Delay before reconnect attempt `attempt` (0-based): exponential with jitter, never above `maxMs`; `random` in [0, 1). */
export function backoffDelay(attempt: number, backoff: DeltaBackoff, random: number): number {
  const base = Math.min(backoff.maxMs, backoff.initialMs * BACKOFF_MULTIPLIER ** Math.max(0, attempt));
  return Math.min(backoff.maxMs, Math.max(0, Math.round(base * (1 + BACKOFF_JITTER * (2 * random - 1)))));
}
