// Typed errors and the logger interface shared by the Delta ADS server and client. Codes are stable: operators,
// dashboards and tests match on them, never on message text.

import { status as GrpcStatus } from '@grpc/grpc-js';

export type DeltaAdsErrorCode =
  /** The server rejected the stream's credentials (gRPC UNAUTHENTICATED). */
  | 'ERR_XDS_UNAUTHENTICATED'
  /** The stream ended with any other non-OK status, or could not be opened. */
  | 'ERR_XDS_STREAM_FAILED'
  /** The server ended the stream INVALID_ARGUMENT: a request broke the Delta ADS contract (e.g. no type_url). */
  | 'ERR_XDS_BAD_REQUEST'
  /** The options given to createDeltaAdsClient/createDeltaAdsServer cannot work (a programming error). */
  | 'ERR_XDS_CONFIG_INVALID'
  /** A response or call named a type URL this side does not handle. */
  | 'ERR_XDS_UNKNOWN_TYPE'
  /** The application's `onUpdate` threw while applying a batch. */
  | 'ERR_XDS_APPLY_FAILED'
  /** The client was closed or destroyed before the operation finished. */
  | 'ERR_XDS_CLIENT_CLOSED';

export class DeltaAdsError extends Error {
  constructor(
    readonly code: DeltaAdsErrorCode,
    message: string,
    /** What an operator can check, when there is something useful to say. */
    readonly hint?: string,
    /** The gRPC status code that carried or will carry this error, when there is one. */
    readonly grpcCode?: GrpcStatus,
  ) {
    super(hint === undefined ? message : `${message} (${hint})`);
    this.name = 'DeltaAdsError';
  }
}

/**
 * The one mapping from a gRPC status that ended a client stream to a typed error. UNAUTHENTICATED and
 * PERMISSION_DENIED get a hint, since a stale or wrongly scoped token is by far the most common cause.
 */
export function streamStatusError(code: GrpcStatus, details: string): DeltaAdsError {
  switch (code) {
    case GrpcStatus.UNAUTHENTICATED:
    case GrpcStatus.PERMISSION_DENIED:
      return new DeltaAdsError(
        'ERR_XDS_UNAUTHENTICATED',
        `xDS stream rejected: ${details}`,
        'check the bearer token (audience istio-ca, not expired) and the clusterid header',
        code,
      );
    case GrpcStatus.INVALID_ARGUMENT:
      return new DeltaAdsError('ERR_XDS_BAD_REQUEST', `xDS server refused a request: ${details}`, undefined, code);
    default:
      return new DeltaAdsError(
        'ERR_XDS_STREAM_FAILED',
        `xDS stream ended: ${GrpcStatus[code] ?? code}: ${details}`,
        undefined,
        code,
      );
  }
}

/** Structured log fields; values must be plain data. */
export type DeltaAdsLogFields = Readonly<Record<string, unknown>>;

/** The logging capability the server and client take; a thin adapter maps it onto the app logger. */
export interface DeltaAdsLogger {
  debug(message: string, fields?: DeltaAdsLogFields): void;
  info(message: string, fields?: DeltaAdsLogFields): void;
  warn(message: string, fields?: DeltaAdsLogFields): void;
  error(message: string, fields?: DeltaAdsLogFields): void;
}

const noop = (): void => undefined;

export const NOOP_DELTA_ADS_LOGGER: DeltaAdsLogger = Object.freeze({ debug: noop, info: noop, warn: noop, error: noop });

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A logger that adds `base` fields (e.g. the connection id) to every line. */
export function childLogger(parent: DeltaAdsLogger, base: DeltaAdsLogFields): DeltaAdsLogger {
  const wrap =
    (level: keyof DeltaAdsLogger) =>
    (message: string, fields?: DeltaAdsLogFields): void =>
      parent[level](message, { ...base, ...fields });
  return { debug: wrap('debug'), info: wrap('info'), warn: wrap('warn'), error: wrap('error') };
}
