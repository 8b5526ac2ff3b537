// The server side of HTTP/1.1 on one tunnelled connection (RFC 9112): requests are parsed off the tunnel's bytes one
// at a time, each handed over with its body (whole when it arrived with its head, streamed otherwise) and a response
// writer; the next request is read once the response has been written, so pipelined requests are answered in order.
// The response's head is held back until its first body bytes (or the end of the event-loop turn), so a small answer
// leaves as one write: one DATA frame on the tunnel.
//
// Keep-alive follows the request and the response (`Connection`, HTTP/1.0); an idle connection closes after
// `idleTimeoutMs`; a malformed request gets its 4xx/5xx and the connection closes, as Node's server does.
// `Expect: 100-continue` is answered by the response's owner (`writeContinue`, when the endpoint continues, as
// Envoy relays it); a final answer before the client sent its body closes the connection after it (RFC 9110 §10.1.1).


import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';

import { BodyReader } from './body-reader';
import { BodyStream } from './body-stream';
import { chunkHeader, LAST_CHUNK, messageBytes, parseRequestHead, serializeResponseHead, type HeaderMap, type RequestHead } from './message-head';

/** Bytes of pipelined requests held while a response is pending before the tunnel is paused. */
const PIPELINE_HIGH_WATER_BYTES = 64 * 1024;

const CONTINUE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');

export interface Http1Exchange {
  readonly head: RequestHead;
  /** The request body: whole when it came with the head, a stream otherwise; absent when there is none. */
  readonly body: Buffer | BodyStream | undefined;
  readonly response: Http1Response;
}

export interface Http1ServerOptions {
  /** How long a connection may wait for its next request. */
  readonly idleTimeoutMs: number;
  readonly onRequest: (exchange: Http1Exchange) => void;
}

/** The `Date` header value, formatted at most once a second. */
let dateCache: { second: number; value: string } = { second: -1, value: '' };
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateCache.second) dateCache = { second, value: new Date(now).toUTCString() };
  return dateCache.value;
}

/**
 * One response on a connection, with the calls the proxy makes on Node's ServerResponse. 'close' is emitted once: when
 * the response has been written (`writableFinished`) or when the connection went away before that.
 */
export class Http1Response extends EventEmitter {
  writableFinished = false;
  private framing: 'none' | 'length' | 'chunked' | 'close' = 'length';
  /** The head, until it is written with the first body bytes. */
  private head: string | undefined;
  private headFlush: NodeJS.Immediate | undefined;
  private started = false;
  private ended = false;
  private closed = false;
  /** Whether the connection stays open after this response. */
  keepAlive: boolean;
  /** The client waits for `100 Continue` before it sends the body it announced, which has not all arrived. */
  continueWanted = false;
  private continueSent = false;

  constructor(
    private readonly stream: Duplex,
    private readonly request: RequestHead,
    private readonly onWritten: (response: Http1Response) => void,
    /** Detaches the connection from HTTP: the bytes received after the request head. */
    private readonly onSwitch: () => Buffer | undefined,
  ) {
    super();
    this.keepAlive = request.keepAlive;
  }

  /**
   * Answers `101 Switching Protocols` (a WebSocket upgrade) and hands the connection over: the caller gets the raw
   * stream and the bytes the client sent after its request head. The response counts as written; its 'close' comes
   * when the stream closes.
   */
  switchProtocols(headers: HeaderMap): { readonly stream: Duplex; readonly head: Buffer | undefined } {
    if (this.started) throw new Error('response head already written');
    const head = Buffer.from(serializeResponseHead(101, headers['date'] === undefined ? { ...headers, date: httpDate() } : headers), 'latin1');
    this.started = true;
    this.ended = true;
    this.writableFinished = true;
    const received = this.onSwitch();
    this.stream.write(head);
    this.stream.once('close', () => this.gone());
    return { stream: this.stream, head: received };
  }

  /** Tells a client that waits (`Expect: 100-continue`) to send its body: once, and only before the final head. */
  writeContinue(): void {
    if (!this.continueWanted || this.continueSent || this.started || this.closed) return;
    this.continueSent = true;
    this.stream.write(CONTINUE);
  }

  writeHead(status: number, headers: HeaderMap): this {
    if (this.started) throw new Error('response head already written');
    // The client may never send a body it was not asked for: the connection cannot carry another request.
    if (this.continueWanted && !this.continueSent) this.keepAlive = false;
    const noBody = this.request.method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200);
    const extra: HeaderMap = {};
    if (noBody) this.framing = 'none';
    else if (headers['content-length'] !== undefined) this.framing = 'length';
    else if (this.request.httpVersion === '1.1') {
      this.framing = 'chunked';
      extra['transfer-encoding'] = 'chunked';
    } else this.framing = 'close';
    const connection = headers['connection'];
    if (this.framing === 'close' || (typeof connection === 'string' && connection.toLowerCase() === 'close')) this.keepAlive = false;
    if (!this.keepAlive) extra['connection'] = 'close';
    else if (this.request.httpVersion === '1.0') extra['connection'] = 'keep-alive';
    if (headers['date'] === undefined) extra['date'] = httpDate();
    const { connection: _given, ...rest } = headers;
    // Throws on a header that cannot be written; the response is then still unstarted.
    this.head = serializeResponseHead(status, { ...rest, ...extra });
    this.started = true;
    // Headers without body bytes in this turn (a streamed answer) go out on their own.
    this.headFlush = setImmediate(() => {
      this.headFlush = undefined;
      if (this.head !== undefined && !this.closed) this.send([], undefined);
    });
    return this;
  }

  /** A response that is its head (HTTP/1.1 has no trailers-only form: the head and an empty body). */
  headersOnly(status: number, headers: HeaderMap): void {
    this.writeHead(status, headers).end();
  }

  write(chunk: Buffer): boolean {
    if (this.ended || this.closed) return false;
    if (chunk.length === 0) return true;
    return this.send(this.framed(chunk), undefined);
  }

  end(chunk?: Buffer): this {
    if (this.ended || this.closed) return this;
    if (!this.started) this.writeHead(200, {});
    this.ended = true;
    const parts = chunk === undefined || chunk.length === 0 ? [] : this.framed(chunk);
    if (this.framing === 'chunked') parts.push(LAST_CHUNK);
    this.send(parts, (error) => {
      if (error !== undefined && error !== null) {
        this.gone();
        return;
      }
      this.writableFinished = true;
      this.closed = true;
      this.emit('close');
      this.onWritten(this);
    });
    return this;
  }

  /** HTTP/1.1 responses here carry no trailers (gRPC needs HTTP/2). */
  addTrailers(_headers: HeaderMap): void {}

  destroy(): this {
    this.stream.destroy();
    this.gone();
    return this;
  }

  /** The connection went away: the response ends unfinished. */
  gone(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.headFlush !== undefined) clearImmediate(this.headFlush);
    this.emit('close');
  }

  private framed(chunk: Buffer): (string | Buffer)[] {
    if (this.framing === 'none') return [];
    if (this.framing === 'chunked') return [chunkHeader(chunk.length), chunk, '\r\n'];
    return [chunk];
  }

  private send(parts: (string | Buffer)[], callback: ((error?: Error | null) => void) | undefined): boolean {
    if (this.head !== undefined) {
      parts.unshift(this.head);
      this.head = undefined;
      if (this.headFlush !== undefined) clearImmediate(this.headFlush);
      this.headFlush = undefined;
    }
    if (parts.length === 0) {
      if (callback !== undefined) process.nextTick(callback);
      return true;
    }
    const ok = this.stream.write(parts.length === 1 && Buffer.isBuffer(parts[0]) ? parts[0] : messageBytes(parts), callback);
    if (!ok) this.stream.once('drain', () => this.emit('drain'));
    return ok;
  }
}

type State = 'head' | 'body' | 'waiting' | 'closed';

class ServerConnection {
  private state: State = 'head';
  /** Bytes received and not yet parsed. */
  private pending: Buffer | undefined;
  private reader: BodyReader | undefined;
  private body: BodyStream | undefined;
  /** Body bytes still to arrive are dropped (the response was written before the request body was read). */
  private discardBody = false;
  private response: Http1Response | undefined;
  private readonly idle: NodeJS.Timeout;
  /** The connection switched protocols: it is no longer HTTP's. */
  private detached = false;
  private readonly onData = (chunk: Buffer): void => this.receive(chunk);

  constructor(
    private readonly stream: Duplex,
    private readonly options: Http1ServerOptions,
  ) {
    this.idle = setTimeout(() => this.onIdle(), options.idleTimeoutMs);
    this.idle.unref();
    stream.on('data', this.onData);
    stream.on('end', () => this.onEnd());
    stream.on('error', () => undefined);
    stream.once('close', () => this.onClose());
    stream.resume();
  }

  private receive(chunk: Buffer): void {
    if (this.state === 'closed') return;
    this.pending = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    this.process();
  }

  private process(): void {
    for (;;) {
      const pending = this.pending;
      if (pending === undefined || this.state === 'closed') return;
      if (this.state === 'waiting') {
        if (pending.length > PIPELINE_HIGH_WATER_BYTES) this.stream.pause();
        return;
      }
      if (this.state === 'body') {
        const reader = this.reader as BodyReader;
        const read = reader.read(pending, 0);
        if (read.kind === 'invalid') {
          this.body?.destroy(new Error(`invalid request body: ${read.reason}`));
          this.stream.destroy();
          return;
        }
        this.pending = read.consumed < pending.length ? pending.subarray(read.consumed) : undefined;
        let wantsMore = true;
        const body = this.body;
        if (!this.discardBody && body !== undefined && !body.destroyed) for (const chunk of read.chunks) wantsMore = body.push(chunk) && wantsMore;
        if (!read.done) {
          if (!wantsMore && !this.discardBody) this.stream.pause();
          return;
        }
        if (!this.discardBody && body !== undefined && !body.destroyed) body.push(null);
        if (this.response !== undefined) this.response.continueWanted = false;
        this.reader = undefined;
        this.body = undefined;
        this.state = 'waiting';
        if (this.response === undefined) this.next();
        continue;
      }
      const parsed = parseRequestHead(pending);
      if (parsed.kind === 'incomplete') return;
      if (parsed.kind === 'invalid') {
        this.refuse(parsed.status, parsed.reason);
        return;
      }
      if (parsed.head.httpVersion === '1.1' && parsed.head.headers['host'] === undefined) {
        // RFC 9112 §3.2: an HTTP/1.1 request without Host is refused, as Node and Envoy do.
        this.refuse(400, 'missing host header');
        return;
      }
      this.pending = parsed.length < pending.length ? pending.subarray(parsed.length) : undefined;
      this.start(parsed.head);
    }
  }

  private start(head: RequestHead): void {
    const response = new Http1Response(
      this.stream,
      head,
      () => this.written(response),
      () => this.detach(),
    );
    this.response = response;
    this.discardBody = false;
    let body: Buffer | BodyStream | undefined;
    const framing = head.body;
    const rest = this.pending;
    if (framing.kind === 'none') {
      this.state = 'waiting';
    } else if (framing.kind === 'length' && rest !== undefined && rest.length >= framing.length) {
      body = rest.subarray(0, framing.length);
      this.pending = rest.length > framing.length ? rest.subarray(framing.length) : undefined;
      this.state = 'waiting';
    } else {
      this.reader = new BodyReader(framing);
      const stream = new BodyStream(() => {
        if (this.body === stream) this.stream.resume();
      });
      this.body = stream;
      body = stream;
      this.state = 'body';
      response.continueWanted = head.expectContinue;
    }
    this.options.onRequest({ head, body, response });
  }

  /** The response has been written: the connection moves on to the next request, or closes. */
  private written(response: Http1Response): void {
    if (this.response !== response) return;
    this.response = undefined;
    if (!response.keepAlive) {
      this.state = 'closed';
      this.stream.end();
      return;
    }
    if (this.state === 'body') {
      // The rest of the request body is read and dropped before the next request; whoever still waits on the body
      // learns it will not be complete.
      this.discardBody = true;
      if (this.body !== undefined && !this.body.destroyed) this.body.destroy(new Error('the response was written before the request body was read'));
      this.body = undefined;
      this.stream.resume();
      return;
    }
    this.next();
  }

  private next(): void {
    this.state = 'head';
    this.idle.refresh();
    this.stream.resume();
    queueMicrotask(() => this.process());
  }

  private refuse(status: number, reason: string): void {
    this.state = 'closed';
    const body = `${reason}\n`;
    this.stream.end(messageBytes([serializeResponseHead(status, { connection: 'close', 'content-type': 'text/plain', 'content-length': String(body.length) }), body]));
  }

  private onIdle(): void {
    if (this.state === 'closed') return;
    if (this.state === 'head' && this.response === undefined) {
      this.stream.destroy();
      return;
    }
    this.idle.refresh();
  }

  /** Stops reading HTTP off the connection (it switched protocols): what was received past the request head. */
  private detach(): Buffer | undefined {
    this.detached = true;
    this.state = 'closed';
    this.response = undefined;
    clearTimeout(this.idle);
    this.stream.off('data', this.onData);
    this.stream.pause();
    const received = this.pending;
    this.pending = undefined;
    return received;
  }

  /** The client ended its side: a pending request's body is cut short; otherwise the connection ends after the current response. */
  private onEnd(): void {
    if (this.detached) return;
    if (this.state === 'body' && !this.discardBody) this.body?.destroy(new Error('the client closed the connection in the request body'));
    if (this.response === undefined) {
      this.state = 'closed';
      this.stream.end();
      return;
    }
    this.response.keepAlive = false;
  }

  private onClose(): void {
    this.state = 'closed';
    clearTimeout(this.idle);
    if (this.detached) return;
    if (this.body !== undefined && !this.body.destroyed && !this.body.readableEnded) this.body.destroy(new Error('connection closed'));
    this.response?.gone();
    this.response = undefined;
  }
}

/** Serves HTTP/1.1 on a connection until it closes. */
export function serveHttp1(stream: Duplex, options: Http1ServerOptions): void {
  new ServerConnection(stream, options);
}
