// One CONNECT request on the inbound side (reference §2.4 steps 2–3, then the caller's decision): a non-CONNECT
// method or an unparsable `:authority` is answered 400 here; everything else goes to the caller's handler, which
// answers 200 (and gets the stream to pipe) or an error status (401 deny, 503/502 upstream failures).

import { constants, type IncomingHttpHeaders, type OutgoingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { Duplex } from 'node:stream';
import type { Identity } from '@weft/identity';
import { parseAuthority, type Authority } from './authority';
import { errorText, type HboneLogger } from './hbone-error';
import type { SocketAddress } from './socket-address';
import { readTunnelHeaders, type TunnelHeaders } from './tunnel-headers';

export const HTTP_STATUS_OK = 200;
export const HTTP_STATUS_BAD_REQUEST = 400;
export const HTTP_STATUS_UNAUTHORIZED = 401;
export const HTTP_STATUS_BAD_GATEWAY = 502;
export const HTTP_STATUS_SERVICE_UNAVAILABLE = 503;

/** A CONNECT that passed the protocol checks and waits for the handler's answer. */
export interface InboundTunnel {
  /** `<connection id>/<stream id>`, for logs. */
  readonly id: string;
  readonly authority: Authority;
  /** The SPIFFE identity of the client certificate (first SPIFFE URI SAN). */
  readonly peerIdentity: Identity;
  /** The identity whose certificate this connection was served with. */
  readonly localIdentity: Identity;
  /** `forwarded`, `baggage`, `traceparent` as received. */
  readonly headers: TunnelHeaders;
  /** Every request header, pseudo-headers included. */
  readonly requestHeaders: IncomingHttpHeaders;
  /** Where the TCP connection arrived (the pod IP and 15008); compare with `authority` (§2.4 step 5). */
  readonly localAddress: SocketAddress;
  /** The TCP peer: the client pod or waypoint; the source IP the app connection should use. */
  readonly remoteAddress: SocketAddress;
  /** The raw CONNECT stream; prefer accept(), which answers first. */
  readonly stream: ServerHttp2Stream;
  /** Whether accept() or reject() was called. */
  readonly answered: boolean;
  /** Answer 200 (plus `headers`, e.g. response baggage) and return the stream to pipe (see pipeTunnel). */
  accept(headers?: OutgoingHttpHeaders): Duplex;
  /** Answer `status` and end the stream; `reason` is logged, never sent. */
  reject(status: number, reason?: string): void;
}

/**
 * Decides one tunnel. It must call accept() or reject() before the promise it returns settles (or before it
 * returns, if synchronous); a handler that throws or does not answer gets a 503 sent on its behalf.
 */
export type TunnelHandler = (tunnel: InboundTunnel) => void | Promise<void>;

export interface InboundStreamContext {
  readonly connectionId: string;
  readonly peerIdentity: Identity;
  readonly localIdentity: Identity;
  readonly localAddress: SocketAddress;
  readonly remoteAddress: SocketAddress;
  readonly acceptHostnames: boolean;
  readonly handler: TunnelHandler;
  readonly logger: HboneLogger;
  readonly onRejected: (status: number) => void;
}

/** Run §2.4 steps 2–3 on a new stream and hand it to the handler. */
export function serveInboundStream(
  stream: ServerHttp2Stream,
  requestHeaders: IncomingHttpHeaders,
  context: InboundStreamContext,
): void {
  const id = `${context.connectionId}/${stream.id ?? '?'}`;
  const logger = context.logger;
  // Errors surface through pipeTunnel or the handler; an unanswered one must not crash the process.
  stream.on('error', (err: unknown) => logger.debug('stream error', { tunnel: id, error: errorText(err) }));

  let answered = false;
  const respond = (status: number, headers: OutgoingHttpHeaders, endStream: boolean): void => {
    answered = true;
    if (stream.destroyed || stream.headersSent) return;
    stream.respond({ ...headers, [constants.HTTP2_HEADER_STATUS]: status }, { endStream });
  };
  const reject = (status: number, reason?: string): void => {
    if (answered) return;
    context.onRejected(status);
    logger.debug('tunnel rejected', { tunnel: id, status, reason });
    respond(status, {}, true);
  };

  const method = requestHeaders[constants.HTTP2_HEADER_METHOD];
  if (method !== constants.HTTP2_METHOD_CONNECT) return reject(HTTP_STATUS_BAD_REQUEST, `method ${String(method)}`);
  const authorityHeader = requestHeaders[constants.HTTP2_HEADER_AUTHORITY];
  const rawAuthority = typeof authorityHeader === 'string' ? authorityHeader : '';
  const authority = parseAuthority(rawAuthority);
  if (authority === undefined || (authority.kind === 'hostname' && !context.acceptHostnames)) {
    return reject(HTTP_STATUS_BAD_REQUEST, `bad :authority "${rawAuthority}"`);
  }

  const tunnel: InboundTunnel = {
    id,
    authority,
    peerIdentity: context.peerIdentity,
    localIdentity: context.localIdentity,
    headers: readTunnelHeaders(requestHeaders),
    requestHeaders,
    localAddress: context.localAddress,
    remoteAddress: context.remoteAddress,
    stream,
    get answered() {
      return answered;
    },
    accept(headers = {}) {
      if (answered) throw new Error(`tunnel ${id} was already answered`);
      respond(HTTP_STATUS_OK, headers, false);
      return stream;
    },
    reject,
  };

  const unanswered = (why: string, error?: unknown): void => {
    if (answered) return;
    logger.warn(`tunnel handler ${why}; answering 503`, {
      tunnel: id,
      ...(error === undefined ? {} : { error: errorText(error) }),
    });
    reject(HTTP_STATUS_SERVICE_UNAVAILABLE, why);
  };
  let outcome: void | Promise<void>;
  try {
    outcome = context.handler(tunnel);
  } catch (err) {
    return unanswered('threw', err);
  }
  if (isThenable(outcome)) {
    outcome.then(
      () => unanswered('resolved without answering'),
      (err: unknown) => unanswered('rejected', err),
    );
  } else {
    unanswered('returned without answering');
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | undefined)?.then === 'function';
}
