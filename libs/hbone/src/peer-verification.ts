// The SPIFFE half of the HBONE handshake (reference §2.1), run on the established TLS socket before any HTTP/2 frame
// is processed: the peer chain must reach the credential's roots; inbound, one SPIFFE URI SAN must be in our trust
// domain; outbound, one URI SAN must equal an expected identity. The peer identity is the first SPIFFE URI SAN.

import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';
import { formatSpiffeId, verifyPeerChain, type Identity, type IdentityErrorCode } from '@weft/identity';
import { HboneError, type HboneErrorCode } from './hbone-error';

export interface VerifyPeerOptions {
  /** `client` on the server side (inbound), `server` on the client side (outbound). */
  readonly usage: 'client' | 'server';
  readonly rootsPem: readonly string[];
  /** Inbound: our own trust domain (ztunnel `TrustDomainVerifier`). */
  readonly trustDomain?: string;
  /** Outbound: the identities the destination may present (`upstream_sans`). */
  readonly expectedIdentities?: readonly Identity[];
  readonly now: Date;
}

// More certificates than this in a presented chain is not a mesh chain (identity's MAX_INTERMEDIATES is 6).
const MAX_PRESENTED = 10;

const CODE_BY_IDENTITY_CODE: Partial<Record<IdentityErrorCode, HboneErrorCode>> = {
  ERR_SAN_MISMATCH: 'ERR_HBONE_SAN_MISMATCH',
  ERR_TRUST_DOMAIN_MISMATCH: 'ERR_HBONE_TRUST_DOMAIN_MISMATCH',
};

/** Resolves the peer's identity or an HboneError; never rejects. */
export async function verifyPeer(socket: TLSSocket, options: VerifyPeerOptions): Promise<Identity | HboneError> {
  const chainPem = presentedChain(socket);
  if (chainPem.length === 0) {
    return new HboneError('ERR_HBONE_PEER_UNTRUSTED', `the ${options.usage} presented no certificate`, {
      hint: 'HBONE requires mutual TLS with a workload certificate',
    });
  }
  const verified = await verifyPeerChain({
    chainPem,
    rootsPem: options.rootsPem,
    now: options.now,
    usage: options.usage,
    ...(options.trustDomain === undefined ? {} : { trustDomain: options.trustDomain }),
    ...(options.expectedIdentities === undefined
      ? {}
      : { expectedSans: options.expectedIdentities.map(formatSpiffeId) }),
  });
  if (verified.ok) return verified.value;
  const { code, message, hint } = verified.error;
  return new HboneError(CODE_BY_IDENTITY_CODE[code] ?? 'ERR_HBONE_PEER_UNTRUSTED', message, {
    ...(hint === undefined ? {} : { hint }),
    cause: verified.error,
  });
}

/** The chain as the peer sent it (leaf first), plus whatever issuer OpenSSL appended from our store, as PEM. */
function presentedChain(socket: TLSSocket): string[] {
  const pems: string[] = [];
  let current: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  const seen = new Set<DetailedPeerCertificate>();
  while (current !== undefined && current.raw !== undefined && !seen.has(current) && pems.length < MAX_PRESENTED) {
    seen.add(current);
    pems.push(toPem(current.raw));
    // Node links a self-signed certificate to itself; `seen` ends the walk there.
    current = current.issuerCertificate;
  }
  return pems;
}

function toPem(der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}
