// The one error type of the controlplane's CA concern: configuration and storage problems an operator must fix.
// Request-level refusals are not errors but outcomes (see certificate-service.ts).

/**
 * Stable codes; match on `code`, never on `message`.
 *
 * - `ERR_CA_TOKEN_FILE_INVALID`: the bootstrap token file cannot be read or does not match its documented format.
 * - `ERR_CA_STORAGE_NAME_INVALID`: a CA storage name is not a plain file name (it would escape the directory).
 * - `ERR_CA_SERVING_CERT`: the controlplane's own TLS serving certificate for 15012 could not be issued.
 * - `ERR_CA_CONFIG_INVALID`: an option passed to a CA component is malformed (e.g. a trusted account not `ns/sa`).
 * - `ERR_CA_ROOT_SUPERSEDED`: another controlplane stored its self-signed root in the CA Secret first; use that one.
 * - `ERR_CA_SECRET_WRITE`: the self-signed root could not be stored in the CA Secret (RBAC, API server).
 */
export type CaErrorCode =
  | 'ERR_CA_TOKEN_FILE_INVALID'
  | 'ERR_CA_STORAGE_NAME_INVALID'
  | 'ERR_CA_SERVING_CERT'
  | 'ERR_CA_CONFIG_INVALID'
  | 'ERR_CA_ROOT_SUPERSEDED'
  | 'ERR_CA_SECRET_WRITE';

export class CaError extends Error {
  override readonly name = 'CaError';

  constructor(
    readonly code: CaErrorCode,
    message: string,
    readonly hint?: string,
    options?: { cause?: unknown },
  ) {
    super(hint === undefined ? message : `${message} (hint: ${hint})`, options);
  }
}

/** The structured logger the CA components write to; pino's `(fields, message)` shape. */
export interface CaLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}
