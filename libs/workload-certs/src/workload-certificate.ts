// What the certificate manager hands out and shows: a workload's key, chain and roots ready for node:tls, the change
// events the HBONE layer rebuilds its SecureContext on, and the /config_dump `certificates` rows (reference §8.4).

import type { CertificateInfo, Identity } from '@weft/identity';

import type { CertificateError } from './certificate-error';

/**
 * One identity's certificate; node:tls takes `key: privateKeyPem`, `cert: certChainPem.join('')`, `ca: rootsPem`.
 * Structurally a @weft/hbone `WorkloadCertificate`, so it goes to `CredentialCache.set` as it is.
 */
export interface WorkloadCertificate {
  readonly identity: Identity;
  /** `spiffe://<td>/ns/<ns>/sa/<sa>`, the leaf's only URI SAN. */
  readonly spiffeId: string;
  /** PKCS#8 PEM of the P-256 key; never logged or dumped. */
  readonly privateKeyPem: string;
  /** Leaf first, then intermediates; one PEM each. */
  readonly certChainPem: readonly string[];
  /** This identity's peer trust store: the roots of the CreateCertificate response (reference §3.5). */
  readonly rootsPem: readonly string[];
  /** The leaf's serial, lowercase hex. */
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Half-life, when the manager renews it. */
  readonly refreshAt: Date;
  readonly chain: readonly CertificateInfo[];
  readonly roots: readonly CertificateInfo[];
}

/** What the HBONE layer reacts to: install (issued), replace its SecureContext (rotated), or drop (forgotten). */
export type CertificateChange =
  | {
      readonly kind: 'issued' | 'rotated';
      readonly identity: Identity;
      readonly spiffeId: string;
      readonly certificate: WorkloadCertificate;
    }
  | { readonly kind: 'forgotten'; readonly identity: Identity; readonly spiffeId: string };

/** One certificate of a /config_dump row. */
export interface CertificateDumpEntry {
  readonly pem: string;
  readonly serialNumber: string;
  /** RFC 3339. */
  readonly validFrom: string;
  readonly expirationTime: string;
}

/** A /config_dump `certificates` row, ztunnel's shape: state is Initializing, Available or `Unavailable: <why>`. */
export interface CertificateDump {
  readonly identity: string;
  readonly state: string;
  readonly certChain: readonly CertificateDumpEntry[];
  readonly rootCerts: readonly CertificateDumpEntry[];
}

/** pino's `(fields, message)` shape, so the app passes a child logger as it is. */
export interface CertificateLogger {
  debug(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

function dumpEntry(info: CertificateInfo): CertificateDumpEntry {
  return {
    pem: info.pem,
    serialNumber: info.serialNumber,
    validFrom: info.notBefore.toISOString(),
    expirationTime: info.notAfter.toISOString(),
  };
}

/** The dump row of one identity; an expired certificate is shown, but the state says it is not usable. */
export function dumpCertificate(
  identity: string,
  certificate: WorkloadCertificate | undefined,
  lastError: CertificateError | undefined,
  now: Date,
): CertificateDump {
  let state: string;
  if (certificate !== undefined && now < certificate.notAfter) state = 'Available';
  else if (certificate !== undefined) state = `Unavailable: certificate expired at ${certificate.notAfter.toISOString()}`;
  else if (lastError !== undefined) state = `Unavailable: ${lastError.message}`;
  else state = 'Initializing';
  return {
    identity,
    state,
    certChain: certificate?.chain.map(dumpEntry) ?? [],
    rootCerts: certificate?.roots.map(dumpEntry) ?? [],
  };
}
