// The Delta ADS client's gRPC edge: one DeltaAggregatedResources stream carrying every subscribed type, each response
// decoded whole and handed to the application in one synchronous batch before the ACK/NACK, and reconnects with
// backoff that resume from the versions held (delta-client-state.ts holds the decisions). While disconnected the
// application keeps its last good state: the client never clears it.

import * as grpc from '@grpc/grpc-js';
import type { Node } from './generated/envoy/config/core/v3/base';
import {
  AggregatedDiscoveryServiceClient,
  type DeltaDiscoveryRequest,
  type DeltaDiscoveryResponse,
} from './generated/envoy/service/discovery/v3/discovery';
import { createSignal, settleWithin } from './delta-lifecycle';
import { DeltaAdsError, NOOP_DELTA_ADS_LOGGER, errorText, streamStatusError } from './delta-errors';
import {
  DeltaClientTypeState,
  DeltaRejection,
  backoffDelay,
  createClientTypeState,
  initialRequest,
  nackAll,
  processResponse,
  subscribeNames,
  unsubscribeNames,
} from './delta-client-state';
import type {
  DeltaAdsClient,
  DeltaAdsClientOptions,
  DeltaClientError,
  DeltaClientType,
} from './delta-client-types';

/** How long close() waits for the server to finish the half-closed stream before cancelling it. */
export const DEFAULT_CLIENT_CLOSE_DEADLINE_MS = 5_000;

/** A type's handlers with T fixed inside closures, so the client can hold types of different T in one map. */
interface TypeSlot {
  state: DeltaClientTypeState;
  readonly process: (response: DeltaDiscoveryResponse, now: number) => {
    readonly state: DeltaClientTypeState;
    readonly rejections: readonly DeltaRejection[];
    readonly reply: DeltaDiscoveryRequest;
    readonly apply: () => void;
  };
  readonly forget: (names: readonly string[]) => void;
}

function slotFor<T>(type: DeltaClientType<T>): TypeSlot {
  const slot: TypeSlot = {
    state: createClientTypeState(type.typeUrl, type.subscription ?? { wildcard: true }),
    process: (response, now) => {
      const out = processResponse(slot.state, response, type.decode, now);
      const batch = { upserts: out.upserts.map((u) => u.value), removals: out.removals, rejections: out.rejections };
      return { state: out.state, rejections: out.rejections, reply: out.reply, apply: () => type.onUpdate(batch) };
    },
    forget: (names) => type.onUpdate({ upserts: [], removals: names, rejections: [] }),
  };
  return slot;
}

type Call = grpc.ClientDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse>;

export function createDeltaAdsClient<Ts extends readonly unknown[]>(options: DeltaAdsClientOptions<Ts>): DeltaAdsClient {
  const logger = options.logger ?? NOOP_DELTA_ADS_LOGGER;
  const random = options.random ?? Math.random;
  const { initialMs, maxMs } = options.backoff;
  if (!(initialMs > 0 && maxMs >= initialMs)) {
    throw new DeltaAdsError('ERR_XDS_CONFIG_INVALID', `backoff needs 0 < initialMs <= maxMs, got ${initialMs}/${maxMs}`);
  }
  const slots = new Map<string, TypeSlot>();
  for (const type of options.types) {
    if (slots.has(type.typeUrl)) throw new DeltaAdsError('ERR_XDS_CONFIG_INVALID', `type URL ${type.typeUrl} given twice`);
    slots.set(type.typeUrl, slotFor(type));
  }
  const node: Node = {
    id: options.node.id,
    cluster: options.node.cluster ?? '',
    metadata: { ...options.node.metadata },
    dynamicParameters: {},
    userAgentName: 'weft',
    extensions: [],
    clientFeatures: [],
  };
  const channel = new AggregatedDiscoveryServiceClient(options.address, options.credentials, {
    // The channel's own reconnect backoff follows ours, so a restarted server is found as soon as we retry.
    'grpc.initial_reconnect_backoff_ms': initialMs,
    'grpc.max_reconnect_backoff_ms': maxMs,
    ...options.channelOptions,
  });

  let channelOpen = true;
  const closeChannel = (): void => {
    if (channelOpen) channel.close();
    channelOpen = false;
  };
  let call: Call | undefined;
  let generation = 0;
  let attempt = 0;
  let connects = 0;
  let connected = false;
  let closing = false;
  let closed: Promise<void> | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let nextRetryAt: number | undefined;
  let lastError: DeltaClientError | undefined;
  let isReady = false;
  let readyWaiters: { resolve: () => void; reject: (err: DeltaAdsError) => void }[] = [];
  const forced = createSignal();

  function recordError(err: DeltaAdsError): void {
    lastError = { code: err.code, message: err.message, grpcCode: err.grpcCode, at: Date.now() };
  }

  function send(gen: number, request: DeltaDiscoveryRequest): void {
    if (gen === generation && call !== undefined) call.write(request);
  }

  function connect(): void {
    retryTimer = undefined;
    nextRetryAt = undefined;
    if (closing) return;
    const metadata = new grpc.Metadata();
    try {
      for (const [key, value] of Object.entries(options.metadata?.() ?? {})) metadata.set(key, value);
    } catch (err) {
      recordError(new DeltaAdsError('ERR_XDS_STREAM_FAILED', `call metadata unavailable: ${errorText(err)}`));
      logger.warn('cannot build xDS call metadata; will retry', { error: errorText(err) });
      return scheduleRetry();
    }
    const gen = ++generation;
    const c = channel.deltaAggregatedResources(metadata);
    call = c;
    connects++;
    c.on('data', (response: DeltaDiscoveryResponse) => onResponse(gen, response));
    // 'status' always follows a failure and is where it is handled; this listener only keeps 'error' from throwing.
    c.on('error', (err: Error) => logger.debug('xDS stream error', { error: err.message }));
    c.on('status', (s: grpc.StatusObject) => onStatus(gen, s));
    let first = true;
    for (const slot of slots.values()) {
      const request = initialRequest(slot.state);
      send(gen, first ? { ...request, node } : request);
      first = false;
    }
    logger.debug('xDS stream opened', { address: options.address, attempt });
  }

  function scheduleRetry(): void {
    const delay = backoffDelay(attempt++, options.backoff, random());
    nextRetryAt = Date.now() + delay;
    retryTimer = setTimeout(connect, delay);
  }

  function onResponse(gen: number, response: DeltaDiscoveryResponse): void {
    if (gen !== generation || closing) return;
    if (!connected) {
      connected = true;
      attempt = 0;
      logger.info('xDS stream connected', { address: options.address });
    }
    const slot = slots.get(response.typeUrl);
    if (slot === undefined) {
      logger.warn('response for a type not subscribed; NACKed', { typeUrl: response.typeUrl });
      return send(gen, nackAll(response.typeUrl, response.nonce, `type URL ${response.typeUrl} is not subscribed`));
    }
    const now = Date.now();
    const result = slot.process(response, now);
    try {
      result.apply();
    } catch (err) {
      const message = `applying ${response.typeUrl} failed: ${errorText(err)}`;
      recordError(new DeltaAdsError('ERR_XDS_APPLY_FAILED', message));
      logger.error('onUpdate threw; response NACKed and versions kept', { typeUrl: response.typeUrl, error: errorText(err) });
      slot.state = { ...slot.state, lastNonce: response.nonce, lastNack: { nonce: response.nonce, message, at: now } };
      return send(gen, nackAll(response.typeUrl, response.nonce, message));
    }
    slot.state = result.state;
    if (result.rejections.length > 0) {
      logger.warn('resources rejected; NACK sent', { typeUrl: response.typeUrl, error: result.reply.errorDetail?.message });
    }
    send(gen, result.reply);
    settleReady();
  }

  function onStatus(gen: number, s: grpc.StatusObject): void {
    if (gen !== generation) return;
    call = undefined;
    connected = false;
    if (closing) return;
    if (s.code === grpc.status.OK) logger.info('xDS stream closed by the server; reconnecting', {});
    else {
      const err = streamStatusError(s.code, s.details);
      recordError(err);
      logger.warn('xDS stream failed; reconnecting', { code: err.code, error: err.message });
    }
    scheduleRetry();
  }

  function settleReady(): void {
    if (isReady || [...slots.values()].some((s) => s.state.responses === 0)) return;
    isReady = true;
    const waiters = readyWaiters;
    readyWaiters = [];
    for (const w of waiters) w.resolve();
  }

  function stop(): void {
    closing = true;
    if (retryTimer !== undefined) clearTimeout(retryTimer);
    retryTimer = undefined;
    nextRetryAt = undefined;
    const waiters = readyWaiters;
    readyWaiters = [];
    for (const w of waiters) w.reject(new DeltaAdsError('ERR_XDS_CLIENT_CLOSED', 'xDS client closed before it was ready'));
  }

  function slotOf(typeUrl: string): TypeSlot {
    const slot = slots.get(typeUrl);
    if (slot !== undefined) return slot;
    throw new DeltaAdsError('ERR_XDS_UNKNOWN_TYPE', `type URL ${typeUrl} is not configured on this client`);
  }

  settleReady();
  connect();

  return {
    ready(): Promise<void> {
      if (isReady) return Promise.resolve();
      if (closing) return Promise.reject(new DeltaAdsError('ERR_XDS_CLIENT_CLOSED', 'xDS client is closed'));
      return new Promise((resolve, reject) => readyWaiters.push({ resolve, reject }));
    },
    status: () => ({
      connected,
      closed: closing,
      connects,
      lastError,
      nextRetryAt,
      types: [...slots.values()].map(({ state: t }) => ({
        typeUrl: t.typeUrl,
        wildcard: t.wildcard,
        subscribedNames: [...t.names],
        resources: t.known.size,
        responses: t.responses,
        lastNonce: t.lastNonce,
        lastAckedNonce: t.lastAckedNonce,
        lastNack: t.lastNack,
        systemVersionInfo: t.systemVersionInfo,
      })),
    }),
    subscribe(typeUrl, names): void {
      const slot = slotOf(typeUrl);
      const next = subscribeNames(slot.state, names);
      slot.state = next.state;
      if (next.request !== undefined) send(generation, next.request);
    },
    unsubscribe(typeUrl, names): void {
      const slot = slotOf(typeUrl);
      const next = unsubscribeNames(slot.state, names);
      slot.state = next.state;
      if (next.request !== undefined) send(generation, next.request);
      if (next.forgotten.length > 0) slot.forget(next.forgotten);
    },
    close(deadlineMs = DEFAULT_CLIENT_CLOSE_DEADLINE_MS): Promise<void> {
      if (closed !== undefined) return closed;
      stop();
      const c = call;
      if (c === undefined) {
        closeChannel();
        closed = Promise.resolve();
        return closed;
      }
      const finished = new Promise<void>((resolve) => c.once('status', () => resolve()));
      c.end();
      closed = settleWithin(Promise.race([finished, forced.fired]), deadlineMs).then((inTime) => {
        if (!inTime) c.cancel();
        call = undefined;
        closeChannel();
      });
      return closed;
    },
    destroy(): void {
      if (!closing) stop();
      call?.cancel();
      call = undefined;
      closeChannel();
      forced.fire();
      closed ??= Promise.resolve();
    },
  };
}
