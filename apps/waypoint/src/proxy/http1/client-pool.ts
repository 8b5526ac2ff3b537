// Upstream HTTP/1.1 keep-alive over HBONE: a pool per endpoint of tunnels (an HBONE CONNECT each, opened on demand,
// kept open while idle and reused, last-in first-out) carrying one request at a time. A request's head leaves in one
// write with its body when the body is whole; the response's head resolves the exchange and its body streams from
// the tunnel. A tunnel goes back to the pool when both messages are complete and neither side asked to close.
// Dial failures are marked, so the caller can tell a connect failure (retriable as `connect-failure`) from a reset of
// an established tunnel.

import type { Duplex, Readable } from 'node:stream';

import { BodyReader } from './body-reader';
import { BodyStream } from './body-stream';
import type { HeaderMap, UpstreamRequest, UpstreamResponse } from '../upstream-message';
import { chunkHeader, LAST_CHUNK, messageBytes, parseResponseHead, serializeRequestHead } from './message-head';

/** How long an idle upstream tunnel is kept for reuse. */
export const UPSTREAM_IDLE_TIMEOUT_MS = 60_000;
/** How long opening a tunnel may take (Istio's default connect timeout is 10 s). */
export const UPSTREAM_CONNECT_TIMEOUT_MS = 10_000;
/** Idle tunnels kept per endpoint; more are closed when they become idle. */
export const MAX_IDLE_TUNNELS = 32;

/** A failure to open the tunnel: nothing was sent to the endpoint. */
export class UpstreamConnectError extends Error {
  readonly code = 'ERR_UPSTREAM_CONNECT';
}

type Dial = (signal: AbortSignal) => Promise<Duplex>;

const ignore = (): void => undefined;

const EMPTY = Buffer.alloc(0);
const NO_TRAILERS: HeaderMap = Object.freeze({}) as HeaderMap;

/** One request/response in progress on a tunnel. */
interface Exchange {
  readonly method: string;
  readonly upgrade: boolean;
  readonly resolve: (response: UpstreamResponse) => void;
  readonly reject: (error: Error) => void;
  readonly detach: () => void;
  readonly onContinue: (() => void) | undefined;
  /** Set once the response head arrived. */
  headReceived: boolean;
  /** The streamed response body (none when the body came whole with the head). */
  body: BodyStream | undefined;
  reader: BodyReader | undefined;
  trailers: HeaderMap;
  requestDone: boolean;
  responseDone: boolean;
  keepAlive: boolean;
}

/** A tunnel and the exchange it carries. */
class Tunnel {
  private pending: Buffer | undefined;
  private current: Exchange | undefined;
  private readonly idleTimer: NodeJS.Timeout;
  gone = false;

  constructor(
    private readonly stream: Duplex,
    private readonly onIdle: (tunnel: Tunnel) => void,
    private readonly onGone: (tunnel: Tunnel) => void,
  ) {
    this.idleTimer = setTimeout(() => {
      if (this.current === undefined) this.destroy();
    }, UPSTREAM_IDLE_TIMEOUT_MS);
    this.idleTimer.unref();
    stream.on('data', this.onData);
    stream.on('end', this.onEnd);
    stream.on('error', ignore);
    stream.once('close', this.onClose);
  }

  private readonly onData = (chunk: Buffer): void => this.receive(chunk);

  /**
   * Whether a request can be sent on it now: free, and neither closed nor ending (an endpoint that closed an idle
   * tunnel may not have been heard of yet, its 'close' still to come).
   */
  get usable(): boolean {
    return this.current === undefined && !this.gone && !this.stream.destroyed && !this.stream.readableEnded && !this.stream.writableEnded;
  }

  destroy(): void {
    this.stream.destroy();
  }

  exchange(request: UpstreamRequest, signal: AbortSignal | undefined): Promise<UpstreamResponse> {
    return new Promise((resolve, reject) => {
      const headers: HeaderMap = { host: request.authority, ...request.headers };
      const body = request.body;
      const chunked = body !== undefined && !Buffer.isBuffer(body) && headers['content-length'] === undefined;
      if (Buffer.isBuffer(body) && headers['content-length'] === undefined) headers['content-length'] = String(body.length);
      if (chunked) headers['transfer-encoding'] = 'chunked';
      if (request.upgrade !== undefined) {
        headers['connection'] = 'upgrade';
        headers['upgrade'] = request.upgrade;
      }
      let head: string;
      try {
        head = serializeRequestHead(request.method, request.path, headers);
      } catch (cause) {
        // A header a header operation made unsendable: nothing was written, the tunnel stays free.
        this.onIdle(this);
        reject(cause instanceof Error ? cause : new Error(String(cause)));
        return;
      }
      const onAbort = (): void => {
        this.fail(new Error('aborted'));
        this.stream.destroy();
      };
      const exchange: Exchange = {
        method: request.method,
        upgrade: request.upgrade !== undefined,
        resolve,
        reject,
        detach: () => signal?.removeEventListener('abort', onAbort),
        onContinue: request.onContinue,
        headReceived: false,
        body: undefined,
        reader: undefined,
        trailers: {},
        requestDone: body === undefined || Buffer.isBuffer(body),
        responseDone: false,
        keepAlive: true,
      };
      this.current = exchange;
      signal?.addEventListener('abort', onAbort, { once: true });
      if (body === undefined || Buffer.isBuffer(body)) {
        this.stream.write(messageBytes(body === undefined ? [head] : [head, body]));
        return;
      }
      this.stream.write(messageBytes([head]));
      this.sendBody(exchange, body, chunked);
    });
  }

  /** Streams a request body with back-pressure, chunked when its length is not known. */
  private sendBody(exchange: Exchange, body: Readable, chunked: boolean): void {
    const onData = (chunk: Buffer): void => {
      if (this.current !== exchange || this.stream.destroyed || chunk.length === 0) return;
      const framed = chunked ? messageBytes([chunkHeader(chunk.length), chunk, '\r\n']) : chunk;
      if (!this.stream.write(framed)) {
        body.pause();
        this.stream.once('drain', () => body.resume());
      }
    };
    const stop = (): void => {
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
    };
    const onEnd = (): void => {
      stop();
      if (this.current !== exchange) return;
      if (chunked) this.stream.write(messageBytes([LAST_CHUNK]));
      exchange.requestDone = true;
      this.settle(exchange);
    };
    const onError = (): void => {
      stop();
      this.stream.destroy();
    };
    body.on('data', onData);
    body.once('end', onEnd);
    body.once('error', onError);
  }

  private receive(chunk: Buffer): void {
    const exchange = this.current;
    if (exchange === undefined) {
      // Nothing was asked: an idle tunnel that speaks is broken.
      this.stream.destroy();
      return;
    }
    this.pending = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    for (;;) {
      const pending: Buffer | undefined = this.pending;
      if (pending === undefined || this.current !== exchange) return;
      if (exchange.reader === undefined) {
        const parsed = parseResponseHead(pending, exchange.method);
        if (parsed.kind === 'incomplete') return;
        if (parsed.kind === 'invalid') {
          this.fail(new UpstreamProtocolError(`invalid response from the endpoint: ${parsed.reason}`));
          this.stream.destroy();
          return;
        }
        this.pending = parsed.length < pending.length ? pending.subarray(parsed.length) : undefined;
        const head = parsed.head;
        if (head.status === 101 && exchange.upgrade) {
          this.switchProtocols(exchange, head.headers);
          return;
        }
        if (head.status >= 100 && head.status < 200) {
          if (head.status === 101) {
            this.fail(new Error('the endpoint switched protocols'));
            this.stream.destroy();
            return;
          }
          // An interim response (100 Continue, 103 Early Hints): the final one follows.
          if (head.status === 100) exchange.onContinue?.();
          continue;
        }
        exchange.detach();
        exchange.headReceived = true;
        exchange.keepAlive = head.keepAlive;
        const rest = this.pending;
        const framing = head.body;
        if (framing.kind === 'none' || (framing.kind === 'length' && rest !== undefined && rest.length >= framing.length)) {
          // The whole body is here (a small answer, the common case): handed over as it is, without a stream.
          const length = framing.kind === 'length' ? framing.length : 0;
          const whole = rest === undefined || length === 0 ? EMPTY : rest.subarray(0, length);
          this.pending = rest !== undefined && rest.length > length ? rest.subarray(length) : undefined;
          exchange.resolve({ status: head.status, headers: head.headers, body: whole, headersOnly: false, trailers: () => NO_TRAILERS });
          this.complete(exchange);
          return;
        }
        exchange.reader = new BodyReader(framing);
        const body = new BodyStream(() => {
          if (this.current === exchange) this.stream.resume();
        });
        // The reader went away before the end: the tunnel cannot carry another request.
        body.once('close', () => {
          if (this.current === exchange && !exchange.responseDone) this.stream.destroy();
        });
        exchange.body = body;
        exchange.resolve({ status: head.status, headers: head.headers, body, headersOnly: false, trailers: () => exchange.trailers });
        continue;
      }
      const read = exchange.reader.read(pending, 0);
      if (read.kind === 'invalid') {
        exchange.body?.destroy(new Error(`invalid response body from the endpoint: ${read.reason}`));
        this.stream.destroy();
        return;
      }
      this.pending = read.consumed < pending.length ? pending.subarray(read.consumed) : undefined;
      let wantsMore = true;
      const body = exchange.body as BodyStream;
      for (const piece of read.chunks) wantsMore = body.push(piece) && wantsMore;
      if (read.done) {
        exchange.trailers = read.trailers;
        this.complete(exchange);
        return;
      }
      if (!wantsMore) this.stream.pause();
      return;
    }
  }

  /** The endpoint switched protocols: the tunnel leaves HTTP and the pool, with what came after the 101 head. */
  private switchProtocols(exchange: Exchange, headers: HeaderMap): void {
    exchange.detach();
    this.current = undefined;
    this.gone = true;
    clearTimeout(this.idleTimer);
    this.stream.off('data', this.onData);
    this.stream.off('end', this.onEnd);
    this.stream.off('close', this.onClose);
    this.stream.pause();
    this.onGone(this);
    const received = this.pending;
    this.pending = undefined;
    exchange.resolve({ status: 101, headers, body: EMPTY, headersOnly: false, switched: { stream: this.stream, head: received }, trailers: () => NO_TRAILERS });
  }

  /** The response has ended. */
  private complete(exchange: Exchange): void {
    exchange.responseDone = true;
    exchange.body?.push(null);
    this.settle(exchange);
  }

  /** Both messages are complete: the tunnel is free again, or closed if it cannot be reused. */
  private settle(exchange: Exchange): void {
    if (this.current !== exchange || !exchange.responseDone) return;
    if (!exchange.requestDone || !exchange.keepAlive || this.pending !== undefined) {
      // An early answer to a request still being sent, `Connection: close`, or bytes past the response.
      this.current = undefined;
      this.stream.destroy();
      return;
    }
    this.current = undefined;
    this.idleTimer.refresh();
    this.onIdle(this);
  }

  /** The exchange fails: before its response head, the caller's promise; after it, the body stream. */
  private fail(error: Error): void {
    const exchange = this.current;
    if (exchange === undefined) return;
    this.current = undefined;
    exchange.detach();
    if (!exchange.headReceived) exchange.reject(error);
    else if (!exchange.responseDone) exchange.body?.destroy(error);
  }

  private readonly onEnd = (): void => {
    const exchange = this.current;
    if (exchange?.reader?.untilClose === true) {
      // A body delimited by the connection's end is complete.
      exchange.keepAlive = false;
      this.complete(exchange);
      return;
    }
    this.fail(new Error('the endpoint closed the connection before the response was complete'));
    this.stream.destroy();
  };

  private readonly onClose = (): void => {
    this.gone = true;
    clearTimeout(this.idleTimer);
    this.fail(new Error('the connection to the endpoint was reset before the response was complete'));
    this.onGone(this);
  };
}

/** The tunnels to one endpoint. */
/** The endpoint's response could not be read as HTTP/1.1 (Envoy: reset reason "protocol error", flag UPE). */
export class UpstreamProtocolError extends Error {
  readonly code = 'ERR_UPSTREAM_PROTOCOL';
}

export class Http1Pool {
  private readonly idle: Tunnel[] = [];
  private readonly tunnels = new Set<Tunnel>();
  private closed = false;

  constructor(private readonly dial: Dial) {}

  /** `signal` (the route and per-try timeouts) covers the wait for the response head. */
  async exchange(request: UpstreamRequest, signal: AbortSignal | undefined): Promise<UpstreamResponse> {
    signal?.throwIfAborted();
    let tunnel: Tunnel | undefined;
    while ((tunnel = this.idle.pop()) !== undefined && !tunnel.usable);
    if (tunnel === undefined) {
      tunnel = await this.open(signal);
      if (signal?.aborted === true) {
        this.release(tunnel);
        throw new Error('aborted');
      }
    }
    return tunnel.exchange(request, signal);
  }

  private async open(signal: AbortSignal | undefined): Promise<Tunnel> {
    const timeout = AbortSignal.timeout(UPSTREAM_CONNECT_TIMEOUT_MS);
    let stream: Duplex;
    try {
      stream = await this.dial(signal === undefined ? timeout : AbortSignal.any([signal, timeout]));
    } catch (cause) {
      if (signal?.aborted === true) throw new Error('aborted');
      throw new UpstreamConnectError(cause instanceof Error ? cause.message : String(cause));
    }
    if (this.closed) {
      stream.destroy();
      throw new UpstreamConnectError('the upstream pool is closed');
    }
    const tunnel = new Tunnel(
      stream,
      (free) => this.release(free),
      (gone) => this.forget(gone),
    );
    this.tunnels.add(tunnel);
    return tunnel;
  }

  private release(tunnel: Tunnel): void {
    if (this.closed || this.idle.length >= MAX_IDLE_TUNNELS) {
      tunnel.destroy();
      return;
    }
    this.idle.push(tunnel);
  }

  private forget(tunnel: Tunnel): void {
    this.tunnels.delete(tunnel);
    const at = this.idle.indexOf(tunnel);
    if (at >= 0) this.idle.splice(at, 1);
  }

  /** Closes every tunnel, idle or busy. */
  close(): void {
    this.closed = true;
    for (const tunnel of this.tunnels) tunnel.destroy();
    this.tunnels.clear();
    this.idle.length = 0;
  }
}

/** Pools per endpoint key; `close` destroys every tunnel. */
export class Http1Pools {
  private readonly pools = new Map<string, Http1Pool>();

  pool(key: string, dial: Dial): Http1Pool {
    let pool = this.pools.get(key);
    if (pool === undefined) {
      pool = new Http1Pool(dial);
      this.pools.set(key, pool);
    }
    return pool;
  }

  /** Drops the pools whose key `keep` refuses (endpoints no longer known); their tunnels are closed. */
  retain(keep: (key: string) => boolean): void {
    for (const [key, pool] of this.pools) {
      if (keep(key)) continue;
      pool.close();
      this.pools.delete(key);
    }
  }

  close(): void {
    for (const pool of this.pools.values()) pool.close();
    this.pools.clear();
  }
}
