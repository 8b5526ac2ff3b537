// The one error and result shape of @weft/identity. Every public function reports a bad input, a bad certificate or
// a failed storage call as a value with a stable code; only programmer errors (a NaN TTL, a missing argument) throw.

/**
 * Stable codes; an operator can grep for them and a caller can switch on them. Never match on `message`.
 *
 * - `ERR_SPIFFE_ID_INVALID`: a string is not `spiffe://<td>/ns/<ns>/sa/<sa>`.
 * - `ERR_KEY_INVALID` / `ERR_KEY_UNSUPPORTED`: a private or public key cannot be read, or is of a type the mesh
 *   does not sign with (ECDSA P-256/P-384/P-521 and RSA are supported).
 * - `ERR_CSR_INVALID`: the CSR is not a PEM PKCS#10 request; `ERR_CSR_SIGNATURE`: its self-signature is wrong.
 * - `ERR_CA_FILES_INCOMPLETE` / `ERR_CA_INVALID`: the plug-in CA files (Istio's `cacerts` layout) are partly
 *   missing, or do not form a signing certificate, its key and a chain to the root.
 * - `ERR_CA_STORAGE`: reading or writing the CA storage failed.
 * - `ERR_SIGN_REQUEST_INVALID`: a signing request names a malformed identity, no DNS name or a malformed one.
 * - `ERR_CERT_GENERATION`: a valid request could not be turned into a signed certificate (istiod `CertGenError`).
 * - Peer-chain verification: `ERR_CERT_PARSE`, `ERR_CHAIN_UNTRUSTED`, `ERR_CERT_EXPIRED`, `ERR_CERT_NOT_YET_VALID`,
 *   `ERR_CERT_WRONG_USAGE` (extended key usage lacks serverAuth/clientAuth), `ERR_NO_SPIFFE_ID`,
 *   `ERR_TRUST_DOMAIN_MISMATCH`, `ERR_SAN_MISMATCH`.
 */
export type IdentityErrorCode =
  | 'ERR_SPIFFE_ID_INVALID'
  | 'ERR_KEY_INVALID'
  | 'ERR_KEY_UNSUPPORTED'
  | 'ERR_CSR_INVALID'
  | 'ERR_CSR_SIGNATURE'
  | 'ERR_CA_FILES_INCOMPLETE'
  | 'ERR_CA_INVALID'
  | 'ERR_CA_STORAGE'
  | 'ERR_SIGN_REQUEST_INVALID'
  | 'ERR_CERT_GENERATION'
  | 'ERR_CERT_PARSE'
  | 'ERR_CHAIN_UNTRUSTED'
  | 'ERR_CERT_EXPIRED'
  | 'ERR_CERT_NOT_YET_VALID'
  | 'ERR_CERT_WRONG_USAGE'
  | 'ERR_NO_SPIFFE_ID'
  | 'ERR_TRUST_DOMAIN_MISMATCH'
  | 'ERR_SAN_MISMATCH';

/** A failure written for an operator: `message` names the input at fault, `hint` suggests the likely fix. */
export interface IdentityError {
  readonly code: IdentityErrorCode;
  readonly message: string;
  readonly hint?: string;
}

/** The outcome of every fallible public function. */
export type Result<T, E = IdentityError> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: E };

export function ok<T>(value: T): { readonly ok: true; readonly value: T } {
  return { ok: true, value };
}

export function fail(
  code: IdentityErrorCode,
  message: string,
  hint?: string,
): { readonly ok: false; readonly error: IdentityError } {
  const error: IdentityError = hint === undefined ? { code, message } : { code, message, hint };
  return { ok: false, error };
}

/** The text of whatever a dependency threw, for embedding in an operator-facing message. */
export function describeCause(cause: unknown): string {
  if (cause instanceof Error) return cause.message;
  return String(cause);
}
