// Public entry of @weft/workload-certs: workload certificates from the mesh CA (reference §3.2–3.5) — a fresh P-256
// key and CSR per fetch, CreateCertificate with or without `ImpersonatedIdentity`, the returned SAN and chain checked,
// renewal at half-life with per-identity backoff, change events for the HBONE credential cache and /config_dump rows.
// Used by ztunnel (every local workload's identity) and the waypoint (its own identity).
export {
  DEFAULT_CERT_TTL_SECONDS,
  DEFAULT_CERT_WAIT_TIMEOUT_MS,
  createCertificateManager,
  type CertificateManager,
  type CertificateManagerOptions,
  type GetCertificateOptions,
} from './certificate-manager';
export { CertificateError, type CertificateErrorCode } from './certificate-error';
export { CA_CALL_TIMEOUT_MS, createCaClient, type CaClient, type CaClientOptions } from './ca-client';
export { fetchCertificate, type FetchContext } from './certificate-fetch';
export { checkCertificateResponse, type ChainCheck, type CheckedChain } from './certificate-response';
export { FetchLimiter, MAX_CONCURRENT_FETCHES, type FetchPriority } from './fetch-limiter';
export {
  dumpCertificate,
  type CertificateChange,
  type CertificateDump,
  type CertificateDumpEntry,
  type CertificateLogger,
  type WorkloadCertificate,
} from './workload-certificate';
