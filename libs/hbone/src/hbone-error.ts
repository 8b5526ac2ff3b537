// The one error type of @weft/hbone, with stable codes an operator can grep for and a caller can switch on (never
// match on `message`), plus the logger capability the client pool and server take.

/**
 * - `ERR_HBONE_INVALID_ARGUMENT`: an option or argument cannot work (a malformed authority, an empty SAN list).
 * - `ERR_HBONE_CERTIFICATE_INVALID`: a workload certificate given to the credential cache is unusable.
 * - `ERR_HBONE_NO_CERTIFICATE`: no certificate is (yet) available for the identity a connection needs.
 * - `ERR_HBONE_CONNECT_TIMEOUT` / `ERR_HBONE_CONNECT_FAILED`: the TCP connection to port 15008 did not come up.
 * - `ERR_HBONE_TLS_HANDSHAKE`: the TLS handshake failed (no TLS 1.3, no `h2` ALPN, a chain OpenSSL refused).
 * - `ERR_HBONE_PEER_UNTRUSTED`: the peer chain does not reach our roots, or is expired or of the wrong usage.
 * - `ERR_HBONE_SAN_MISMATCH`: the server's URI SANs match none of the expected identities (outbound).
 * - `ERR_HBONE_TRUST_DOMAIN_MISMATCH`: the client has no SPIFFE ID in our trust domain (inbound).
 * - `ERR_HBONE_HTTP_STATUS`: the CONNECT was answered with a status other than 200; see `status`.
 * - `ERR_HBONE_STREAM_RESET`: the CONNECT stream was reset before or while tunnelling; see `rstCode`.
 * - `ERR_HBONE_CONNECTION_CLOSED`: the HTTP/2 connection closed (GOAWAY, socket closed) under a request.
 * - `ERR_HBONE_KEEPALIVE_TIMEOUT`: a PING went unanswered for the keepalive timeout; the connection was closed.
 * - `ERR_HBONE_TUNNEL_IO`: copying tunnelled bytes failed on one side; both sides were closed.
 * - `ERR_HBONE_ABORTED`: the caller's AbortSignal fired.
 * - `ERR_HBONE_CLOSED`: the pool or server is closing or closed.
 */
export type HboneErrorCode =
  | 'ERR_HBONE_INVALID_ARGUMENT'
  | 'ERR_HBONE_CERTIFICATE_INVALID'
  | 'ERR_HBONE_NO_CERTIFICATE'
  | 'ERR_HBONE_CONNECT_TIMEOUT'
  | 'ERR_HBONE_CONNECT_FAILED'
  | 'ERR_HBONE_TLS_HANDSHAKE'
  | 'ERR_HBONE_PEER_UNTRUSTED'
  | 'ERR_HBONE_SAN_MISMATCH'
  | 'ERR_HBONE_TRUST_DOMAIN_MISMATCH'
  | 'ERR_HBONE_HTTP_STATUS'
  | 'ERR_HBONE_STREAM_RESET'
  | 'ERR_HBONE_CONNECTION_CLOSED'
  | 'ERR_HBONE_KEEPALIVE_TIMEOUT'
  | 'ERR_HBONE_TUNNEL_IO'
  | 'ERR_HBONE_ABORTED'
  | 'ERR_HBONE_CLOSED';

export interface HboneErrorDetails {
  /** What an operator can check. Appended to the message. */
  readonly hint?: string;
  /** `ERR_HBONE_HTTP_STATUS`: the `:status` of the CONNECT response. */
  readonly status?: number;
  /** `ERR_HBONE_STREAM_RESET`: the RST_STREAM (or GOAWAY) error code. */
  readonly rstCode?: number;
  readonly cause?: unknown;
}

export class HboneError extends Error {
  readonly hint: string | undefined;
  readonly status: number | undefined;
  readonly rstCode: number | undefined;

  constructor(
    readonly code: HboneErrorCode,
    message: string,
    details: HboneErrorDetails = {},
  ) {
    super(details.hint === undefined ? message : `${message} (${details.hint})`, { cause: details.cause });
    this.name = 'HboneError';
    this.hint = details.hint;
    this.status = details.status;
    this.rstCode = details.rstCode;
  }
}

/** True for an HboneError, also across jest/vm realms (no `instanceof`). */
export function isHboneError(err: unknown): err is HboneError {
  return typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'HboneError';
}

/** Structured log fields; values must be plain data. */
export type HboneLogFields = Readonly<Record<string, unknown>>;

/** The logging capability the pool and server take; a thin adapter maps it onto the app logger. */
export interface HboneLogger {
  debug(message: string, fields?: HboneLogFields): void;
  info(message: string, fields?: HboneLogFields): void;
  warn(message: string, fields?: HboneLogFields): void;
  error(message: string, fields?: HboneLogFields): void;
}

const noop = (): void => undefined;

export const NOOP_HBONE_LOGGER: HboneLogger = Object.freeze({ debug: noop, info: noop, warn: noop, error: noop });

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
