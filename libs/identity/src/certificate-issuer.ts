// Minting X.509 certificates with the extensions istiod puts on them (`security/pkg/pki/util/generate_cert.go`):
// workload and serving leaves, and the self-signed mesh root. Validity and names are decided by the caller.

import { sameBytes } from './certificate-info';
import type { SigningKeyPair } from './key-pair';
import { subtle, x509, type CryptoKey } from './x509';

/** The CA that signs: its certificate and key. */
export interface Issuer {
  readonly certificate: x509.X509Certificate;
  readonly keys: SigningKeyPair;
}

export interface IssueLeafInput {
  readonly issuer: Issuer;
  /** The subject's public key, from a CSR or given directly. */
  readonly publicKey: x509.PublicKey | CryptoKey;
  readonly uriSans?: readonly string[];
  readonly dnsSans?: readonly string[];
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export interface CreateRootInput {
  readonly keys: SigningKeyPair;
  /** Istio names its self-signed root `O=<trust domain>`. */
  readonly organization: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

// RFC 5280 §4.1.2.2: at most 20 octets, positive. 16 random octets as Go's x509 and istiod use (128-bit serials).
const SERIAL_BYTES = 16;
const MS_PER_SECOND = 1000;
const LEAF_KEY_USAGE = x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment;
const CA_KEY_USAGE = x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign;

/**
 * Issue an end-entity certificate: empty subject, SANs marked critical (required by RFC 5280 §4.2.1.6 when the
 * subject is empty), basicConstraints CA:false, keyUsage digitalSignature+keyEncipherment, extended key usage
 * serverAuth+clientAuth — every mesh certificate serves both ends of an mTLS connection.
 */
export async function issueLeafCertificate(input: IssueLeafInput): Promise<x509.X509Certificate> {
  const names: x509.JsonGeneralName[] = [
    ...(input.uriSans ?? []).map((value) => ({ type: 'url' as const, value })),
    ...(input.dnsSans ?? []).map((value) => ({ type: 'dns' as const, value })),
  ];
  return x509.X509CertificateGenerator.create({
    serialNumber: randomSerialNumber(),
    subject: '',
    issuer: input.issuer.certificate.subjectName,
    notBefore: input.notBefore,
    notAfter: input.notAfter,
    publicKey: input.publicKey,
    signingKey: input.issuer.keys.privateKey,
    signingAlgorithm: input.issuer.keys.signingAlgorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(LEAF_KEY_USAGE, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      await authorityKeyIdentifier(input.issuer.certificate),
      new x509.SubjectAlternativeNameExtension(names, true),
    ],
  });
}

/** A self-signed CA certificate for the mesh root (istiod's `istio-ca-secret` when no plug-in CA is mounted). */
export async function createSelfSignedRoot(input: CreateRootInput): Promise<x509.X509Certificate> {
  return x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialNumber(),
    name: [{ O: [input.organization] }],
    notBefore: input.notBefore,
    notAfter: input.notAfter,
    keys: input.keys,
    signingAlgorithm: input.keys.signingAlgorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(CA_KEY_USAGE, true),
      await x509.SubjectKeyIdentifierExtension.create(input.keys.publicKey),
    ],
  });
}

/** 128 random bits as hex, first octet in 0x01..0x7f so the DER integer is positive and minimally encoded. */
export function randomSerialNumber(): string {
  const bytes = new Uint8Array(SERIAL_BYTES);
  globalThis.crypto.getRandomValues(bytes);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) || 0x01;
  return Buffer.from(bytes).toString('hex');
}

/** X.509 validity is encoded in whole seconds; truncating first makes notAfter − notBefore exactly the TTL. */
export function wholeSeconds(date: Date): Date {
  return new Date(Math.floor(date.getTime() / MS_PER_SECOND) * MS_PER_SECOND);
}

/** Whether the certificate certifies the public half of `keys` (same SubjectPublicKeyInfo bytes). */
export async function keyMatchesCertificate(keys: SigningKeyPair, certificate: x509.X509Certificate): Promise<boolean> {
  return sameBytes(await subtle.exportKey('spki', keys.publicKey), certificate.publicKey.rawData);
}

// Path builders (openssl, WebPKI) use the authority key identifier to pick the issuer among same-named CAs, which
// matters while a root is being rotated.
async function authorityKeyIdentifier(issuer: x509.X509Certificate): Promise<x509.AuthorityKeyIdentifierExtension> {
  const subjectKeyId = issuer.getExtension(x509.SubjectKeyIdentifierExtension);
  if (subjectKeyId !== null) return new x509.AuthorityKeyIdentifierExtension(subjectKeyId.keyId);
  return x509.AuthorityKeyIdentifierExtension.create(issuer.publicKey);
}
