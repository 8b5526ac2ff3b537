// PKCS#10 certificate signing requests as ztunnel writes them (`tls/csr.rs`, reference §3.4): no subject, one URI
// SAN holding the SPIFFE ID, marked critical because the subject is empty (RFC 5280 §4.2.1.6), signed with
// ECDSA P-256 / SHA-256. Also the CA-side reading of any CSR, which checks the request's own signature.

import { subjectAltNames } from './certificate-info';
import { describeCause, fail, ok, type Result } from './identity-error';
import { WORKLOAD_SIGNING_ALGORITHM, type SigningAlgorithm } from './key-pair';
import { formatSpiffeId, type Identity } from './spiffe-id';
import { x509, type CryptoKeyPair } from './x509';

export interface CreateCsrOptions {
  readonly identity: Identity;
  /** The workload key pair (see generateKeyPair). */
  readonly keys: CryptoKeyPair;
  /** Defaults to ECDSA with SHA-256, matching a P-256 key. */
  readonly signingAlgorithm?: SigningAlgorithm;
}

/** What a CA learns from a CSR whose signature checked out. */
export interface CsrInfo {
  /** The subject DN as text; empty for CSRs ztunnel writes. */
  readonly subject: string;
  readonly uriSans: readonly string[];
  readonly dnsSans: readonly string[];
  /** The requester's public key as SPKI PEM. */
  readonly publicKeyPem: string;
}

/** A decoded, signature-checked CSR together with the summary a caller sees. */
export interface VerifiedCsr {
  readonly request: x509.Pkcs10CertificateRequest;
  readonly info: CsrInfo;
}

const CSR_LABELS = ['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST'];

/** Build the CSR ztunnel sends in `IstioCertificateRequest.csr`, as PEM ending in "\n". */
export async function createCsr(options: CreateCsrOptions): Promise<string> {
  const request = await x509.Pkcs10CertificateRequestGenerator.create({
    keys: options.keys,
    signingAlgorithm: options.signingAlgorithm ?? WORKLOAD_SIGNING_ALGORITHM,
    extensions: [
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: formatSpiffeId(options.identity) }], true),
    ],
  });
  return `${request.toString('pem')}\n`;
}

/**
 * Decode a PEM CSR and check its self-signature (proof that the requester holds the private key). A request that
 * does not decode is `ERR_CSR_INVALID`; one whose signature fails is `ERR_CSR_SIGNATURE`. Never throws.
 */
export async function verifyCsr(csrPem: string): Promise<Result<CsrInfo>> {
  const verified = await decodeVerifiedCsr(csrPem);
  return verified.ok ? ok(verified.value.info) : verified;
}

/** verifyCsr, keeping the decoded request for issuance. */
export async function decodeVerifiedCsr(csrPem: string): Promise<Result<VerifiedCsr>> {
  const label = /-----BEGIN ([A-Z ]+)-----/.exec(csrPem)?.[1];
  if (label === undefined || !CSR_LABELS.includes(label)) {
    return fail(
      'ERR_CSR_INVALID',
      label === undefined
        ? 'csr is not PEM: no "-----BEGIN CERTIFICATE REQUEST-----" line'
        : `csr is a PEM "${label}", not a "CERTIFICATE REQUEST"`,
      'IstioCertificateRequest.csr carries a PEM PKCS#10 request',
    );
  }
  let decoded: VerifiedCsr;
  try {
    decoded = decodeCsr(csrPem);
  } catch (cause) {
    return fail('ERR_CSR_INVALID', `csr is not a valid PKCS#10 request: ${describeCause(cause)}`);
  }
  const { request } = decoded;
  let signatureValid: boolean;
  try {
    signatureValid = await request.verify();
  } catch (cause) {
    const message = `csr signature could not be checked: ${describeCause(cause)}`;
    return fail('ERR_CSR_SIGNATURE', message, 'use an ECDSA or RSA key');
  }
  if (!signatureValid) {
    return fail(
      'ERR_CSR_SIGNATURE',
      'csr signature does not match its public key',
      'the request was altered after signing, or signed with a different key than the one it carries',
    );
  }
  return ok(decoded);
}

/** Decode everything up front: @peculiar/x509 parses extensions, names and keys lazily and throws on first use. */
function decodeCsr(csrPem: string): VerifiedCsr {
  const request = new x509.Pkcs10CertificateRequest(csrPem);
  const sans = subjectAltNames(request);
  return {
    request,
    info: {
      subject: request.subject,
      uriSans: sans.uris,
      dnsSans: sans.dnsNames,
      publicKeyPem: `${request.publicKey.toString('pem')}\n`,
    },
  };
}
