// Reading certificates: splitting PEM bundles the way istiod does for `cert_chain` (one certificate per element,
// each ending in "\n", reference §3.2) and summarising a certificate for ztunnel's admin `/config_dump`.

import { describeCause, fail, ok, type Result } from './identity-error';
import { OID, x509 } from './x509';

/** What the admin dump shows of one certificate. */
export interface CertificateInfo {
  /** Lowercase hex, as the DER integer is written (no `0x`, no separators). */
  readonly serialNumber: string;
  readonly subject: string;
  readonly issuer: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly uriSans: readonly string[];
  readonly dnsSans: readonly string[];
  /** The certificate alone, re-encoded as PEM ending in "\n". */
  readonly pem: string;
}

/** URI and DNS subject alternative names of a certificate or CSR, in their encoded order. */
export interface SubjectAltNames {
  readonly uris: readonly string[];
  readonly dnsNames: readonly string[];
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 #]+)-----([\s\S]*?)-----END ([A-Z0-9 #]+)-----/g;
const PEM_BEGIN = /-----BEGIN /g;
const CERTIFICATE_LABEL = 'CERTIFICATE';

/**
 * Split a PEM text holding one or more certificates (a chain, or a root bundle during rotation — the last
 * `CreateCertificate` element may hold several roots) into one normalised PEM per certificate, each ending in "\n".
 * Text between blocks is ignored, as Go's `pem.Decode` does; any other block type, a truncated block or a
 * certificate that does not decode is an `ERR_CERT_PARSE` naming `source`.
 */
export function parsePemBundle(pem: string, source = 'PEM bundle'): Result<string[]> {
  const decoded = decodeCertificates(pem, source);
  return decoded.ok ? ok(decoded.value.map(certificatePem)) : decoded;
}

/** Summarise the first certificate in `pem` for an admin dump. */
export function certificateInfo(pem: string, source = 'certificate'): Result<CertificateInfo> {
  const decoded = decodeCertificates(pem, source);
  if (!decoded.ok) return decoded;
  const [certificate] = decoded.value;
  if (certificate === undefined) return fail('ERR_CERT_PARSE', `${source} holds no certificate`);
  const sans = subjectAltNames(certificate);
  return ok({
    serialNumber: certificate.serialNumber.toLowerCase(),
    subject: certificate.subject,
    issuer: certificate.issuer,
    notBefore: certificate.notBefore,
    notAfter: certificate.notAfter,
    uriSans: sans.uris,
    dnsSans: sans.dnsNames,
    pem: certificatePem(certificate),
  });
}

/** Decode every certificate in a PEM text (see parsePemBundle). */
export function decodeCertificates(pem: string, source: string): Result<x509.X509Certificate[]> {
  const certificates: x509.X509Certificate[] = [];
  let blocks = 0;
  for (const match of pem.matchAll(PEM_BLOCK)) {
    blocks += 1;
    const [, label = '', body = '', endLabel = ''] = match;
    if (label !== endLabel) {
      return fail('ERR_CERT_PARSE', `${source}: PEM block ${blocks} begins "${label}" but ends "${endLabel}"`);
    }
    if (label !== CERTIFICATE_LABEL) {
      return fail(
        'ERR_CERT_PARSE',
        `${source}: PEM block ${blocks} is a "${label}", not a "${CERTIFICATE_LABEL}"`,
        label.includes('KEY') ? 'a private key must never be placed in a certificate bundle' : undefined,
      );
    }
    try {
      certificates.push(decodedEagerly(new x509.X509Certificate(Buffer.from(body.replace(/\s+/g, ''), 'base64'))));
    } catch (cause) {
      const problem = `PEM block ${blocks} is not a valid X.509 certificate: ${describeCause(cause)}`;
      return fail('ERR_CERT_PARSE', `${source}: ${problem}`);
    }
  }
  const begun = [...pem.matchAll(PEM_BEGIN)].length;
  if (begun !== blocks) {
    const unterminated = begun - blocks;
    const message = `${source}: ${unterminated} PEM block(s) have no matching END line`;
    return fail('ERR_CERT_PARSE', message, 'the file may be truncated');
  }
  if (certificates.length === 0) return fail('ERR_CERT_PARSE', `${source} holds no PEM certificate`);
  return ok(certificates);
}

/**
 * @peculiar/x509 decodes extensions, names and the key on first access and throws there. Touch them all now so a
 * malformed certificate from a peer fails at decoding, as ERR_CERT_PARSE, instead of deep inside a later check.
 */
function decodedEagerly(certificate: x509.X509Certificate): x509.X509Certificate {
  const parts: unknown[] = [
    certificate.extensions,
    certificate.publicKey,
    certificate.subjectName,
    certificate.issuerName,
    certificate.notBefore,
    certificate.notAfter,
    certificate.serialNumber,
  ];
  if (parts.includes(undefined)) throw new Error('certificate is missing a mandatory field');
  return certificate;
}

/** Decode exactly one certificate. */
export function decodeCertificate(pem: string, source: string): Result<x509.X509Certificate> {
  const decoded = decodeCertificates(pem, source);
  if (!decoded.ok) return decoded;
  const [first, ...rest] = decoded.value;
  if (first === undefined || rest.length > 0) {
    return fail('ERR_CERT_PARSE', `${source} holds ${decoded.value.length} certificates; want exactly one`);
  }
  return ok(first);
}

/** A single certificate as PEM ending in "\n" — the element format of istiod's `cert_chain`. */
export function certificatePem(certificate: x509.X509Certificate): string {
  return `${certificate.toString('pem')}\n`;
}

/** The URI and DNS SANs of a certificate or CSR; other name types are ignored. */
export function subjectAltNames(holder: { getExtension(type: string): x509.Extension | null }): SubjectAltNames {
  const extension = holder.getExtension(OID.subjectAltName);
  const uris: string[] = [];
  const dnsNames: string[] = [];
  if (extension instanceof x509.SubjectAlternativeNameExtension) {
    for (const name of extension.names.items) {
      if (name.type === 'url') uris.push(name.value);
      else if (name.type === 'dns') dnsNames.push(name.value);
    }
  }
  return { uris, dnsNames };
}

/** Whether two DER-encoded names (or any two encodings) are byte-for-byte equal, as WebPKI compares issuer names. */
export function sameBytes(a: ArrayBuffer, b: ArrayBuffer): boolean {
  if (a.byteLength !== b.byteLength) return false;
  const left = new Uint8Array(a);
  const right = new Uint8Array(b);
  return left.every((byte, index) => byte === right[index]);
}
