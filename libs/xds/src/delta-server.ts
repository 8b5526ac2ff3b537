// The Delta ADS server's gRPC edge: accepts DeltaAggregatedResources streams, authenticates them, feeds requests to
// the per-stream state (delta-server-state.ts) and pushes debounced changes from a resource source. It owns its
// timers and streams, not the grpc.Server: the caller registers `handlers` and shuts its server down after close().

import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import {
  AggregatedDiscoveryServiceService,
  type DeltaDiscoveryRequest,
  type DeltaDiscoveryResponse,
} from './generated/envoy/service/discovery/v3/discovery';
import { DeltaAdsLogger, NOOP_DELTA_ADS_LOGGER, childLogger, errorText } from './delta-errors';
import { createSignal, settleWithin } from './delta-lifecycle';
import {
  DeltaSnapshot,
  DeltaSubscriberState,
  computeDelta,
  createSubscriberState,
  onRequest,
  recordSent,
  toDeltaResponse,
} from './delta-server-state';
import type {
  DeltaAdsServer,
  DeltaAdsServerOptions,
  DeltaAuthResult,
  DeltaConnectionInfo,
  DeltaPeerInfo,
} from './delta-server-types';

/** Quiet time after a change before pushing, so a burst of changes becomes one push per subscriber. */
export const DEFAULT_DEBOUNCE_MS = 100;
/** A steady stream of changes still pushes at least this often. */
export const DEFAULT_DEBOUNCE_MAX_MS = 1_000;
/** How long close() waits for streams to finish before forcing them. */
export const DEFAULT_SERVER_CLOSE_DEADLINE_MS = 5_000;
/** Requests held while the authentication hook runs; a client needs one per type, so more is abuse. */
const AUTH_BACKLOG_LIMIT = 64;

type Call = grpc.ServerDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse>;

interface Stream {
  readonly id: string;
  readonly call: Call;
  readonly peer: string;
  readonly identity: string | undefined;
  readonly connectedAt: number;
  readonly logger: DeltaAdsLogger;
  state: DeltaSubscriberState;
  readonly pushes: Map<string, { count: number; lastNonce: string }>;
  ended: boolean;
  readonly done: Promise<void>;
}

function endCall(call: Call, code: grpc.status, details: string): void {
  if (call.writableEnded) return;
  if (code === grpc.status.OK) call.end();
  // grpc-js turns an emitted error into the call's status and ends it.
  else call.emit('error', { code, details, message: details, name: 'DeltaAdsError' });
}

export function createDeltaAdsServer(options: DeltaAdsServerOptions): DeltaAdsServer {
  const logger = options.logger ?? NOOP_DELTA_ADS_LOGGER;
  const debounceMs = options.debounceMs ?? DEFAULT_DEBOUNCE_MS;
  const debounceMaxMs = Math.max(debounceMs, options.debounceMaxMs ?? DEFAULT_DEBOUNCE_MAX_MS);
  const noncePrefix = randomBytes(4).toString('hex');
  const streams = new Map<string, Stream>();
  const counters = { streamsTotal: 0, pushes: 0, resourcesSent: 0, removalsSent: 0, acks: 0, nacks: 0, authFailures: 0 };
  let sequence = 0;
  let closing = false;
  let closed: Promise<void> | undefined;
  let pendingTypes = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let firstChangeAt: number | undefined;
  // destroy() cuts short a close() that is still waiting for its deadline.
  const forced = createSignal();

  const unsubscribe = options.source.subscribe((typeUrls) => {
    if (closing) return;
    for (const t of typeUrls) pendingTypes.add(t);
    const now = Date.now();
    firstChangeAt ??= now;
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(flush, Math.max(0, Math.min(debounceMs, firstChangeAt + debounceMaxMs - now)));
  });

  function flush(): void {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    firstChangeAt = undefined;
    const types = pendingTypes;
    pendingTypes = new Set();
    for (const stream of streams.values()) {
      for (const typeUrl of types) if (stream.state.types.has(typeUrl)) push(stream, typeUrl);
    }
  }

  function peerInfo(stream: Stream): DeltaPeerInfo {
    const node = stream.state.node;
    return { connectionId: stream.id, nodeId: node?.id ?? '', nodeMetadata: node?.metadata ?? {}, identity: stream.identity };
  }

  function push(stream: Stream, typeUrl: string): void {
    if (stream.ended || stream.call.destroyed) return;
    let snapshot: DeltaSnapshot;
    try {
      snapshot = options.source.snapshot(typeUrl, peerInfo(stream));
    } catch (err) {
      stream.logger.error('resource source failed; push skipped', { typeUrl, error: errorText(err) });
      return;
    }
    const update = computeDelta(stream.state, typeUrl, snapshot);
    if (!update.respond) return;
    const nonce = `${noncePrefix}-${++sequence}`;
    stream.state = recordSent(stream.state, typeUrl, update, nonce);
    const info = stream.pushes.get(typeUrl) ?? { count: 0, lastNonce: '' };
    stream.pushes.set(typeUrl, { count: info.count + 1, lastNonce: nonce });
    counters.pushes++;
    counters.resourcesSent += update.resources.length;
    counters.removalsSent += update.removedNames.length;
    stream.logger.debug('push', { typeUrl, nonce, resources: update.resources.length, removed: update.removedNames.length });
    stream.call.write(toDeltaResponse(typeUrl, update, nonce));
  }

  function handleRequest(stream: Stream, request: DeltaDiscoveryRequest): void {
    if (stream.ended) return;
    const hadNode = stream.state.node !== undefined;
    const outcome = onRequest(stream.state, request, Date.now());
    if (!outcome.ok) {
      stream.logger.warn('bad request; ending stream', { error: outcome.message });
      finish(stream, grpc.status.INVALID_ARGUMENT, outcome.message);
      return;
    }
    stream.state = outcome.state;
    if (!hadNode && outcome.state.node !== undefined) {
      stream.logger.info('proxy connected', { node: outcome.state.node.id, peer: stream.peer });
    }
    const { reply, typeUrl } = outcome;
    if (reply.kind === 'ack') counters.acks++;
    else if (reply.kind === 'nack') {
      counters.nacks++;
      const node = outcome.state.node?.id;
      stream.logger.warn('NACK', { node, typeUrl, nonce: reply.nack.nonce, error: reply.nack.message });
    } else if (reply.kind === 'stale') stream.logger.debug('stale nonce ignored', { typeUrl, nonce: reply.nonce });
    if (outcome.firstRequest && outcome.adoptedVersions > 0) {
      stream.logger.debug('resuming', { typeUrl: outcome.typeUrl, initialResourceVersions: outcome.adoptedVersions });
    }
    if (outcome.respond) push(stream, outcome.typeUrl);
  }

  function finish(stream: Stream, code: grpc.status, details: string): void {
    if (stream.ended) return;
    stream.ended = true;
    endCall(stream.call, code, details);
  }

  function startStream(
    call: Call,
    identity: string | undefined,
    backlog: readonly DeltaDiscoveryRequest[],
    done: Promise<void>,
  ): Stream {
    const id = `${noncePrefix}-c${++sequence}`;
    const stream: Stream = {
      id,
      call,
      peer: call.getPeer(),
      identity,
      connectedAt: Date.now(),
      logger: childLogger(logger, { connection: id }),
      state: createSubscriberState(),
      pushes: new Map(),
      ended: false,
      done,
    };
    streams.set(id, stream);
    counters.streamsTotal++;
    void done.then(() => {
      streams.delete(id);
      stream.logger.debug('stream closed', { node: stream.state.node?.id });
    });
    for (const request of backlog) handleRequest(stream, request);
    return stream;
  }

  function deltaAggregatedResources(call: Call): void {
    if (closing) {
      endCall(call, grpc.status.UNAVAILABLE, 'xDS server is shutting down');
      return;
    }
    const backlog: DeltaDiscoveryRequest[] = [];
    let stream: Stream | undefined;
    let gone = false;
    const done = new Promise<void>((resolve) => {
      const settle = (): void => {
        gone = true;
        if (stream !== undefined) stream.ended = true;
        resolve();
      };
      call.once('finish', settle);
      call.once('close', settle);
      call.once('cancelled', settle);
    });
    call.on('data', (request: DeltaDiscoveryRequest) => {
      if (stream !== undefined) handleRequest(stream, request);
      else if (backlog.length < AUTH_BACKLOG_LIMIT) backlog.push(request);
      else endCall(call, grpc.status.RESOURCE_EXHAUSTED, 'too many requests before authentication finished');
    });
    // The client half-closed: it will send nothing more, so finish our side too.
    call.on('end', () => (stream !== undefined ? finish(stream, grpc.status.OK, 'OK') : endCall(call, grpc.status.OK, 'OK')));
    call.on('error', (err: unknown) => logger.debug('stream error', { error: errorText(err) }));

    const authenticate = options.authenticate;
    if (authenticate === undefined) {
      stream = startStream(call, undefined, backlog, done);
      return;
    }
    const admit = (result: DeltaAuthResult): void => {
      if (gone) return;
      if (closing) return endCall(call, grpc.status.UNAVAILABLE, 'xDS server is shutting down');
      if (!result.ok) {
        counters.authFailures++;
        logger.warn('stream rejected: authentication failed', { peer: call.getPeer(), error: result.message });
        return endCall(call, grpc.status.UNAUTHENTICATED, result.message);
      }
      stream = startStream(call, result.identity, backlog, done);
    };
    const failed = (err: unknown): void => {
      logger.error('authentication hook failed', { peer: call.getPeer(), error: errorText(err) });
      if (!gone) endCall(call, grpc.status.UNAVAILABLE, 'authentication is unavailable');
    };
    let pending: Promise<DeltaAuthResult>;
    try {
      pending = authenticate(call.metadata, call.getPeer());
    } catch (err) {
      return failed(err);
    }
    pending.then(admit, failed).catch(failed);
  }

  function streamAggregatedResources(call: grpc.ServerDuplexStream<unknown, unknown>): void {
    call.on('error', () => undefined);
    call.emit('error', {
      code: grpc.status.UNIMPLEMENTED,
      details: 'only DeltaAggregatedResources is served',
      message: 'only DeltaAggregatedResources is served',
      name: 'DeltaAdsError',
    });
  }

  function stopIntake(): void {
    closing = true;
    unsubscribe();
  }

  const handlers = { deltaAggregatedResources, streamAggregatedResources };
  return {
    handlers,
    addTo: (server) => server.addService(AggregatedDiscoveryServiceService, handlers),
    connections: () => [...streams.values()].map((s) => describe(s, peerInfo(s))),
    stats: () => ({ connected: streams.size, ...counters }),
    close(deadlineMs = DEFAULT_SERVER_CLOSE_DEADLINE_MS): Promise<void> {
      if (closed !== undefined) return closed;
      if (timer !== undefined && !closing) flush();
      stopIntake();
      const all = [...streams.values()];
      for (const s of all) finish(s, grpc.status.OK, 'OK');
      const drained = Promise.race([Promise.all(all.map((s) => s.done)), forced.fired]);
      closed = settleWithin(drained, deadlineMs).then((inTime) => {
        if (inTime) return;
        logger.warn('streams did not finish before the close deadline; cancelling', { deadlineMs });
        for (const s of all) s.call.destroy();
      });
      return closed;
    },
    destroy(): void {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      pendingTypes.clear();
      if (!closing) stopIntake();
      // Streams still flushing after close() are cut; the rest end UNAVAILABLE, which clients retry.
      for (const s of streams.values()) {
        if (s.ended) s.call.destroy();
        else finish(s, grpc.status.UNAVAILABLE, 'xDS server stopped');
      }
      forced.fire();
      closed ??= Promise.resolve();
    },
  };
}

function describe(s: Stream, peer: DeltaPeerInfo): DeltaConnectionInfo {
  return {
    ...peer,
    peer: s.peer,
    connectedAt: s.connectedAt,
    types: [...s.state.types.values()].map((t) => ({
      typeUrl: t.typeUrl,
      wildcard: t.wildcard,
      subscribedNames: [...t.names],
      resources: t.sent.size,
      pushes: s.pushes.get(t.typeUrl)?.count ?? 0,
      lastNonceSent: s.pushes.get(t.typeUrl)?.lastNonce,
      pendingNonces: t.pendingNonces,
      lastAckedNonce: t.lastAckedNonce,
      lastNack: t.lastNack,
      acks: t.acks,
      nacks: t.nacks,
    })),
  };
}
