// Load generators of the ztunnel datapath benchmark, run in the bench process against datapath-server.ts either
// directly or through ztunnel's 15001: bulk streams, 1 KiB request/response at a fixed offered rate (latency measured
// from when each request was due, so a stall is not hidden by the generator waiting), closed-loop maximum rate, and
// idle connections. Every socket made here is tracked so cleanup can destroy it.

import * as net from 'node:net';

import { MODE_BULK, MODE_ECHO, MODE_REQUEST_RESPONSE, REQUEST_BYTES, RESPONSE_BYTES } from './datapath-server';

export interface Target {
  readonly host: string;
  readonly port: number;
}

/** Every socket opened by the load generators, until it closes. */
export const openSockets = new Set<net.Socket>();

export function destroyAllSockets(): void {
  for (const socket of openSockets) socket.destroy();
  openSockets.clear();
}

export function connect(target: Target, timeoutMs = 10_000): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: target.host, port: target.port, noDelay: true, allowHalfOpen: true });
    openSockets.add(socket);
    socket.once('close', () => openSockets.delete(socket));
    const timer = setTimeout(() => socket.destroy(new Error(`connect to ${target.host}:${target.port} timed out`)), timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', reject);
      socket.on('error', () => undefined);
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

function closedError(socket: net.Socket, what: string): Error {
  return new Error(`the connection closed while ${what}${socket.errored === null ? '' : `: ${String(socket.errored)}`}`);
}

/** Resolves on 'drain', rejects if the socket closes first. */
function drained(socket: net.Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = (): void => {
      socket.off('close', onClose);
      resolve();
    };
    const onClose = (): void => {
      socket.off('drain', onDrain);
      reject(closedError(socket, 'writing'));
    };
    socket.once('drain', onDrain);
    socket.once('close', onClose);
  });
}

/** Everything the peer sends until it ends; rejects if the socket closes without an end. */
function readToEnd(socket: net.Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('end', () => resolve(Buffer.concat(chunks)));
    socket.once('close', () => reject(closedError(socket, 'waiting for the reply')));
  });
}

const BULK_CHUNK = Buffer.alloc(256 * 1024, 0x62);

/** One bulk stream: `bytes` to the sink (or until `stopAt`, performance.now()), half-close, wait for the count. */
export async function bulkStream(target: Target, bytes: number, stopAt: number): Promise<number> {
  const socket = await connect(target);
  const reply = readToEnd(socket);
  reply.catch(() => undefined);
  socket.write(Buffer.of(MODE_BULK));
  let sent = 0;
  while (sent < bytes && performance.now() < stopAt) {
    const size = Math.min(BULK_CHUNK.length, bytes - sent);
    const flushed = socket.write(size === BULK_CHUNK.length ? BULK_CHUNK : BULK_CHUNK.subarray(0, size));
    sent += size;
    if (!flushed) await drained(socket);
  }
  socket.end();
  const ack = await reply;
  socket.destroy();
  if (ack.length !== 8) throw new Error(`the sink answered ${ack.length} bytes instead of its 8-byte count`);
  const received = Number(ack.readBigUInt64BE(0));
  if (received !== sent) throw new Error(`the sink received ${received} of ${sent} bytes`);
  return received;
}

export interface BulkResult {
  readonly streams: number;
  readonly bytes: number;
  readonly seconds: number;
  /** 10^6 bytes per second. */
  readonly mbPerSecond: number;
  /** The time cap stopped the streams before `totalBytes`. */
  readonly capped: boolean;
}

/** `streams` parallel bulk streams sharing `totalBytes`, all stopped at `capMs` at the latest. */
export async function bulk(target: Target, streams: number, totalBytes: number, capMs: number): Promise<BulkResult> {
  const each = Math.floor(totalBytes / streams);
  const start = performance.now();
  const stopAt = start + capMs;
  const counts = await Promise.all(Array.from({ length: streams }, () => bulkStream(target, each, stopAt)));
  const seconds = (performance.now() - start) / 1000;
  const bytes = counts.reduce((sum, n) => sum + n, 0);
  return { streams, bytes, seconds, mbPerSecond: bytes / seconds / 1e6, capped: bytes < each * streams };
}

/** A persistent connection that carries one request at a time: what the request/response runs drive. */
export interface Requester {
  /** Sends one request; resolves once its whole response is in. */
  request(): Promise<void>;
}

/** A persistent request/response connection: one request outstanding at a time. */
export class RrConnection implements Requester {
  private pending = 0;
  private waiter: { resolve: () => void; reject: (err: Error) => void } | undefined;
  private static readonly REQUEST = Buffer.alloc(REQUEST_BYTES, 0x71);

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.pending += chunk.length;
      if (this.pending >= RESPONSE_BYTES && this.waiter !== undefined) {
        this.pending -= RESPONSE_BYTES;
        const { resolve } = this.waiter;
        this.waiter = undefined;
        resolve();
      }
    });
    socket.once('close', () => {
      const waiter = this.waiter;
      this.waiter = undefined;
      waiter?.reject(closedError(socket, 'waiting for a response'));
    });
  }

  static async open(target: Target): Promise<RrConnection> {
    const socket = await connect(target);
    socket.write(Buffer.of(MODE_REQUEST_RESPONSE));
    return new RrConnection(socket);
  }

  request(): Promise<void> {
    if (this.waiter !== undefined) return Promise.reject(new Error('a request is already outstanding'));
    if (this.socket.destroyed) return Promise.reject(closedError(this.socket, 'sending a request'));
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
      this.socket.write(RrConnection.REQUEST);
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

export async function openRr(target: Target, count: number): Promise<RrConnection[]> {
  return Promise.all(Array.from({ length: count }, () => RrConnection.open(target)));
}

/**
 * A persistent HTTP/1.1 keep-alive connection, one request outstanding at a time: `POST /` with a REQUEST_BYTES body,
 * and a response read to its end (Content-Length or chunked, whichever the hop in front of the server chose). A
 * complete response other than 200 (a proxy's 503, say) completes the request but is counted in `failed`, so a run can
 * report how many of its requests were refused somewhere on the path.
 */
export class HttpConnection implements Requester {
  /** Complete responses whose status was not 200, since the connection opened. */
  failed = 0;
  /** The status line of the last such response. */
  lastFailure = '';
  private buffer: Buffer = Buffer.alloc(0);
  private waiter: { resolve: () => void; reject: (err: Error) => void } | undefined;
  private readonly requestBytes: Buffer;

  private constructor(
    private readonly socket: net.Socket,
    host: string,
  ) {
    const head = `POST / HTTP/1.1\r\nhost: ${host}\r\ncontent-type: application/octet-stream\r\ncontent-length: ${REQUEST_BYTES}\r\n\r\n`;
    this.requestBytes = Buffer.concat([Buffer.from(head, 'latin1'), Buffer.alloc(REQUEST_BYTES, 0x71)]);
    socket.on('data', (chunk: Buffer) => {
      this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
      try {
        this.parse();
      } catch (cause) {
        socket.destroy();
        this.settle(cause instanceof Error ? cause : new Error(String(cause)));
      }
    });
    socket.once('close', () => this.settle(closedError(socket, 'waiting for an HTTP response')));
  }

  /** `host` is the Host header (the service name the mesh routes by). */
  static async open(target: Target, host: string): Promise<HttpConnection> {
    return new HttpConnection(await connect(target), host);
  }

  request(): Promise<void> {
    if (this.waiter !== undefined) return Promise.reject(new Error('a request is already outstanding'));
    if (this.socket.destroyed) return Promise.reject(closedError(this.socket, 'sending a request'));
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
      this.socket.write(this.requestBytes);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private settle(err?: Error): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    if (err === undefined) waiter?.resolve();
    else waiter?.reject(err);
  }

  /** Consumes one complete response from the buffer, if it holds one. */
  private parse(): void {
    const headEnd = this.buffer.indexOf('\r\n\r\n');
    if (headEnd < 0) return;
    const head = this.buffer.subarray(0, headEnd).toString('latin1');
    const [statusLine = '', ...headerLines] = head.split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? NaN);
    let length: number | undefined;
    let chunked = false;
    for (const line of headerLines) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'content-length') length = Number(value);
      else if (name === 'transfer-encoding' && value.toLowerCase().includes('chunked')) chunked = true;
    }
    let end: number | undefined;
    const bodyStart = headEnd + 4;
    if (chunked) {
      end = chunkedEnd(this.buffer, bodyStart);
    } else if (length !== undefined && Number.isFinite(length)) {
      end = this.buffer.length >= bodyStart + length ? bodyStart + length : undefined;
    } else {
      this.socket.destroy();
      this.settle(new Error(`an HTTP response without a length: ${statusLine}`));
      return;
    }
    if (end === undefined) return;
    this.buffer = this.buffer.subarray(end);
    if (status !== 200) {
      this.failed++;
      this.lastFailure = statusLine;
    }
    this.settle();
  }
}

/** Where a chunked body starting at `from` ends (after the last chunk and its empty trailer), if it is all there. */
function chunkedEnd(buffer: Buffer, from: number): number | undefined {
  let at = from;
  for (;;) {
    const lineEnd = buffer.indexOf('\r\n', at);
    if (lineEnd < 0) return undefined;
    const size = parseInt(buffer.subarray(at, lineEnd).toString('latin1').split(';')[0] ?? '', 16);
    if (!Number.isFinite(size)) throw new Error('malformed chunked body');
    if (size === 0) {
      // Trailer fields (normally none), then the empty line.
      const trailerEnd = buffer.indexOf('\r\n\r\n', lineEnd);
      return trailerEnd < 0 ? undefined : trailerEnd + 4;
    }
    const next = lineEnd + 2 + size + 2;
    if (buffer.length < next) return undefined;
    at = next;
  }
}

export async function openHttp(target: Target, count: number, host: string): Promise<HttpConnection[]> {
  return Promise.all(Array.from({ length: count }, () => HttpConnection.open(target, host)));
}

export interface RateResult {
  readonly offered: number;
  readonly completed: number;
  /** Completed requests per second of the run (first due time to last completion). */
  readonly achieved: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly seconds: number;
}

function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;
}

/**
 * Open loop: requests fall due at `rate` per second for `seconds`, each sent on an idle connection (or queued until
 * one frees up). Latency runs from when the request was due to its complete response.
 */
export function fixedRate(connections: readonly Requester[], rate: number, seconds: number, timeoutMs: number): Promise<RateResult> {
  const total = Math.round(rate * seconds);
  const latencies: number[] = [];
  const idle = [...connections];
  const queue: number[] = [];
  let issued = 0;
  let lastDone = 0;
  const start = performance.now();
  return new Promise<RateResult>((resolve, reject) => {
    let failed = false;
    const timeout = setTimeout(() => fail(new Error(`only ${latencies.length} of ${total} requests completed within ${timeoutMs} ms`)), timeoutMs);
    const fail = (err: Error): void => {
      if (failed) return;
      failed = true;
      clearTimeout(timeout);
      reject(err);
    };
    const dispatch = (connection: Requester, due: number): void => {
      connection.request().then(() => {
        const now = performance.now();
        latencies.push(now - due);
        lastDone = now;
        const next = queue.shift();
        if (next !== undefined) dispatch(connection, next);
        else idle.push(connection);
        if (latencies.length === total && !failed) {
          clearTimeout(timeout);
          const sorted = latencies.sort((a, b) => a - b);
          const elapsed = (lastDone - start) / 1000;
          resolve({
            offered: rate,
            completed: total,
            achieved: total / elapsed,
            p50Ms: percentile(sorted, 0.5),
            p99Ms: percentile(sorted, 0.99),
            maxMs: sorted[sorted.length - 1] ?? NaN,
            seconds: elapsed,
          });
        }
      }, fail);
    };
    const tick = (): void => {
      if (failed) return;
      const now = performance.now();
      const due = Math.min(total, Math.floor(((now - start) * rate) / 1000) + 1);
      while (issued < due) {
        const dueAt = start + (issued * 1000) / rate;
        issued++;
        const connection = idle.pop();
        if (connection !== undefined) dispatch(connection, dueAt);
        else queue.push(dueAt);
      }
      if (issued < total) setTimeout(tick, 1);
    };
    tick();
  });
}

export interface MaxRateResult {
  readonly connections: number;
  readonly completed: number;
  readonly rps: number;
  readonly seconds: number;
}

/** Closed loop: every connection sends its next request as soon as the last response is complete. */
export async function maxRate(connections: readonly Requester[], warmupMs: number, measureMs: number): Promise<MaxRateResult> {
  let completed = 0;
  const start = performance.now();
  const countFrom = start + warmupMs;
  const stopAt = countFrom + measureMs;
  await Promise.all(
    connections.map(async (connection) => {
      while (performance.now() < stopAt) {
        await connection.request();
        if (performance.now() >= countFrom) completed++;
      }
    }),
  );
  const seconds = (performance.now() - countFrom) / 1000;
  return { connections: connections.length, completed, rps: completed / seconds, seconds };
}

/** An idle connection that has carried one echoed byte (so the whole path, tunnel included, is established). */
export async function openIdle(target: Target): Promise<net.Socket> {
  const socket = await connect(target);
  await new Promise<void>((resolve, reject) => {
    const onData = (): void => {
      socket.off('close', onClose);
      resolve();
    };
    const onClose = (): void => reject(closedError(socket, 'waiting for the echo'));
    socket.once('data', onData);
    socket.once('close', onClose);
    socket.write(Buffer.of(MODE_ECHO, 0x78));
  });
  return socket;
}

/** `count` idle connections, at most `concurrency` being opened at once. */
export async function openIdleMany(target: Target, count: number, concurrency: number): Promise<net.Socket[]> {
  const sockets: net.Socket[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        next++;
        sockets.push(await openIdle(target));
      }
    }),
  );
  return sockets;
}
