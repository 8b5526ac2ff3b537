// Public entry of @weft/identity: SPIFFE identities, workload keys and CSRs, the mesh CA, peer chain and SAN
// verification, and the certificate renewal schedule. Pure: storage and clocks are passed in.
export type { IdentityError, IdentityErrorCode, Result } from './identity-error';
export {
  DEFAULT_SERVICE_ACCOUNT,
  DEFAULT_TRUST_DOMAIN,
  SPIFFE_SCHEME,
  formatPrincipal,
  formatSpiffeId,
  identitiesEqual,
  identityFromWorkload,
  parsePrincipal,
  parseSpiffeId,
  type Identity,
} from './spiffe-id';
export {
  WORKLOAD_KEY_ALGORITHM,
  WORKLOAD_SIGNING_ALGORITHM,
  exportPrivateKeyPem,
  exportPublicKeyPem,
  generateKeyPair,
  importPrivateKeyPem,
  type SigningAlgorithm,
  type SigningKeyPair,
} from './key-pair';
export { createCsr, verifyCsr, type CreateCsrOptions, type CsrInfo } from './csr';
export { PLUGGED_CA_FILES, SELF_SIGNED_CA_FILES, createMemoryCaStorage, type CaStorage } from './ca-storage';
export type { CaSource } from './ca-material';
export {
  DEFAULT_WORKLOAD_CERT_TTL_SECONDS,
  MAX_WORKLOAD_CERT_TTL_SECONDS,
  SELF_SIGNED_ROOT_TTL_SECONDS,
  createCertificateAuthority,
  resolveCertTtlSeconds,
  type CertificateAuthority,
  type CertificateAuthorityOptions,
  type IssuedCertificate,
  type SignServingRequest,
  type SignWorkloadRequest,
} from './certificate-authority';
export {
  MAX_INTERMEDIATES,
  verifyPeerChain,
  type CertificateUsage,
  type VerifyPeerChainOptions,
} from './chain-verification';
export { certificateInfo, parsePemBundle, type CertificateInfo } from './certificate-info';
export {
  CERT_FETCH_BACKOFF_FACTOR,
  CERT_FETCH_BACKOFF_INITIAL_MS,
  CERT_FETCH_BACKOFF_JITTER,
  CERT_FETCH_BACKOFF_MAX_MS,
  createBackoff,
  renewalTime,
  type Backoff,
  type BackoffOptions,
} from './rotation';
export type { CryptoKey, CryptoKeyPair } from './x509';
