// What ztunnel accepts from CreateCertificate (reference §3.2–3.5): leaf first, root bundle last; the leaf must name
// exactly the identity asked for (ztunnel checks this after impersonating), and the chain must verify to the roots
// the same response carries, which become this identity's data-plane trust store.

import { certificateInfo, parsePemBundle, verifyPeerChain, type CertificateInfo } from '@weft/identity';

import { CertificateError } from './certificate-error';

/** A CreateCertificate response that passed every check. */
export interface CheckedChain {
  /** Leaf first, then intermediates. */
  readonly chain: readonly CertificateInfo[];
  /** The roots of the response's last element (several while the mesh CA rotates). */
  readonly roots: readonly CertificateInfo[];
}

export type ChainCheck =
  | { readonly ok: true; readonly value: CheckedChain }
  | { readonly ok: false; readonly error: CertificateError };

const invalid = (message: string, hint?: string): ChainCheck => ({
  ok: false,
  error: new CertificateError('ERR_CERT_CHAIN_INVALID', message, hint),
});

/** Checks a response for `identity` (a SPIFFE ID) at `now`; never throws. */
export async function checkCertificateResponse(
  identity: string,
  certChain: readonly string[],
  now: Date,
): Promise<ChainCheck> {
  if (certChain.length < 2) {
    const problem = `returned ${certChain.length} element(s); want the leaf first and the root last`;
    return invalid(`CreateCertificate for ${identity} ${problem}`);
  }
  const chainPems: string[] = [];
  for (const [index, element] of certChain.slice(0, -1).entries()) {
    const split = parsePemBundle(element, `cert_chain[${index}]`);
    if (!split.ok) return invalid(split.error.message, split.error.hint);
    chainPems.push(...split.value);
  }
  const rootsSplit = parsePemBundle(certChain.at(-1) ?? '', `cert_chain[${certChain.length - 1}] (root bundle)`);
  if (!rootsSplit.ok) return invalid(rootsSplit.error.message, rootsSplit.error.hint);

  const chain: CertificateInfo[] = [];
  for (const pem of chainPems) {
    const info = certificateInfo(pem);
    if (!info.ok) return invalid(info.error.message, info.error.hint);
    chain.push(info.value);
  }
  const roots: CertificateInfo[] = [];
  for (const pem of rootsSplit.value) {
    const info = certificateInfo(pem);
    if (!info.ok) return invalid(info.error.message, info.error.hint);
    roots.push(info.value);
  }

  const leaf = chain[0];
  if (leaf === undefined) return invalid(`CreateCertificate for ${identity} returned no leaf certificate`);
  if (leaf.uriSans.length !== 1 || leaf.uriSans[0] !== identity) {
    const got = JSON.stringify(leaf.uriSans);
    const error = new CertificateError(
      'ERR_CERT_SAN_MISMATCH',
      `CA issued a certificate with URI SANs ${got} for a request for ${identity}`,
      'the CA must sign exactly the ImpersonatedIdentity it authorised (without one, the token\'s own identity, so a token '
        + 'of another service account gives this); check the token, the controlplane version and CA_ADDRESS',
    );
    return { ok: false, error };
  }
  // A CA whose clock runs ahead issues certificates that start in our future; every reissue would too, so refusing
  // them would never heal. Check the chain as of the leaf's start when that is later: an expired one still fails.
  const at = new Date(Math.max(now.getTime(), leaf.notBefore.getTime()));
  // Mesh certificates serve both directions of HBONE: the chain must be good for client and server use.
  for (const usage of ['client', 'server'] as const) {
    const verified = await verifyPeerChain({
      chainPem: chainPems,
      rootsPem: rootsSplit.value,
      now: at,
      expectedSans: [identity],
      usage,
    });
    if (!verified.ok) {
      const { code, message, hint } = verified.error;
      return invalid(`certificate for ${identity} does not verify (${code}): ${message}`, hint);
    }
  }
  return { ok: true, value: { chain, roots } };
}
