// The typed errors of workload certificates (ztunnel's, and a waypoint's own). Codes are stable: the HBONE layer
// maps them to connection outcomes and operators grep for them; never match on `message`.

/**
 * - `ERR_CERT_IDENTITY_INVALID`: the identity asked for is not `spiffe://<td>/ns/<ns>/sa/<sa>`.
 * - `ERR_CERT_FETCH_TIMEOUT`: `get` waited its whole timeout without a usable certificate.
 * - `ERR_CERT_FETCH_FAILED`: the CreateCertificate call failed (`grpcCode` says how).
 * - `ERR_CERT_TOKEN_UNAVAILABLE`: the caller's own bearer token could not be read.
 * - `ERR_CERT_CSR_FAILED`: the key pair or CSR could not be generated.
 * - `ERR_CERT_SAN_MISMATCH`: the CA returned a leaf for another identity than the one asked for.
 * - `ERR_CERT_CHAIN_INVALID`: the response is malformed or its chain does not verify to the returned root.
 * - `ERR_CERT_FORGOTTEN`: the identity was forgotten (its last local workload left) while a caller waited.
 * - `ERR_CERT_MANAGER_CLOSED`: the manager was closed.
 */
export type CertificateErrorCode =
  | 'ERR_CERT_IDENTITY_INVALID'
  | 'ERR_CERT_FETCH_TIMEOUT'
  | 'ERR_CERT_FETCH_FAILED'
  | 'ERR_CERT_TOKEN_UNAVAILABLE'
  | 'ERR_CERT_CSR_FAILED'
  | 'ERR_CERT_SAN_MISMATCH'
  | 'ERR_CERT_CHAIN_INVALID'
  | 'ERR_CERT_FORGOTTEN'
  | 'ERR_CERT_MANAGER_CLOSED';

export class CertificateError extends Error {
  override readonly name = 'CertificateError';

  constructor(
    readonly code: CertificateErrorCode,
    message: string,
    /** What an operator can check, when there is something useful to say. */
    readonly hint?: string,
    /** The gRPC status of a failed CreateCertificate call. */
    readonly grpcCode?: number,
    /** For ERR_CERT_FETCH_TIMEOUT: the last attempt's error, when one failed. */
    override readonly cause?: CertificateError,
  ) {
    super(hint === undefined ? message : `${message} (hint: ${hint})`);
  }
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
