// One certificate fetch for one identity (reference §3.2–3.4): a fresh ECDSA P-256 key and CSR, CreateCertificate
// under the caller's own bearer token — with `ImpersonatedIdentity` (ztunnel for its pods, a waypoint under its
// node's bootstrap token) or without (a waypoint under its own service account token) — and the response checks.
// Every failure is a typed CertificateError; retrying is the manager's business.

import * as grpc from '@grpc/grpc-js';
import { createCsr, exportPrivateKeyPem, generateKeyPair, renewalTime, type Identity } from '@weft/identity';

import type { CaClient } from './ca-client';
import { CertificateError, errorText } from './certificate-error';
import { checkCertificateResponse } from './certificate-response';
import type { WorkloadCertificate } from './workload-certificate';

export interface FetchContext {
  readonly ca: Pick<CaClient, 'createCertificate'>;
  /** The caller's own token; read on every fetch so a rotated projected token is used. Empty sends none. */
  readonly token: () => string;
  readonly clusterId: string | undefined;
  readonly ttlSeconds: number;
  /**
   * Send the identity asked for as `ImpersonatedIdentity`. Without it the CA signs the token's own identity, which
   * must then be the one asked for (the SAN check fails otherwise).
   */
  readonly impersonate: boolean;
}

/** Fetches and checks a certificate for `id` (the SPIFFE form of `identity`); rejects with a CertificateError. */
export async function fetchCertificate(context: FetchContext, id: string, identity: Identity): Promise<WorkloadCertificate> {
  let csr: string;
  let privateKeyPem: string;
  try {
    // A fresh key per fetch, as ztunnel: a renewal also rotates the key.
    const keys = await generateKeyPair();
    csr = await createCsr({ identity, keys });
    privateKeyPem = await exportPrivateKeyPem(keys.privateKey);
  } catch (err) {
    throw new CertificateError('ERR_CERT_CSR_FAILED', `generating a key and CSR for ${id} failed: ${errorText(err)}`);
  }
  let token: string;
  try {
    token = context.token().trim();
  } catch (err) {
    const hint = 'check the projected token mount (AUTH_TOKEN)';
    throw new CertificateError('ERR_CERT_TOKEN_UNAVAILABLE', `reading the bearer token failed: ${errorText(err)}`, hint);
  }
  let chain: string[];
  try {
    chain = await context.ca.createCertificate(
      // ImpersonatedIdentity travels in the request body, not as a header (reference §3.2).
      {
        csr,
        validityDurationSeconds: context.ttlSeconds,
        ...(context.impersonate ? { impersonatedIdentity: id } : {}),
      },
      {
        ...(token === '' ? {} : { authorization: `Bearer ${token}` }),
        ...(context.clusterId === undefined || context.clusterId === '' ? {} : { clusterId: context.clusterId }),
      },
    );
  } catch (err) {
    throw fetchError(id, err, context.impersonate);
  }
  const checked = await checkCertificateResponse(id, chain, new Date());
  if (!checked.ok) throw checked.error;
  const [leaf] = checked.value.chain;
  if (leaf === undefined) throw new CertificateError('ERR_CERT_CHAIN_INVALID', `no leaf certificate for ${id}`);
  return {
    identity,
    spiffeId: id,
    privateKeyPem,
    certChainPem: checked.value.chain.map((c) => c.pem),
    rootsPem: checked.value.roots.map((c) => c.pem),
    serialNumber: leaf.serialNumber,
    notBefore: leaf.notBefore,
    notAfter: leaf.notAfter,
    refreshAt: renewalTime(leaf.notBefore, leaf.notAfter),
    chain: checked.value.chain,
    roots: checked.value.roots,
  };
}

/** The one mapping from a failed CreateCertificate call to a typed error, with the hint an operator needs. */
function fetchError(id: string, err: unknown, impersonate: boolean): CertificateError {
  const status = err as Partial<grpc.StatusObject> | undefined;
  const code = typeof status?.code === 'number' ? status.code : undefined;
  const details = typeof status?.details === 'string' ? status.details : errorText(err);
  let hint: string | undefined;
  if (code === grpc.status.UNAUTHENTICATED && impersonate) {
    // istiod's node authorizer is eventually consistent with pod scheduling (reference §3.3): retrying is right.
    hint = 'the CA refused the token or the impersonation; it clears once the pod is known on this node, '
      + 'otherwise check the token audience and CA_TRUSTED_NODE_ACCOUNTS';
  } else if (code === grpc.status.UNAUTHENTICATED) {
    hint = 'the CA refused the token; check the token audience and that it belongs to the service account of ' + id;
  } else if (code === grpc.status.UNAVAILABLE) {
    hint = 'the CA is unreachable; check CA_ADDRESS and that the controlplane is running';
  } else if (code === grpc.status.DEADLINE_EXCEEDED) {
    hint = 'the CA did not answer in time';
  }
  return new CertificateError('ERR_CERT_FETCH_FAILED', `CreateCertificate for ${id} failed: ${details}`, hint, code);
}
