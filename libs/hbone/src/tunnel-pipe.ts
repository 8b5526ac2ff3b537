// The HBONE data path: copy bytes both ways between two duplexes (an HTTP/2 CONNECT stream and a TCP socket) with
// backpressure and half-close. A FIN (or END_STREAM) on one side becomes end() on the other; an HTTP/2 stream is
// only ever ended, never reset, on the normal path (nghttp2 counts client resets for its rapid-reset guard).

import type { Duplex } from 'node:stream';
import { HboneError, errorText } from './hbone-error';

/** What a finished tunnel moved; telemetry reports the counts whether or not it failed. */
export interface TunnelResult {
  /** Bytes read from `downstream` and written to `upstream`. */
  readonly bytesSent: number;
  /** Bytes read from `upstream` and written to `downstream`. */
  readonly bytesReceived: number;
  /** Set when a side errored or closed early; both sides were then closed. */
  readonly error?: HboneError;
}

// RST_STREAM code for an abandoned stream (RFC 9113 §7 CANCEL), as opposed to Node's INTERNAL_ERROR.
const NGHTTP2_CANCEL = 8;

interface Http2StreamLike {
  readonly rstCode: number | undefined;
  close(code?: number): void;
}

function isHttp2Stream(stream: Duplex): stream is Duplex & Http2StreamLike {
  return 'rstCode' in stream && typeof (stream as Partial<Http2StreamLike>).close === 'function';
}

/** Half-close must survive on TCP sockets (Node ends a socket on EOF unless allowHalfOpen), and Nagle adds delay. */
function prepare(stream: Duplex): void {
  const socket = stream as Duplex & { setNoDelay?: (noDelay?: boolean) => unknown };
  if (typeof socket.setNoDelay === 'function') socket.setNoDelay(true);
  stream.allowHalfOpen = true;
}

/**
 * Close a side so its peer sees a failure, not a clean end: RST_STREAM CANCEL on HTTP/2, a TCP RST on sockets (a FIN
 * would make a truncated response look complete to the application).
 */
function abort(stream: Duplex): void {
  if (stream.destroyed) return;
  const socket = stream as Duplex & { resetAndDestroy?: () => unknown; connecting?: boolean };
  if (isHttp2Stream(stream)) stream.close(NGHTTP2_CANCEL);
  else if (typeof socket.resetAndDestroy === 'function' && socket.connecting !== true) {
    try {
      socket.resetAndDestroy();
    } catch {
      // Only plain TCP handles can send RST (a TLS socket throws ERR_INVALID_HANDLE_TYPE): close it instead.
      stream.destroy();
    }
  } else stream.destroy();
}

/**
 * Copy `downstream` → `upstream` and `upstream` → `downstream` until both directions have ended, then resolve.
 * An error or early close on either side closes both (an HTTP/2 stream with RST_STREAM CANCEL) and resolves with
 * `error` set. Never rejects. Both sides are left to close themselves once both directions ended.
 */
export function pipeTunnel(downstream: Duplex, upstream: Duplex): Promise<TunnelResult> {
  prepare(downstream);
  prepare(upstream);
  return new Promise<TunnelResult>((resolve) => {
    let bytesSent = 0;
    let bytesReceived = 0;
    let sentDone = false;
    let receivedDone = false;
    let settled = false;

    const settle = (error?: HboneError): void => {
      if (settled) return;
      settled = true;
      resolve(error === undefined ? { bytesSent, bytesReceived } : { bytesSent, bytesReceived, error });
    };
    const fail = (side: string, cause: unknown): void => {
      if (settled) return;
      abort(downstream);
      abort(upstream);
      settle(new HboneError('ERR_HBONE_TUNNEL_IO', `tunnel ${side} failed: ${errorText(cause)}`, { cause }));
    };
    const copy = (from: Duplex, to: Duplex, count: (n: number) => void, done: () => void): void => {
      from.on('data', (chunk: Buffer | string) => {
        count(typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length);
        if (!to.write(chunk)) from.pause();
      });
      to.on('drain', () => from.resume());
      from.once('end', () => to.end());
      to.once('finish', done);
    };
    const watch = (stream: Duplex, side: string): void => {
      stream.on('error', (err: unknown) => fail(side, err));
      stream.once('close', () => {
        // Closing after both of its directions completed is the normal end; anything else is an abort (RST_STREAM,
        // a reset socket) that the other side must see too.
        if (!stream.readableEnded || !stream.writableFinished) {
          const reset = isHttp2Stream(stream) && stream.rstCode !== undefined ? ` (RST_STREAM ${stream.rstCode})` : '';
          fail(side, new Error(`closed before both directions ended${reset}`));
        }
      });
    };
    watch(downstream, 'downstream');
    watch(upstream, 'upstream');
    // A side that closed before we got here emits no further 'close'.
    if (downstream.destroyed || upstream.destroyed) {
      return fail(downstream.destroyed ? 'downstream' : 'upstream', new Error('already closed'));
    }
    copy(
      downstream,
      upstream,
      (n) => (bytesSent += n),
      () => {
        sentDone = true;
        if (receivedDone) settle();
      },
    );
    copy(
      upstream,
      downstream,
      (n) => (bytesReceived += n),
      () => {
        receivedDone = true;
        if (sentDone) settle();
      },
    );
  });
}
