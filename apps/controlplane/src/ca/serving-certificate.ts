// The controlplane's own TLS certificate for 15012 (reference §1.3): signed by the mesh CA so ztunnel, which trusts
// `istio-ca-root-cert`, accepts it; DNS SANs `istiod.<ns>.svc` (what ztunnel dials by default) and our own name.

import {
  DEFAULT_WORKLOAD_CERT_TTL_SECONDS,
  exportPrivateKeyPem,
  generateKeyPair,
  parsePemBundle,
  renewalTime,
  type CertificateAuthority,
} from '@weft/identity';

import { CaError } from './ca-error';

export interface ServingCertificateOptions {
  readonly ca: Pick<CertificateAuthority, 'signServing' | 'rootCertPem'>;
  /** The controlplane's namespace, e.g. `istio-system`. */
  readonly namespace: string;
  /** More DNS names clients dial (e.g. an external load balancer's name). */
  readonly extraDnsNames?: readonly string[];
  readonly ttlSeconds?: number;
  readonly clock?: () => Date;
}

/** Inputs for `grpc.ServerCredentials.createSsl(rootCerts, [{ private_key, cert_chain }])`, as PEM text. */
export interface ServingCertificate {
  readonly privateKeyPem: string;
  /** Leaf then intermediates; the root is left out, clients already hold it. */
  readonly certChainPem: string;
  /** The mesh root bundle, for clients (and `istio-ca-root-cert`). */
  readonly rootCertPem: string;
  readonly dnsNames: readonly string[];
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Half-life, as ztunnel renews its own certificates. */
  readonly renewAt: Date;
}

/**
 * `istiod.<ns>.svc` (the `CA_ADDRESS`/discovery address ztunnel dials), `weft-controlplane.<ns>.svc`, the extras and
 * `localhost`, deduplicated in that order.
 */
export function servingDnsNames(namespace: string, extraDnsNames: readonly string[] = []): string[] {
  return [...new Set([`istiod.${namespace}.svc`, `weft-controlplane.${namespace}.svc`, ...extraDnsNames, 'localhost'])];
}

/** Issue a fresh key and serving certificate. Throws `ERR_CA_SERVING_CERT` when the CA refuses (e.g. a bad name). */
export async function issueServingCertificate(options: ServingCertificateOptions): Promise<ServingCertificate> {
  const dnsNames = servingDnsNames(options.namespace, options.extraDnsNames);
  const keys = await generateKeyPair();
  const issued = await options.ca.signServing({
    dnsNames,
    publicKey: keys.publicKey,
    ttlSeconds: options.ttlSeconds ?? DEFAULT_WORKLOAD_CERT_TTL_SECONDS,
  });
  if (!issued.ok) {
    const { code, message, hint } = issued.error;
    throw new CaError('ERR_CA_SERVING_CERT', `cannot issue the 15012 serving certificate: ${code}: ${message}`, hint);
  }
  const roots = parsePemBundle(options.ca.rootCertPem, 'mesh root bundle');
  const rootSet = new Set(roots.ok ? roots.value.map(normalise) : []);
  const chain = issued.value.certChain.filter((pem) => !rootSet.has(normalise(pem)));
  return {
    privateKeyPem: await exportPrivateKeyPem(keys.privateKey),
    certChainPem: chain.join(''),
    rootCertPem: options.ca.rootCertPem,
    dnsNames,
    notBefore: issued.value.notBefore,
    notAfter: issued.value.notAfter,
    renewAt: renewalTime(issued.value.notBefore, issued.value.notAfter),
  };
}

function normalise(pem: string): string {
  return pem.replace(/\s+/g, '');
}
