// The outbound HBONE client (reference §2.3/§2.7): a pool of HTTP/2 connections keyed by {source identity, expected
// destination identities, next-hop ip:port, source IP}, at most 100 streams per connection (a new connection beyond),
// idle connections released after a timeout, one CONNECT stream per tunnel.

import { constants, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import { formatSpiffeId, type Identity } from '@weft/identity';
import { formatAuthority, parseAuthority } from './authority';
import type { WorkloadCredential } from './credential-cache';
import { dialHbone, type SocketFactory } from './hbone-dial';
import { HboneError, NOOP_HBONE_LOGGER, errorText, type HboneLogger } from './hbone-error';
import { HBONE_CLIENT_MAX_STREAMS, startKeepalive, type KeepaliveOptions } from './http2-settings';
import { HEADER_BAGGAGE, HEADER_FORWARDED, HEADER_TRACEPARENT, newTraceparent, type TunnelHeaders } from './tunnel-headers';

/** `POOL_UNUSED_RELEASE_TIMEOUT`: an unused connection is closed after this long. */
export const DEFAULT_POOL_IDLE_TIMEOUT_MS = 5 * 60_000;
/** How long close() lets open tunnels finish before destroying their connections. */
export const DEFAULT_POOL_CLOSE_DEADLINE_MS = 5_000;
const NGHTTP2_CANCEL = 8;

export interface HbonePoolOptions {
  /** Where source certificates come from (a CredentialCache fits). */
  readonly credentials: { get(identity: Identity): WorkloadCredential | undefined };
  readonly socketFactory?: SocketFactory;
  readonly connectTimeoutMs?: number;
  readonly idleTimeoutMs?: number;
  /** Streams per connection before another is opened; never more than 100 nor the server's limit. */
  readonly maxStreamsPerConnection?: number;
  readonly keepalive?: KeepaliveOptions | false;
  readonly clock?: () => Date;
  readonly logger?: HboneLogger;
}

export interface HboneConnectRequest {
  /** The CONNECT `:authority`: `podIP:targetPort`, or the service VIP and port for a waypoint (§2.3). */
  readonly destination: string;
  /** The next hop: the destination pod (or waypoint) IP and 15008. */
  readonly hboneAddress: { readonly host: string; readonly port: number };
  readonly sourceIdentity: Identity;
  /** The source workload's IP: part of the pool key and bound as the socket's local address. */
  readonly sourceAddress?: string;
  /** The server must present one of these as a URI SAN (§2.1 `upstream_sans`). */
  readonly expectedIdentities: readonly Identity[];
  /** `traceparent` defaults to a fresh random one. */
  readonly headers?: TunnelHeaders;
  readonly signal?: AbortSignal;
}

/** An open tunnel: after the 200, `stream` carries the tunnelled bytes (see pipeTunnel). */
export interface OutboundTunnel {
  readonly stream: ClientHttp2Stream;
  readonly peerIdentity: Identity;
  /** The 200 response's headers (response `baggage` describes the destination workload). */
  readonly responseHeaders: IncomingHttpHeaders;
  readonly connectionId: string;
}

export interface PoolConnectionInfo {
  readonly id: string;
  readonly key: string;
  readonly state: ConnectionState;
  readonly streams: number;
  readonly maxStreams: number;
  readonly credentialGeneration: number;
}

export interface HbonePool {
  /** Open a tunnel; rejects with an HboneError (`ERR_HBONE_HTTP_STATUS` with `status` for a non-200). */
  connect(request: HboneConnectRequest): Promise<OutboundTunnel>;
  connections(): PoolConnectionInfo[];
  /** Refuse new tunnels, let open ones finish until the deadline, then destroy every connection. Idempotent. */
  close(deadlineMs?: number): Promise<void>;
  destroy(): void;
}

type ConnectionState = 'connecting' | 'ready' | 'draining' | 'closed';

interface PoolConnection {
  readonly id: string;
  readonly key: string;
  readonly credential: WorkloadCredential;
  readonly ready: Promise<{ session: ClientHttp2Session; peerIdentity: Identity }>;
  readonly dial: AbortController;
  state: ConnectionState;
  session: ClientHttp2Session | undefined;
  streams: number;
  maxStreams: number;
  idleTimer: NodeJS.Timeout | undefined;
}

/** The pool key of §2.7 (`WorkloadKey`); the expected identities compare in order, as ztunnel's Vec does. */
export function poolKey(request: HboneConnectRequest): string {
  return JSON.stringify([
    formatSpiffeId(request.sourceIdentity),
    request.expectedIdentities.map(formatSpiffeId),
    formatAuthority(request.hboneAddress),
    request.sourceAddress ?? '',
  ]);
}

export function createHbonePool(options: HbonePoolOptions): HbonePool {
  const logger = options.logger ?? NOOP_HBONE_LOGGER;
  const clock = options.clock ?? (() => new Date());
  const idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_POOL_IDLE_TIMEOUT_MS;
  const streamLimit = Math.min(HBONE_CLIENT_MAX_STREAMS, options.maxStreamsPerConnection ?? HBONE_CLIENT_MAX_STREAMS);
  const pools = new Map<string, PoolConnection[]>();
  let sequence = 0;
  let closing = false;
  let closed: Promise<void> | undefined;

  function checkRequest(request: HboneConnectRequest): HboneError | undefined {
    if (parseAuthority(request.destination) === undefined) {
      return new HboneError('ERR_HBONE_INVALID_ARGUMENT', `destination "${request.destination}" is not ip:port or host:port`);
    }
    if (request.expectedIdentities.length === 0) {
      return new HboneError('ERR_HBONE_INVALID_ARGUMENT', 'expectedIdentities is empty: no server could be accepted');
    }
    return undefined;
  }

  /** Reserve a stream slot synchronously, so concurrent misses share one new connection (ztunnel's per-key lock). */
  function reserve(key: string, credential: WorkloadCredential, request: HboneConnectRequest): PoolConnection {
    const list = pools.get(key) ?? [];
    pools.set(key, list);
    let connection = list.find(
      (c) => (c.state === 'connecting' || c.state === 'ready') && c.credential === credential && c.streams < c.maxStreams,
    );
    connection ??= openConnection(key, credential, request, list);
    connection.streams++;
    if (connection.idleTimer !== undefined) clearTimeout(connection.idleTimer);
    connection.idleTimer = undefined;
    return connection;
  }

  function openConnection(
    key: string,
    credential: WorkloadCredential,
    request: HboneConnectRequest,
    list: PoolConnection[],
  ): PoolConnection {
    const dial = new AbortController();
    const id = `p${++sequence}`;
    const ready = dialHbone({
      host: request.hboneAddress.host,
      port: request.hboneAddress.port,
      ...(request.sourceAddress === undefined ? {} : { localAddress: request.sourceAddress }),
      credential,
      expectedIdentities: request.expectedIdentities,
      ...(options.socketFactory === undefined ? {} : { socketFactory: options.socketFactory }),
      ...(options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: options.connectTimeoutMs }),
      now: clock,
      signal: dial.signal,
    });
    const connection: PoolConnection = {
      id,
      key,
      credential,
      ready,
      dial,
      state: 'connecting',
      session: undefined,
      streams: 0,
      maxStreams: streamLimit,
      idleTimer: undefined,
    };
    list.push(connection);
    ready.then(
      ({ session }) => adopt(connection, session),
      (err: unknown) => {
        logger.debug('HBONE dial failed', { connection: id, error: errorText(err) });
        remove(connection);
      },
    );
    return connection;
  }

  function adopt(connection: PoolConnection, session: ClientHttp2Session): void {
    connection.session = session;
    if (connection.state === 'closed' || closing) {
      connection.state = 'closed';
      session.destroy();
      return;
    }
    connection.state = 'ready';
    const advertised = session.remoteSettings.maxConcurrentStreams ?? streamLimit;
    connection.maxStreams = Math.max(1, Math.min(streamLimit, advertised));
    session.on('remoteSettings', (settings) => {
      connection.maxStreams = Math.max(1, Math.min(streamLimit, settings.maxConcurrentStreams ?? streamLimit));
    });
    // After GOAWAY the connection serves its open streams only (ztunnel skips connections failing poll_ready).
    session.once('goaway', () => {
      if (connection.state === 'ready') connection.state = 'draining';
    });
    session.once('close', () => remove(connection));
    session.on('error', (err: unknown) => logger.debug('HBONE connection error', { connection: connection.id, error: errorText(err) }));
    if (options.keepalive !== false) {
      startKeepalive(session, options.keepalive ?? {}, (error) => {
        logger.warn('HBONE connection dead', { connection: connection.id, error: error.message });
        session.destroy(error);
      });
    }
    if (connection.streams === 0) becameIdle(connection);
  }

  function remove(connection: PoolConnection): void {
    connection.state = 'closed';
    if (connection.idleTimer !== undefined) clearTimeout(connection.idleTimer);
    connection.idleTimer = undefined;
    const list = pools.get(connection.key);
    if (list === undefined) return;
    const at = list.indexOf(connection);
    if (at >= 0) list.splice(at, 1);
    if (list.length === 0) pools.delete(connection.key);
  }

  function release(connection: PoolConnection): void {
    connection.streams--;
    if (connection.streams === 0) becameIdle(connection);
  }

  function becameIdle(connection: PoolConnection): void {
    const session = connection.session;
    if (session === undefined || connection.state === 'connecting' || connection.state === 'closed') return;
    // A connection made with a rotated-out certificate, or after GOAWAY, is not reused: close it now.
    const stale = options.credentials.get(connection.credential.identity) !== connection.credential;
    if (connection.state === 'draining' || stale) return retire(connection, session);
    connection.idleTimer = setTimeout(() => retire(connection, session), idleTimeoutMs);
    connection.idleTimer.unref();
  }

  function retire(connection: PoolConnection, session: ClientHttp2Session): void {
    logger.debug('HBONE connection released', { connection: connection.id });
    remove(connection);
    if (!session.closed) session.close();
  }

  async function connect(request: HboneConnectRequest): Promise<OutboundTunnel> {
    if (closing) throw new HboneError('ERR_HBONE_CLOSED', 'HBONE pool is closed');
    const invalid = checkRequest(request);
    if (invalid !== undefined) throw invalid;
    request.signal?.throwIfAborted();
    const credential = options.credentials.get(request.sourceIdentity);
    if (credential === undefined) {
      throw new HboneError('ERR_HBONE_NO_CERTIFICATE', `no certificate for ${formatSpiffeId(request.sourceIdentity)}`, {
        hint: 'the source workload certificate has not been issued yet',
      });
    }
    const connection = reserve(poolKey(request), credential, request);
    let dialed: { session: ClientHttp2Session; peerIdentity: Identity };
    try {
      dialed = await withAbort(connection.ready, request.signal);
      if (dialed.session.destroyed || dialed.session.closed) {
        throw new HboneError('ERR_HBONE_CONNECTION_CLOSED', 'the HBONE connection closed before the request');
      }
    } catch (err) {
      release(connection);
      throw err;
    }
    return openTunnel(connection, dialed.session, dialed.peerIdentity, request);
  }

  function openTunnel(
    connection: PoolConnection,
    session: ClientHttp2Session,
    peerIdentity: Identity,
    request: HboneConnectRequest,
  ): Promise<OutboundTunnel> {
    const headers = request.headers ?? {};
    let stream: ClientHttp2Stream;
    try {
      stream = session.request(
        {
          [constants.HTTP2_HEADER_METHOD]: constants.HTTP2_METHOD_CONNECT,
          [constants.HTTP2_HEADER_AUTHORITY]: request.destination,
          ...(headers.forwarded === undefined ? {} : { [HEADER_FORWARDED]: headers.forwarded }),
          ...(headers.baggage === undefined ? {} : { [HEADER_BAGGAGE]: headers.baggage }),
          [HEADER_TRACEPARENT]: headers.traceparent ?? newTraceparent(),
        },
        { endStream: false },
      );
    } catch (err) {
      release(connection);
      return Promise.reject(
        new HboneError('ERR_HBONE_CONNECTION_CLOSED', `cannot open a stream: ${errorText(err)}`, { cause: err }),
      );
    }
    stream.once('close', () => release(connection));
    stream.on('error', (err: unknown) => logger.debug('HBONE stream error', { connection: connection.id, error: errorText(err) }));
    return new Promise<OutboundTunnel>((resolve, reject) => {
      const signal = request.signal;
      const cleanup = (): void => {
        stream.off('response', onResponse);
        stream.off('close', onClose);
        signal?.removeEventListener('abort', onAbort);
      };
      const onResponse = (responseHeaders: IncomingHttpHeaders): void => {
        cleanup();
        // node:http2 delivers :status as a number, typed as a header string.
        const status = Number(responseHeaders[constants.HTTP2_HEADER_STATUS]);
        if (status === 200) {
          resolve({ stream, peerIdentity, responseHeaders, connectionId: connection.id });
          return;
        }
        // Finish the stream cleanly from our side (END_STREAM, not RST_STREAM) and drop whatever body came.
        stream.resume();
        if (!stream.destroyed && !stream.writableEnded) stream.end();
        reject(
          new HboneError('ERR_HBONE_HTTP_STATUS', `http status: ${status}`, {
            status,
            ...(status === 401 ? { hint: 'the destination denied the connection (AuthorizationPolicy)' } : {}),
          }),
        );
      };
      const onClose = (): void => {
        cleanup();
        const goaway = session.closed || session.destroyed;
        reject(
          goaway
            ? new HboneError('ERR_HBONE_CONNECTION_CLOSED', 'the HBONE connection closed before the CONNECT response')
            : new HboneError('ERR_HBONE_STREAM_RESET', `CONNECT stream reset (code ${stream.rstCode ?? '?'})`, {
                ...(stream.rstCode === undefined ? {} : { rstCode: stream.rstCode }),
              }),
        );
      };
      const onAbort = (): void => {
        cleanup();
        stream.close(NGHTTP2_CANCEL);
        reject(new HboneError('ERR_HBONE_ABORTED', 'CONNECT aborted by the caller'));
      };
      stream.once('response', onResponse);
      stream.once('close', onClose);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  function all(): PoolConnection[] {
    return [...pools.values()].flat();
  }

  function stopAll(): PoolConnection[] {
    closing = true;
    const connections = all();
    for (const c of connections) {
      if (c.idleTimer !== undefined) clearTimeout(c.idleTimer);
      c.idleTimer = undefined;
      if (c.state === 'connecting') c.dial.abort(new HboneError('ERR_HBONE_CLOSED', 'HBONE pool is closing'));
    }
    return connections;
  }

  return {
    connect,
    connections: () =>
      all().map((c) => ({
        id: c.id,
        key: c.key,
        state: c.state,
        streams: c.streams,
        maxStreams: c.maxStreams,
        credentialGeneration: c.credential.generation,
      })),
    close(deadlineMs = DEFAULT_POOL_CLOSE_DEADLINE_MS): Promise<void> {
      if (closed !== undefined) return closed;
      const connections = stopAll();
      const sessions = connections.flatMap((c) => (c.session === undefined ? [] : [c.session]));
      for (const session of sessions) if (!session.closed) session.close();
      const settled = Promise.all([
        ...connections.map((c) => c.ready.catch(() => undefined)),
        ...sessions.map((s) => (s.destroyed ? undefined : new Promise((r) => s.once('close', r)))),
      ]);
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), deadlineMs);
      });
      closed = Promise.race([settled.then(() => true), deadline])
        .finally(() => clearTimeout(timer))
        .then((inTime) => {
          if (!inTime) logger.warn('HBONE tunnels still open at the close deadline; destroying them', { deadlineMs });
          for (const c of all()) c.session?.destroy();
          for (const c of connections) c.session?.destroy();
        });
      return closed;
    },
    destroy(): void {
      const connections = stopAll();
      for (const c of connections) {
        c.session?.destroy();
        remove(c);
      }
      closed ??= Promise.resolve();
    },
  };
}

function withAbort<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new HboneError('ERR_HBONE_ABORTED', 'CONNECT aborted by the caller'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
