// One request/response exchange with an endpoint over HBONE, in the codec the port calls for: HTTP/1.1 through a
// keep-alive tunnel pool per endpoint (http1/client-pool.ts), or HTTP/2 on one multiplexed session per endpoint whose
// connection is an HBONE tunnel. Either way the caller gets the status and headers when they arrive, the body as a
// stream, and the trailers (gRPC's `grpc-status`) once the body has ended.

import * as http2 from 'node:http2';
import type { Duplex } from 'node:stream';

import type { Endpoint } from '../upstream';
import { copyingDuplex } from './copying-duplex';
import { Http1Pools, UpstreamConnectError, UPSTREAM_CONNECT_TIMEOUT_MS, UPSTREAM_IDLE_TIMEOUT_MS } from './http1/client-pool';
import type { HttpCodec } from './protocol';
import type { HeaderMap, UpstreamRequest, UpstreamResponse } from './upstream-message';

export type { HeaderMap, UpstreamRequest, UpstreamResponse };

/** An established HTTP/2 stream was refused by the endpoint before it processed it (REFUSED_STREAM). */
export class UpstreamRefusedStreamError extends Error {
  readonly code = 'ERR_UPSTREAM_REFUSED_STREAM';
}

type Dial = (endpoint: Endpoint, signal: AbortSignal) => Promise<Duplex>;

const keyOf = (endpoint: Endpoint): string => `${endpoint.uid}|${endpoint.ip}|${endpoint.port}`;

function withoutPseudo(headers: http2.IncomingHttpHeaders): HeaderMap {
  const out: HeaderMap = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !name.startsWith(':')) out[name.toLowerCase()] = value;
  return out;
}

/** HTTP/2 sessions per endpoint, each over one HBONE tunnel; a closed or failed session is replaced on next use. */
class Http2Sessions {
  private readonly sessions = new Map<string, Promise<http2.ClientHttp2Session>>();

  constructor(private readonly dial: Dial) {}

  session(endpoint: Endpoint): Promise<http2.ClientHttp2Session> {
    const key = keyOf(endpoint);
    const held = this.sessions.get(key);
    if (held !== undefined) return held;
    const opening = this.open(endpoint);
    this.sessions.set(key, opening);
    opening.then(
      (session) => {
        const forget = (): void => {
          if (this.sessions.get(key) === opening) this.sessions.delete(key);
        };
        session.once('close', forget);
        session.once('goaway', forget);
        session.once('error', forget);
      },
      () => {
        if (this.sessions.get(key) === opening) this.sessions.delete(key);
      },
    );
    return opening;
  }

  private async open(endpoint: Endpoint): Promise<http2.ClientHttp2Session> {
    let tunnel: Duplex;
    try {
      tunnel = await this.dial(endpoint, AbortSignal.timeout(UPSTREAM_CONNECT_TIMEOUT_MS));
    } catch (cause) {
      throw new UpstreamConnectError(cause instanceof Error ? cause.message : String(cause));
    }
    const session = http2.connect(`http://${endpoint.ip}:${endpoint.port}`, { createConnection: () => copyingDuplex(tunnel) });
    // Errors reach the streams that were open; the session itself is dropped by the 'error' listener in session().
    session.on('error', () => undefined);
    // An idle session is closed (GOAWAY) like an idle HTTP/1.1 tunnel.
    session.setTimeout(UPSTREAM_IDLE_TIMEOUT_MS, () => session.close());
    // Idle sessions do not keep the process alive.
    session.unref();
    return session;
  }

  /** Closes the sessions whose key `keep` refuses; streams in flight on them finish first. */
  retain(keep: (key: string) => boolean): void {
    for (const [key, opening] of this.sessions) {
      if (keep(key)) continue;
      this.sessions.delete(key);
      opening.then((session) => session.close(), () => undefined);
    }
  }

  close(): void {
    for (const opening of this.sessions.values()) opening.then((session) => session.destroy(), () => undefined);
    this.sessions.clear();
  }
}

function exchangeHttp2(session: http2.ClientHttp2Session, request: UpstreamRequest, signal: AbortSignal | undefined): Promise<UpstreamResponse> {
  return new Promise((resolve, reject) => {
    const headers: http2.OutgoingHttpHeaders = { ...request.headers, ':method': request.method, ':path': request.path, ':authority': request.authority, ':scheme': 'http' };
    delete headers['transfer-encoding'];
    let stream: http2.ClientHttp2Stream;
    try {
      stream = session.request(headers, { endStream: request.body === undefined || (Buffer.isBuffer(request.body) && request.body.length === 0) });
    } catch (cause) {
      reject(cause instanceof Error ? cause : new Error(String(cause)));
      return;
    }
    let trailers: HeaderMap = {};
    if (request.onContinue !== undefined) stream.once('continue', request.onContinue);
    stream.on('trailers', (received: http2.IncomingHttpHeaders) => {
      trailers = withoutPseudo(received);
    });
    // The signal covers the wait for the response headers, as with HTTP/1.1.
    const onAbort = (): void => {
      stream.close(http2.constants.NGHTTP2_CANCEL);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const onError = (cause: Error): void => {
      signal?.removeEventListener('abort', onAbort);
      if (request.body !== undefined && !Buffer.isBuffer(request.body)) request.body.unpipe(stream);
      reject(stream.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM ? new UpstreamRefusedStreamError(cause.message) : cause);
    };
    stream.once('error', onError);
    stream.once('close', () => {
      if (stream.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM) onError(new Error('stream refused by the endpoint'));
      else onError(new Error(`stream closed before a response (code ${stream.rstCode ?? 0})`));
    });
    stream.once('response', (received, flags: number) => {
      signal?.removeEventListener('abort', onAbort);
      stream.off('error', onError);
      stream.removeAllListeners('close');
      // Later errors end the body stream, which the caller watches.
      stream.on('error', () => undefined);
      const status = Number(received[':status'] ?? 502);
      resolve({ status, headers: withoutPseudo(received), body: stream, headersOnly: (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0, trailers: () => trailers });
    });
    if (Buffer.isBuffer(request.body)) {
      if (request.body.length > 0) stream.end(request.body);
    } else if (request.body !== undefined) request.body.pipe(stream);
  });
}

/** The upstream side of the proxy: exchanges with endpoints in either codec; `close` drops every tunnel. */
export class UpstreamClients {
  private readonly http1 = new Http1Pools();
  private readonly http2: Http2Sessions;
  /** Every endpoint a tunnel or session was made for, by key. */
  private readonly endpoints = new Map<string, Endpoint>();

  constructor(private readonly dial: Dial) {
    this.http2 = new Http2Sessions(dial);
  }

  /** `signal` (the route and per-try timeouts) covers the wait for the response headers; absent, nothing times out. */
  async exchange(endpoint: Endpoint, codec: HttpCodec, request: UpstreamRequest, signal: AbortSignal | undefined): Promise<UpstreamResponse> {
    const key = keyOf(endpoint);
    if (!this.endpoints.has(key)) this.endpoints.set(key, endpoint);
    if (codec === 'http1') {
      return this.http1.pool(key, (dialSignal) => this.dial(endpoint, dialSignal)).exchange(request, signal);
    }
    const session = await this.http2.session(endpoint);
    signal?.throwIfAborted();
    return exchangeHttp2(session, request, signal);
  }

  /** Drops the tunnels and sessions of endpoints `isCurrent` no longer accepts (gone from the mesh). */
  retain(isCurrent: (endpoint: Endpoint) => boolean): void {
    for (const [key, endpoint] of this.endpoints) if (!isCurrent(endpoint)) this.endpoints.delete(key);
    const keep = (key: string): boolean => this.endpoints.has(key);
    this.http1.retain(keep);
    this.http2.retain(keep);
  }

  close(): void {
    this.http1.close();
    this.http2.close();
    this.endpoints.clear();
  }
}
