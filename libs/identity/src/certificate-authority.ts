// The mesh CA behind `IstioCertificateService/CreateCertificate` (reference §3.3): it signs workload CSRs for the
// identity the caller was authenticated (or authorised to impersonate) as, and the controlplane's own serving
// certificate. Authentication and authorisation stay with the caller; this decides names, TTLs and the chain.

import { loadCaMaterial, type CaMaterial, type CaSource } from './ca-material';
import type { CaStorage } from './ca-storage';
import { certificatePem } from './certificate-info';
import { issueLeafCertificate, wholeSeconds } from './certificate-issuer';
import { decodeVerifiedCsr } from './csr';
import { describeCause, fail, ok, type Result } from './identity-error';
import { readPublicKeyPem } from './key-pair';
import { DEFAULT_TRUST_DOMAIN, formatSpiffeId, parseSpiffeId, type Identity } from './spiffe-id';
import { x509, type CryptoKey } from './x509';

/** `DEFAULT_WORKLOAD_CERT_TTL`: used when the request asks for 0 or less. */
export const DEFAULT_WORKLOAD_CERT_TTL_SECONDS = 24 * 60 * 60;
/** `MAX_WORKLOAD_CERT_TTL`: longer requests are cut to this. */
export const MAX_WORKLOAD_CERT_TTL_SECONDS = 90 * 24 * 60 * 60;
/** `CITADEL_SELF_SIGNED_CA_CERT_TTL`: ten years. */
export const SELF_SIGNED_ROOT_TTL_SECONDS = 3650 * 24 * 60 * 60;

export interface CertificateAuthorityOptions {
  /** Holds the plug-in CA files (looked for first) and the persisted self-signed root. */
  readonly storage: CaStorage;
  /** The trust domain a new self-signed root is named after. Default `cluster.local`. */
  readonly trustDomain?: string;
  /** Issuance time source; tests pass a fixed or back-dated clock. */
  readonly clock?: () => Date;
  readonly defaultTtlSeconds?: number;
  readonly maxTtlSeconds?: number;
  readonly selfSignedRootTtlSeconds?: number;
}

export interface SignWorkloadRequest {
  /** PEM PKCS#10 from `IstioCertificateRequest.csr`; its own signature must verify. */
  readonly csrPem: string;
  /** The identity to certify. As in istiod it alone decides the SAN; SANs inside the CSR are ignored. */
  readonly identity: Identity;
  /** `validity_duration`; ≤ 0 or absent means the default TTL, more than the maximum is capped. */
  readonly ttlSeconds?: number;
}

/** A serving certificate for DNS names, e.g. the controlplane's `istiod.<ns>.svc` on 15012. */
export type SignServingRequest = {
  readonly dnsNames: readonly string[];
  readonly ttlSeconds?: number;
} & ({ readonly csrPem: string } | { readonly publicKey: CryptoKey | string });

export interface IssuedCertificate {
  /** As in `IstioCertificateResponse.cert_chain`: leaf first, intermediates, root(s) last; one PEM each, "\n"-ended. */
  readonly certChain: string[];
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export interface CertificateAuthority {
  readonly source: CaSource;
  /** The trust bundle workloads and clients of 15012 must trust (`istio-ca-root-cert` / `root-cert.pem`). */
  readonly rootCertPem: string;
  sign(request: SignWorkloadRequest): Promise<Result<IssuedCertificate>>;
  signServing(request: SignServingRequest): Promise<Result<IssuedCertificate>>;
}

const MS_PER_SECOND = 1000;
// RFC 1123 host names, optionally with one leading wildcard label.
const DNS_NAME = /^(\*\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;
const MAX_DNS_NAME_LENGTH = 253;

/** istiod's TTL rule: non-positive means the default, anything above the maximum is capped to it. */
export function resolveCertTtlSeconds(
  requested: number | undefined,
  limits: { readonly defaultTtlSeconds: number; readonly maxTtlSeconds: number },
): number {
  if (requested !== undefined && !Number.isFinite(requested)) {
    throw new RangeError(`ttlSeconds must be finite, got ${requested}`);
  }
  const ttl = requested === undefined || requested <= 0 ? limits.defaultTtlSeconds : Math.floor(requested);
  return Math.min(ttl, limits.maxTtlSeconds);
}

/**
 * Start the CA: the plug-in CA if any `cacerts` file is in storage, else the persisted self-signed root, else a new
 * root that is persisted so a restart keeps it. Resolves an error for unusable material or a failing storage.
 */
export async function createCertificateAuthority(
  options: CertificateAuthorityOptions,
): Promise<Result<CertificateAuthority>> {
  const clock = options.clock ?? (() => new Date());
  const limits = {
    defaultTtlSeconds: positive(options.defaultTtlSeconds ?? DEFAULT_WORKLOAD_CERT_TTL_SECONDS, 'defaultTtlSeconds'),
    maxTtlSeconds: positive(options.maxTtlSeconds ?? MAX_WORKLOAD_CERT_TTL_SECONDS, 'maxTtlSeconds'),
  };
  const material = await loadCaMaterial({
    storage: options.storage,
    now: clock(),
    trustDomain: options.trustDomain ?? DEFAULT_TRUST_DOMAIN,
    selfSignedRootTtlSeconds: positive(
      options.selfSignedRootTtlSeconds ?? SELF_SIGNED_ROOT_TTL_SECONDS,
      'selfSignedRootTtlSeconds',
    ),
  });
  if (!material.ok) return material;
  const ca = material.value;

  const issue = async (
    publicKey: x509.PublicKey | CryptoKey,
    names: { uriSans?: string[]; dnsSans?: readonly string[] },
    requestedTtl: number | undefined,
  ): Promise<Result<IssuedCertificate>> => {
    const notBefore = wholeSeconds(clock());
    const notAfter = new Date(notBefore.getTime() + resolveCertTtlSeconds(requestedTtl, limits) * MS_PER_SECOND);
    try {
      const leaf = await issueLeafCertificate({ issuer: ca.issuer, publicKey, ...names, notBefore, notAfter });
      return ok({ certChain: responseChain(ca, leaf), serialNumber: leaf.serialNumber, notBefore, notAfter });
    } catch (cause) {
      // istiod's CertGenError: the request was valid but the certificate could not be built or signed.
      return fail('ERR_CERT_GENERATION', `issuing the certificate failed: ${describeCause(cause)}`);
    }
  };

  return ok({
    source: ca.source,
    rootCertPem: ca.roots.map(certificatePem).join(''),
    async sign(request) {
      const spiffeId = formatSpiffeId(request.identity);
      const valid = parseSpiffeId(spiffeId);
      if (!valid.ok) {
        return fail('ERR_SIGN_REQUEST_INVALID', `identity to certify is malformed: ${valid.error.message}`);
      }
      const csr = await decodeVerifiedCsr(request.csrPem);
      if (!csr.ok) return csr;
      return issue(csr.value.request.publicKey, { uriSans: [spiffeId] }, request.ttlSeconds);
    },
    async signServing(request) {
      const badName = request.dnsNames.find((name) => name.length > MAX_DNS_NAME_LENGTH || !DNS_NAME.test(name));
      if (request.dnsNames.length === 0 || badName !== undefined) {
        return fail(
          'ERR_SIGN_REQUEST_INVALID',
          badName === undefined
            ? 'dnsNames is empty: a serving certificate needs at least one DNS name'
            : `dnsNames holds "${badName}", which is not a DNS name`,
          'e.g. istiod.istio-system.svc',
        );
      }
      const publicKey = await servingPublicKey(request);
      if (!publicKey.ok) return publicKey;
      return issue(publicKey.value, { dnsSans: request.dnsNames }, request.ttlSeconds);
    },
  });
}

/** Leaf, then intermediates, then each root; every element one certificate ending in "\n", as istiod splits them. */
function responseChain(ca: CaMaterial, leaf: x509.X509Certificate): string[] {
  return [leaf, ...ca.intermediates, ...ca.roots].map(certificatePem);
}

async function servingPublicKey(request: SignServingRequest): Promise<Result<x509.PublicKey | CryptoKey>> {
  if ('csrPem' in request) {
    const csr = await decodeVerifiedCsr(request.csrPem);
    return csr.ok ? ok(csr.value.request.publicKey) : csr;
  }
  if (typeof request.publicKey === 'string') return readPublicKeyPem(request.publicKey, 'publicKey');
  if (request.publicKey.type !== 'public') {
    const hint = 'pass the public half of the key pair';
    return fail('ERR_KEY_INVALID', `publicKey is a ${request.publicKey.type} key`, hint);
  }
  return ok(request.publicKey);
}

function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${name} must be a positive number of seconds, got ${value}`);
  }
  return value;
}
