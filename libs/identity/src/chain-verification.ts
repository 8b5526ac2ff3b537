// Peer certificate checks of an HBONE handshake (reference §2.1): the chain must reach one of our roots (WebPKI
// rules: byte-equal issuer names, CA intermediates, client/server EKU); the inbound side then requires a SPIFFE SAN
// in our trust domain (ztunnel `TrustDomainVerifier`) and the outbound side a URI SAN in the expected list.

import { decodeCertificates, sameBytes, subjectAltNames } from './certificate-info';
import { fail, ok, type Result } from './identity-error';
import { parseSpiffeId, type Identity } from './spiffe-id';
import { OID, x509 } from './x509';

/** Which side the peer plays: a `client` cert needs the clientAuth EKU, a `server` cert serverAuth. */
export type CertificateUsage = 'client' | 'server';

export interface VerifyPeerChainOptions {
  /** The peer's chain as presented, leaf first; an element may itself hold several certificates. */
  readonly chainPem: readonly string[];
  /** Trusted roots; an element may be a bundle (the last `CreateCertificate` element may hold several roots). */
  readonly rootsPem: readonly string[];
  readonly now: Date;
  /** Outbound: one URI SAN must equal one of these SPIFFE IDs. Omit to skip; an empty list matches nothing. */
  readonly expectedSans?: readonly string[];
  /** Inbound: at least one SPIFFE URI SAN must be in this trust domain. Omit to skip. */
  readonly trustDomain?: string;
  readonly usage: CertificateUsage;
}

/** ztunnel relies on rustls-webpki, which stops path building after a handful of intermediates; so do we. */
export const MAX_INTERMEDIATES = 6;

const EKU_BY_USAGE: Readonly<Record<CertificateUsage, string>> = { client: OID.clientAuth, server: OID.serverAuth };

/**
 * Verify a peer chain and return the peer's identity: the FIRST URI SAN that parses as a SPIFFE ID (ztunnel ignores
 * the others). Checks run in WebPKI's order — validity and usage of each certificate, then the path to a root — and
 * then the SAN rules. Never throws.
 */
export async function verifyPeerChain(options: VerifyPeerChainOptions): Promise<Result<Identity>> {
  const chain = decodeAll(options.chainPem, 'chainPem');
  if (!chain.ok) return chain;
  const roots = decodeAll(options.rootsPem, 'rootsPem');
  if (!roots.ok) return roots;
  const [leaf, ...intermediates] = chain.value;
  if (leaf === undefined) return fail('ERR_CERT_PARSE', 'chainPem is empty: the peer presented no certificate');

  const uris = subjectAltNames(leaf).uris;
  const leafLabel = uris[0] === undefined ? 'peer certificate' : `peer certificate (${uris[0]})`;
  const { now, usage } = options;
  const path = await buildTrustedPath({ leaf, intermediates, roots: roots.value, now, usage, leafLabel });
  if (!path.ok) return path;

  const identities: Identity[] = [];
  for (const uri of uris) {
    const parsed = parseSpiffeId(uri);
    if (parsed.ok) identities.push(parsed.value);
  }
  const [identity] = identities;
  if (identity === undefined) {
    return fail(
      'ERR_NO_SPIFFE_ID',
      `peer certificate has no spiffe://<td>/ns/<ns>/sa/<sa> URI SAN (URI SANs: ${list(uris)})`,
      'mesh peers present certificates issued by the mesh CA for a workload identity',
    );
  }
  if (options.trustDomain !== undefined && !identities.some((id) => id.trustDomain === options.trustDomain)) {
    return fail(
      'ERR_TRUST_DOMAIN_MISMATCH',
      `peer identities ${list(uris)} are not in trust domain "${options.trustDomain}"`,
      'both sides must share the mesh trust domain (meshConfig.trustDomain)',
    );
  }
  if (options.expectedSans !== undefined && !uris.some((uri) => options.expectedSans?.includes(uri) === true)) {
    return fail(
      'ERR_SAN_MISMATCH',
      `peer URI SANs ${list(uris)} match none of the expected identities ${list(options.expectedSans)}`,
      'the destination presented another identity than its Service subject_alt_names or its workload declare',
    );
  }
  return ok(identity);
}

export interface BuildTrustedPathInput {
  readonly leaf: x509.X509Certificate;
  readonly intermediates: readonly x509.X509Certificate[];
  readonly roots: readonly x509.X509Certificate[];
  readonly now: Date;
  /** The EKU the leaf must allow; omit when verifying a CA certificate itself. */
  readonly usage?: CertificateUsage;
  /** How messages name the leaf; defaults to "peer certificate". */
  readonly leafLabel?: string;
}

/** Find a path leaf → intermediates → one of `roots`; returns it leaf first, root last. */
export async function buildTrustedPath(input: BuildTrustedPathInput): Promise<Result<x509.X509Certificate[]>> {
  if (input.roots.length === 0) {
    const hint = 'load the mesh root bundle (root-cert.pem) first';
    return fail('ERR_CHAIN_UNTRUSTED', 'no trusted roots were given', hint);
  }
  const path: x509.X509Certificate[] = [];
  const unused = new Set(input.intermediates);
  let current = input.leaf;
  for (let depth = 0; ; depth += 1) {
    const label =
      depth === 0 ? (input.leafLabel ?? 'peer certificate') : `intermediate ${depth} ("${current.subject}")`;
    const checked = checkCertificate(current, label, depth, input);
    if (!checked.ok) return checked;
    path.push(current);

    const anchor = await findIssuer(current, input.roots);
    if (anchor !== undefined) return ok([...path, anchor]);
    const next = depth < MAX_INTERMEDIATES ? await findIssuer(current, [...unused]) : undefined;
    if (next === undefined) return untrusted(current, label, input.roots, depth >= MAX_INTERMEDIATES);
    unused.delete(next);
    current = next;
  }
}

function checkCertificate(
  certificate: x509.X509Certificate,
  label: string,
  depth: number,
  input: BuildTrustedPathInput,
): Result<void> {
  const now = input.now.getTime();
  if (now < certificate.notBefore.getTime()) {
    return fail(
      'ERR_CERT_NOT_YET_VALID',
      `${label} is not valid before ${certificate.notBefore.toISOString()} (now ${input.now.toISOString()})`,
      'check that the clocks of the nodes and the controlplane agree',
    );
  }
  if (now > certificate.notAfter.getTime()) {
    return fail(
      'ERR_CERT_EXPIRED',
      `${label} expired at ${certificate.notAfter.toISOString()} (now ${input.now.toISOString()})`,
      depth === 0
        ? 'the peer did not renew its certificate; check its connection to the CA'
        : 'rotate the CA certificate',
    );
  }
  if (depth > 0) {
    const constraints = certificate.getExtension(x509.BasicConstraintsExtension);
    const usages = certificate.getExtension(x509.KeyUsagesExtension);
    if (constraints?.ca !== true || (usages !== null && (usages.usages & x509.KeyUsageFlags.keyCertSign) === 0)) {
      const problem = 'is not a CA certificate, so it cannot issue the certificate below it';
      return fail('ERR_CHAIN_UNTRUSTED', `${label} ${problem}`);
    }
    // pathLenConstraint counts the intermediates that may follow this one towards the leaf.
    if (constraints.pathLength !== undefined && depth - 1 > constraints.pathLength) {
      const problem = `allows ${constraints.pathLength} intermediates below it; the chain has ${depth - 1}`;
      return fail('ERR_CHAIN_UNTRUSTED', `${label} ${problem}`);
    }
  }
  const eku = certificate.getExtension(x509.ExtendedKeyUsageExtension);
  if (input.usage !== undefined && eku !== null && !eku.usages.map(String).includes(EKU_BY_USAGE[input.usage])) {
    return fail(
      'ERR_CERT_WRONG_USAGE',
      `${label} is not valid for ${input.usage} authentication (extended key usage ${list(eku.usages.map(String))})`,
      'mesh certificates carry both serverAuth and clientAuth',
    );
  }
  return ok(undefined);
}

async function findIssuer(
  child: x509.X509Certificate,
  candidates: readonly x509.X509Certificate[],
): Promise<x509.X509Certificate | undefined> {
  const issuer = child.issuerName.toArrayBuffer();
  for (const candidate of candidates) {
    if (!sameBytes(candidate.subjectName.toArrayBuffer(), issuer)) continue;
    if (await signedBy(child, candidate)) return candidate;
  }
  return undefined;
}

async function signedBy(child: x509.X509Certificate, issuer: x509.X509Certificate): Promise<boolean> {
  try {
    return await child.verify({ publicKey: issuer.publicKey, signatureOnly: true });
  } catch {
    // An unsupported or malformed key cannot have signed the child; path building moves on to the next candidate.
    return false;
  }
}

function untrusted(
  certificate: x509.X509Certificate,
  label: string,
  roots: readonly x509.X509Certificate[],
  tooLong: boolean,
): Result<never> {
  if (tooLong) return fail('ERR_CHAIN_UNTRUSTED', `chain has more than ${MAX_INTERMEDIATES} intermediates`);
  const issuer = certificate.issuerName.toArrayBuffer();
  const sameName = roots.some((root) => sameBytes(root.subjectName.toArrayBuffer(), issuer));
  const trusted = `${roots.length} trusted root(s) ${list(roots.map((r) => r.subject))}`;
  // A peer may send its own root along; say so rather than calling it an intermediate.
  const selfIssued = sameBytes(certificate.subjectName.toArrayBuffer(), issuer);
  return fail(
    'ERR_CHAIN_UNTRUSTED',
    selfIssued
      ? `chain ends in the self-signed root "${certificate.subject}", which is not one of the ${trusted}`
      : `${label} issued by "${certificate.issuer}" does not chain to any of the ${trusted}`,
    sameName
      ? 'a root with the same name is trusted but its key did not sign this chain; ' +
        'the peer uses another CA instance or a rotated root'
      : 'the peer uses a different mesh CA; both sides must trust the same root-cert.pem',
  );
}

function decodeAll(pems: readonly string[], field: string): Result<x509.X509Certificate[]> {
  const certificates: x509.X509Certificate[] = [];
  for (const [index, pem] of pems.entries()) {
    const decoded = decodeCertificates(pem, `${field}[${index}]`);
    if (!decoded.ok) return decoded;
    certificates.push(...decoded.value);
  }
  return ok(certificates);
}

function list(values: readonly string[]): string {
  return `[${values.map((value) => `"${value}"`).join(', ')}]`;
}
