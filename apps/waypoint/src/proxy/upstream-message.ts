// What the proxy sends to an endpoint and gets back, whichever codec carries it (HTTP/1.1 pool or HTTP/2 session).

import type { Duplex, Readable } from 'node:stream';

/** Header fields by lower-case name; a field that occurs several times may be a list (`set-cookie`). */
export type HeaderMap = Record<string, string | string[]>;

export interface UpstreamRequest {
  readonly method: string;
  readonly path: string;
  /** Sent as `Host` (HTTP/1.1) or `:authority` (HTTP/2). */
  readonly authority: string;
  /** Lower-case names; no pseudo-headers, no connection-specific headers, no `host`. */
  readonly headers: HeaderMap;
  /** Absent: the request has no body. A Buffer is the whole body. */
  readonly body?: Readable | Buffer;
  /** A protocol to switch to (WebSocket); HTTP/1.1 only. */
  readonly upgrade?: string;
  /** Called when the endpoint answers `100 Continue` (the request carried `Expect: 100-continue`). */
  readonly onContinue?: (() => void) | undefined;
}

/** The tunnel of an exchange the endpoint switched to another protocol (101): no longer HTTP's, nor a pool's. */
export interface SwitchedTunnel {
  readonly stream: Duplex;
  /** Bytes the endpoint sent after its 101 head. */
  readonly head: Buffer | undefined;
}

export interface UpstreamResponse {
  readonly status: number;
  readonly headers: HeaderMap;
  /** A Buffer is the whole body, received with the head. */
  readonly body: Readable | Buffer;
  /** HTTP/2: the response ended with its headers (gRPC's trailers-only form). */
  readonly headersOnly: boolean;
  /** A 101 to an upgrade request: the tunnel, now carrying the other protocol. */
  readonly switched?: SwitchedTunnel;
  /** The trailers, once `body` has ended (empty when there were none). */
  trailers(): HeaderMap;
}
