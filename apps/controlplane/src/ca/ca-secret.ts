// istiod's Secret for its self-signed root (`istio-ca-secret`, security/pkg/pki/ca/ca.go): which CA storage names
// live in it and under which keys, the object written on first start, and reading it back. Pure; the API calls are
// in secret-ca-storage.ts.

import { SELF_SIGNED_CA_FILES } from '@weft/identity';
import type { KubeObject } from '@weft/mesh-config';

/** istiod's `istioCASecretType`. */
export const ISTIO_CA_SECRET_TYPE = 'istio.io/ca-root';

/** The keys istiod's `BuildSecret` writes (ca.go `CACertFile`, `CAPrivateKeyFile`, `RootCertFile`, …). */
export const ISTIO_CA_SECRET_KEYS = {
  caCert: 'ca-cert.pem',
  caKey: 'ca-key.pem',
  rootCert: 'root-cert.pem',
  certChain: 'cert-chain.pem',
  privateKey: 'key.pem',
} as const;

/** Which Secret in which namespace. */
export interface CaSecretRef {
  readonly namespace: string;
  readonly name: string;
}

/** A self-signed root: the certificate and its private key, PEM. */
export interface CaRootPair {
  readonly certPem: string;
  readonly keyPem: string;
}

/**
 * Where a CA storage name is kept when the root lives in a Secret: the self-signed root under istiod's key names,
 * everything else (the plug-in `cacerts` files) in the CA directory.
 */
export type CaStorageRoute = { readonly to: 'directory' } | { readonly to: 'secret'; readonly key: string };

export function routeCaStorageName(name: string): CaStorageRoute {
  if (name === SELF_SIGNED_CA_FILES.cert) return { to: 'secret', key: ISTIO_CA_SECRET_KEYS.caCert };
  if (name === SELF_SIGNED_CA_FILES.key) return { to: 'secret', key: ISTIO_CA_SECRET_KEYS.caKey };
  return { to: 'directory' };
}

/**
 * The Secret as istiod creates it (`BuildSecret(CASecret, ns, nil, nil, cert, cert, key, istioCASecretType)`: the
 * root is also `root-cert.pem`, the chain and leaf key are empty), so istiod can take over a Weft root and Weft an
 * istiod one.
 */
export function buildCaSecret(ref: CaSecretRef, root: CaRootPair): KubeObject {
  const base64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: ref.name, namespace: ref.namespace },
    type: ISTIO_CA_SECRET_TYPE,
    data: {
      [ISTIO_CA_SECRET_KEYS.certChain]: '',
      [ISTIO_CA_SECRET_KEYS.privateKey]: '',
      [ISTIO_CA_SECRET_KEYS.rootCert]: base64(root.certPem),
      [ISTIO_CA_SECRET_KEYS.caCert]: base64(root.certPem),
      [ISTIO_CA_SECRET_KEYS.caKey]: base64(root.keyPem),
    },
  };
}

/** One key of a Secret as the API returns it (base64 `data`); `undefined` when the Secret or the key is absent. */
export function caSecretValue(secret: KubeObject | undefined, key: string): string | undefined {
  const data = secret?.['data'];
  if (typeof data !== 'object' || data === null) return undefined;
  const value: unknown = (data as Record<string, unknown>)[key];
  return typeof value === 'string' ? Buffer.from(value, 'base64').toString('utf8') : undefined;
}

/**
 * Who owns the root in a Secret read back after writing `written`: `ours`, `theirs` (another controlplane or istiod
 * created a complete root first, which must be used instead), or `none` (no complete root: the write failed).
 */
export type CaSecretOwner = 'ours' | 'theirs' | 'none';

export function caSecretOwner(stored: KubeObject | undefined, written: CaRootPair): CaSecretOwner {
  const certPem = caSecretValue(stored, ISTIO_CA_SECRET_KEYS.caCert) ?? '';
  const keyPem = caSecretValue(stored, ISTIO_CA_SECRET_KEYS.caKey) ?? '';
  if (certPem === written.certPem && keyPem === written.keyPem) return 'ours';
  // Blank counts as absent, as the CA reads it.
  if (certPem.trim() === '' || keyPem.trim() === '') return 'none';
  return 'theirs';
}
