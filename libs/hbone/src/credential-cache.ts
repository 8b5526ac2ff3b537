// Workload certificates as TLS material: ONE tls.SecureContext per identity, shared by every inbound and outbound
// connection of that identity and replaced when its certificate rotates (connections already up keep the old one).
// Each credential carries its own trust roots: the data-plane trust store comes from the CA response (reference §3.5).

import { createSecureContext, type SecureContext } from 'node:tls';
import { certificateInfo, formatSpiffeId, type Identity } from '@weft/identity';
import { HboneError, errorText } from './hbone-error';

/** TLS 1.3 only, with the two suites ztunnel enables (reference §2.1), in its order. */
export const HBONE_TLS_CIPHERSUITES = 'TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256';
/** The only ALPN protocol either side offers. */
export const HBONE_ALPN = 'h2';

/** The material a CA response gives for one workload identity. */
export interface WorkloadCertificate {
  readonly identity: Identity;
  /** PKCS#8 (or SEC1) PEM of the workload key, ECDSA P-256 for certificates ztunnel requests. */
  readonly privateKeyPem: string;
  /** Leaf first, then intermediates; each element one PEM (a bundle in one element works too). */
  readonly certChainPem: readonly string[];
  /** The roots peers of this identity are verified against (the last `cert_chain` element, split or not). */
  readonly rootsPem: readonly string[];
}

/** A certificate turned into the context every connection of the identity uses. */
export interface WorkloadCredential {
  readonly identity: Identity;
  /** `spiffe://<td>/ns/<ns>/sa/<sa>`. */
  readonly spiffeId: string;
  readonly secureContext: SecureContext;
  readonly rootsPem: readonly string[];
  readonly certificate: WorkloadCertificate;
  /** 1 for the first certificate of the identity, incremented at every rotation. */
  readonly generation: number;
  readonly notAfter: Date;
}

export interface CredentialCache {
  /**
   * Install or rotate the certificate of `certificate.identity`; returns the new credential. Throws
   * `ERR_HBONE_CERTIFICATE_INVALID` when the leaf does not carry the identity's SPIFFE URI SAN or the key does not
   * match it, so a bad CA response never replaces a working certificate.
   */
  set(certificate: WorkloadCertificate): WorkloadCredential;
  /** The current credential of an identity, if any. */
  get(identity: Identity): WorkloadCredential | undefined;
  /** Resolves with the credential as soon as one is set; rejects `ERR_HBONE_ABORTED` when `signal` fires first. */
  ready(identity: Identity, signal?: AbortSignal): Promise<WorkloadCredential>;
  /** Forget an identity (its workload left the node). Connections already up are unaffected. */
  delete(identity: Identity): boolean;
  identities(): Identity[];
}

interface Waiter {
  readonly resolve: (credential: WorkloadCredential) => void;
}

export function createCredentialCache(): CredentialCache {
  const credentials = new Map<string, WorkloadCredential>();
  const waiters = new Map<string, Set<Waiter>>();

  return {
    set(certificate) {
      const spiffeId = formatSpiffeId(certificate.identity);
      const leaf = certificateInfo(certificate.certChainPem[0] ?? '', `certificate of ${spiffeId}`);
      if (!leaf.ok) throw new HboneError('ERR_HBONE_CERTIFICATE_INVALID', leaf.error.message);
      if (!leaf.value.uriSans.includes(spiffeId)) {
        throw new HboneError(
          'ERR_HBONE_CERTIFICATE_INVALID',
          `certificate for ${spiffeId} carries URI SANs [${leaf.value.uriSans.join(', ')}]`,
          { hint: 'the CA signed another identity than the one requested (ImpersonatedIdentity)' },
        );
      }
      if (certificate.rootsPem.length === 0) {
        throw new HboneError('ERR_HBONE_CERTIFICATE_INVALID', `certificate for ${spiffeId} comes without roots`);
      }
      let secureContext: SecureContext;
      try {
        secureContext = createSecureContext({
          key: certificate.privateKeyPem,
          cert: certificate.certChainPem.join(''),
          ca: [...certificate.rootsPem],
          minVersion: 'TLSv1.3',
          maxVersion: 'TLSv1.3',
          // node:tls takes TLS 1.3 suites (the TLS_ names) in `ciphers`; with only those, TLS 1.2 has none.
          ciphers: HBONE_TLS_CIPHERSUITES,
        });
      } catch (cause) {
        throw new HboneError('ERR_HBONE_CERTIFICATE_INVALID', `certificate for ${spiffeId}: ${errorText(cause)}`, {
          cause,
          hint: 'the private key must match the leaf certificate',
        });
      }
      const credential: WorkloadCredential = {
        identity: certificate.identity,
        spiffeId,
        secureContext,
        rootsPem: certificate.rootsPem,
        certificate,
        generation: (credentials.get(spiffeId)?.generation ?? 0) + 1,
        notAfter: leaf.value.notAfter,
      };
      credentials.set(spiffeId, credential);
      const pending = waiters.get(spiffeId);
      waiters.delete(spiffeId);
      for (const waiter of pending ?? []) waiter.resolve(credential);
      return credential;
    },
    get: (identity) => credentials.get(formatSpiffeId(identity)),
    ready(identity, signal) {
      const spiffeId = formatSpiffeId(identity);
      const current = credentials.get(spiffeId);
      if (current !== undefined) return Promise.resolve(current);
      return new Promise((resolve, reject) => {
        const aborted = (): HboneError =>
          new HboneError('ERR_HBONE_ABORTED', `gave up waiting for the certificate of ${spiffeId}`);
        if (signal?.aborted === true) return reject(aborted());
        const set = waiters.get(spiffeId) ?? new Set<Waiter>();
        waiters.set(spiffeId, set);
        const onAbort = (): void => {
          set.delete(waiter);
          if (set.size === 0 && waiters.get(spiffeId) === set) waiters.delete(spiffeId);
          reject(aborted());
        };
        const waiter: Waiter = {
          resolve: (credential) => {
            signal?.removeEventListener('abort', onAbort);
            resolve(credential);
          },
        };
        set.add(waiter);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
    delete: (identity) => credentials.delete(formatSpiffeId(identity)),
    identities: () => [...credentials.values()].map((c) => c.identity),
  };
}
