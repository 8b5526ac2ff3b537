// ztunnel's HTTP/2 parameters for HBONE (reference §2.2) as node:http2 options, and the PING keepalive both sides
// run: every 10 s after a 10 s delay, closing the connection when a PING is unanswered for 20 s.

import type { ClientSessionOptions, Http2Session, ServerOptions } from 'node:http2';
import { HboneError } from './hbone-error';

const KIB = 1024;
const MIB = 1024 * KIB;

/** Initial flow-control window of every stream, both directions. */
export const HBONE_STREAM_WINDOW_BYTES = 4 * MIB;
/** Connection-level receive window (set with setLocalWindowSize once the session is up). */
export const HBONE_CONNECTION_WINDOW_BYTES = 16 * MIB;
export const HBONE_MAX_FRAME_SIZE_BYTES = 1 * MIB;
export const HBONE_CLIENT_MAX_HEADER_LIST_BYTES = 16 * KIB;
export const HBONE_SERVER_MAX_HEADER_LIST_BYTES = 64 * KIB;
/** The client never puts more streams than this on one connection (nor more than the server allows). */
export const HBONE_CLIENT_MAX_STREAMS = 100;
/** What the inbound side advertises in SETTINGS_MAX_CONCURRENT_STREAMS. */
export const HBONE_SERVER_MAX_STREAMS = 200;
export const HBONE_KEEPALIVE_INTERVAL_MS = 10_000;
export const HBONE_KEEPALIVE_TIMEOUT_MS = 20_000;
// node:http2 refuses new streams (ENHANCE_YOUR_CALM) once a session holds this many MB of buffered frames; the
// default 10 is below one connection window, which a busy connection legitimately fills.
const MAX_SESSION_MEMORY_MB = 64;

export interface KeepaliveOptions {
  readonly intervalMs?: number;
  readonly timeoutMs?: number;
}

export function clientSessionOptions(): ClientSessionOptions {
  return {
    maxSessionMemory: MAX_SESSION_MEMORY_MB,
    peerMaxConcurrentStreams: HBONE_CLIENT_MAX_STREAMS,
    settings: {
      enablePush: false,
      initialWindowSize: HBONE_STREAM_WINDOW_BYTES,
      maxFrameSize: HBONE_MAX_FRAME_SIZE_BYTES,
      maxHeaderListSize: HBONE_CLIENT_MAX_HEADER_LIST_BYTES,
    },
  };
}

export function serverSessionOptions(): ServerOptions {
  return {
    maxSessionMemory: MAX_SESSION_MEMORY_MB,
    settings: {
      initialWindowSize: HBONE_STREAM_WINDOW_BYTES,
      maxFrameSize: HBONE_MAX_FRAME_SIZE_BYTES,
      maxHeaderListSize: HBONE_SERVER_MAX_HEADER_LIST_BYTES,
      maxConcurrentStreams: HBONE_SERVER_MAX_STREAMS,
    },
  };
}

/** Raise the connection receive window to 16 MiB (SETTINGS only covers streams). */
export function applyConnectionWindow(session: Http2Session): void {
  if (!session.destroyed) session.setLocalWindowSize(HBONE_CONNECTION_WINDOW_BYTES);
}

/**
 * PING the peer every `intervalMs`; when an answer takes longer than `timeoutMs`, call `onDead`. Stops by itself
 * when the session closes; the returned function stops it earlier. Timers are unref'd and always cleared.
 */
export function startKeepalive(
  session: Http2Session,
  options: KeepaliveOptions,
  onDead: (error: HboneError) => void,
): () => void {
  const intervalMs = options.intervalMs ?? HBONE_KEEPALIVE_INTERVAL_MS;
  const timeoutMs = options.timeoutMs ?? HBONE_KEEPALIVE_TIMEOUT_MS;
  let waiting: NodeJS.Timeout | undefined;
  const clearWaiting = (): void => {
    if (waiting !== undefined) clearTimeout(waiting);
    waiting = undefined;
  };
  const interval = setInterval(() => {
    if (waiting !== undefined || session.destroyed || session.closed) return;
    waiting = setTimeout(() => {
      waiting = undefined;
      onDead(
        new HboneError('ERR_HBONE_KEEPALIVE_TIMEOUT', `HTTP/2 PING unanswered for ${timeoutMs} ms`, {
          hint: 'the peer or the network path stopped responding',
        }),
      );
    }, timeoutMs);
    waiting.unref();
    // A ping cancelled because the session is closing also ends the wait; 'close' stops the interval.
    session.ping(clearWaiting);
  }, intervalMs);
  interval.unref();
  const stop = (): void => {
    clearInterval(interval);
    clearWaiting();
  };
  session.once('close', stop);
  return stop;
}
