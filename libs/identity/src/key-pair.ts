// Workload and CA keys: ztunnel generates one ECDSA P-256 key per identity (reference §3.4); a plug-in CA key may be
// any of the types Istio's tooling produces (RSA from `tools/certs`, EC from cert-manager), in any PEM encoding.

import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { describeCause, fail, ok, type Result } from './identity-error';
import { subtle, x509, type CryptoKey, type CryptoKeyPair } from './x509';

/** The key algorithm of every workload key: ECDSA over P-256, signed with SHA-256 (ztunnel `tls/csr.rs`). */
export const WORKLOAD_KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;

/** How a key signs certificates and CSRs: the hash follows the key size, as Go's crypto/x509 chooses it. */
export type SigningAlgorithm =
  | { readonly name: 'ECDSA'; readonly hash: 'SHA-256' | 'SHA-384' | 'SHA-512' }
  | { readonly name: 'RSASSA-PKCS1-v1_5'; readonly hash: 'SHA-256' };

/** A key pair together with the algorithm its private half signs with. */
export interface SigningKeyPair {
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly signingAlgorithm: SigningAlgorithm;
}

const PEM_LINE_LENGTH = 64;
const EC_CURVES: Readonly<Record<string, { webCrypto: string; hash: 'SHA-256' | 'SHA-384' | 'SHA-512' }>> = {
  prime256v1: { webCrypto: 'P-256', hash: 'SHA-256' },
  secp384r1: { webCrypto: 'P-384', hash: 'SHA-384' },
  secp521r1: { webCrypto: 'P-521', hash: 'SHA-512' },
};
const RSA_PARAMS = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;

/**
 * A fresh ECDSA P-256 key pair. Extractable, because the proxy hands the private key to `node:tls` as PKCS#8 PEM.
 */
export async function generateKeyPair(): Promise<CryptoKeyPair> {
  return subtle.generateKey(WORKLOAD_KEY_ALGORITHM, true, ['sign', 'verify']);
}

/** The signing algorithm of a freshly generated workload key. */
export const WORKLOAD_SIGNING_ALGORITHM: SigningAlgorithm = { name: 'ECDSA', hash: 'SHA-256' };

/** PKCS#8 `-----BEGIN PRIVATE KEY-----` PEM, ending in a newline. The key must be extractable. */
export async function exportPrivateKeyPem(privateKey: CryptoKey): Promise<string> {
  return toPem('PRIVATE KEY', await subtle.exportKey('pkcs8', privateKey));
}

/** SPKI `-----BEGIN PUBLIC KEY-----` PEM, ending in a newline. */
export async function exportPublicKeyPem(publicKey: CryptoKey): Promise<string> {
  return toPem('PUBLIC KEY', await subtle.exportKey('spki', publicKey));
}

/**
 * Read a PEM private key — PKCS#8 (`PRIVATE KEY`), SEC1 (`EC PRIVATE KEY`) or PKCS#1 (`RSA PRIVATE KEY`) — and
 * derive its public half. `source` names the input in errors (e.g. `ca-key.pem`). Encrypted keys are refused.
 */
export async function importPrivateKeyPem(pem: string, source = 'private key'): Promise<Result<SigningKeyPair>> {
  let keyObject: KeyObject;
  try {
    keyObject = createPrivateKey({ key: pem, format: 'pem' });
  } catch (cause) {
    return fail(
      'ERR_KEY_INVALID',
      `${source} is not a readable PEM private key: ${describeCause(cause)}`,
      'expected an unencrypted PKCS#8, SEC1 (EC) or PKCS#1 (RSA) PEM key',
    );
  }
  const params = importParamsFor(keyObject);
  if (!params.ok) return fail(params.error.code, `${source}: ${params.error.message}`, params.error.hint);
  try {
    const pkcs8 = keyObject.export({ type: 'pkcs8', format: 'der' });
    const spki = createPublicKey(keyObject).export({ type: 'spki', format: 'der' });
    const privateKey = await subtle.importKey('pkcs8', pkcs8, params.value.importParams, true, ['sign']);
    const publicKey = await subtle.importKey('spki', spki, params.value.importParams, true, ['verify']);
    return ok({ privateKey, publicKey, signingAlgorithm: params.value.signingAlgorithm });
  } catch (cause) {
    return fail('ERR_KEY_INVALID', `${source} could not be loaded into WebCrypto: ${describeCause(cause)}`);
  }
}

/**
 * Read a SPKI PEM public key (`-----BEGIN PUBLIC KEY-----`) for certificate issuance. `source` names the input.
 */
export function readPublicKeyPem(pem: string, source = 'public key'): Result<x509.PublicKey> {
  try {
    return ok(new x509.PublicKey(pem));
  } catch (cause) {
    return fail('ERR_KEY_INVALID', `${source} is not a PEM SubjectPublicKeyInfo: ${describeCause(cause)}`);
  }
}

function importParamsFor(
  keyObject: KeyObject,
): Result<{ importParams: { name: string; namedCurve?: string; hash?: string }; signingAlgorithm: SigningAlgorithm }> {
  const type = keyObject.asymmetricKeyType;
  if (type === 'ec') {
    const curveName = keyObject.asymmetricKeyDetails?.namedCurve ?? 'unknown';
    const curve = EC_CURVES[curveName];
    if (curve === undefined) {
      const hint = 'use P-256 (prime256v1), P-384 or P-521';
      return fail('ERR_KEY_UNSUPPORTED', `EC curve "${curveName}" is not supported`, hint);
    }
    return ok({
      importParams: { name: 'ECDSA', namedCurve: curve.webCrypto },
      signingAlgorithm: { name: 'ECDSA', hash: curve.hash },
    });
  }
  if (type === 'rsa') return ok({ importParams: { ...RSA_PARAMS }, signingAlgorithm: { ...RSA_PARAMS } });
  return fail('ERR_KEY_UNSUPPORTED', `key type "${type ?? 'unknown'}" is not supported`, 'use an ECDSA or RSA key');
}

function toPem(label: string, der: ArrayBuffer): string {
  const base64 = Buffer.from(der).toString('base64');
  const lines: string[] = [];
  for (let offset = 0; offset < base64.length; offset += PEM_LINE_LENGTH) {
    lines.push(base64.slice(offset, offset + PEM_LINE_LENGTH));
  }
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
