// The decision behind `istio.v1.auth.IstioCertificateService/CreateCertificate` (reference §3.2–3.3), free of gRPC:
// authenticate the bearer token → authorise the identity → sign the CSR → chain with the root last. The gRPC
// adapter (in libs/xds) only converts the wire request and maps `grpcCode` to a status.

import {
  formatSpiffeId,
  type CertificateAuthority,
  type IdentityErrorCode,
  type IssuedCertificate,
  type Result,
} from '@weft/identity';

import type { CertificateOutcome, CertificateServiceHandler } from '@weft/xds';

import type { CaLogger } from './ca-error';
import type { AuthenticationResult, CallerAuthenticator } from './caller-authenticator';
import type { NodeAuthorizer } from './node-authorizer';


/** Request counts by outcome, for /metrics. */
export interface CertificateServiceStats {
  issued: number;
  unauthenticated: number;
  invalid: number;
  error: number;
}

/**
 * istiod's two opaque `Unauthenticated` messages (security/pkg/server/ca/server.go), byte for byte: one for any
 * authentication failure, one for any impersonation refusal. A client learns nothing about which check failed
 * (missing vs wrong token; untrusted account vs wrong node vs foreign trust domain); the real reason is logged.
 */
export const UNAUTHENTICATED_MESSAGE = 'request authenticate failure';
export const IMPERSONATION_DENIED_MESSAGE = 'request impersonation authentication failure';

export interface CertificateServiceOptions {
  readonly ca: Pick<CertificateAuthority, 'sign'>;
  readonly authenticator: CallerAuthenticator;
  readonly authorizer: NodeAuthorizer;
  readonly logger: CaLogger;
}

export interface CertificateService {
  readonly handle: CertificateServiceHandler;
  /** Live counters; read them, do not write. */
  readonly stats: Readonly<CertificateServiceStats>;
}

// CSR and request problems are the client's fault (istiod maps CSRError/TTLError to InvalidArgument).
const INVALID_REQUEST_CODES: ReadonlySet<IdentityErrorCode> = new Set([
  'ERR_CSR_INVALID',
  'ERR_CSR_SIGNATURE',
  'ERR_SIGN_REQUEST_INVALID',
  'ERR_KEY_INVALID',
  'ERR_KEY_UNSUPPORTED',
]);
const BEARER = /^Bearer\s+(\S+)\s*$/i;

export function createCertificateService(options: CertificateServiceOptions): CertificateService {
  const { ca, authenticator, authorizer, logger } = options;
  const stats: CertificateServiceStats = { issued: 0, unauthenticated: 0, invalid: 0, error: 0 };

  const refuse = (peer: string, reason: string, message = UNAUTHENTICATED_MESSAGE): CertificateOutcome => {
    stats.unauthenticated += 1;
    logger.warn({ peer, reason }, 'certificate request refused');
    return { ok: false, grpcCode: 'UNAUTHENTICATED', message };
  };
  const invalid = (peer: string, message: string): CertificateOutcome => {
    stats.invalid += 1;
    logger.warn({ peer, reason: message }, 'invalid certificate request');
    return { ok: false, grpcCode: 'INVALID_ARGUMENT', message };
  };

  const handle: CertificateServiceHandler = async (request, metadata, peer) => {
    // Authenticate before looking at the request body, so an anonymous client learns nothing about it.
    const token = BEARER.exec(metadata.authorization ?? '')?.[1];
    if (token === undefined) return refuse(peer, 'no "authorization: Bearer <token>" header');
    let authenticated: AuthenticationResult;
    try {
      authenticated = await authenticator.authenticate(token, metadata.clusterId);
    } catch (cause) {
      return refuse(peer, `authenticator failed: ${describe(cause)}`);
    }
    if (!authenticated.ok) return refuse(peer, authenticated.reason);
    const { caller } = authenticated;

    const decision = authorizer.authorize(caller, request.impersonatedIdentity);
    if (!decision.allow) return refuse(peer, decision.reason, IMPERSONATION_DENIED_MESSAGE);

    if (request.certSigner !== undefined && request.certSigner !== '') {
      // Weft's CA has one signer. istiod hands CertSigner to SignWithCertChain, which only its Kubernetes-CSR
      // registration authority acts on; ztunnel never sends it.
      return invalid(peer, `named cert signer "${request.certSigner}" is not supported by this CA`);
    }
    if (request.csr.trim() === '') return invalid(peer, 'csr is empty: expected a PEM PKCS#10 request');
    if (!Number.isSafeInteger(request.validityDurationSeconds)) {
      return invalid(peer, `validity_duration ${request.validityDurationSeconds} is not a whole number of seconds`);
    }

    const identity = formatSpiffeId(decision.identity);
    let signed: Result<IssuedCertificate>;
    try {
      const ttlSeconds = request.validityDurationSeconds;
      signed = await ca.sign({ csrPem: request.csr, identity: decision.identity, ttlSeconds });
    } catch (cause) {
      stats.error += 1;
      logger.error({ peer, identity, reason: describe(cause) }, 'CA failed to sign');
      return { ok: false, grpcCode: 'INTERNAL', message: 'certificate signing failed' };
    }
    if (!signed.ok) {
      const { code, message } = signed.error;
      if (INVALID_REQUEST_CODES.has(code)) return invalid(peer, `${code}: ${message}`);
      stats.error += 1;
      logger.error({ peer, identity, code, reason: message }, 'CA failed to sign');
      return { ok: false, grpcCode: 'INTERNAL', message: `certificate signing failed (${code})` };
    }
    stats.issued += 1;
    logger.info(
      {
        peer,
        identity,
        caller: `${caller.namespace}/${caller.serviceAccount}`,
        node: caller.nodeName,
        impersonated: decision.impersonated,
        serial: signed.value.serialNumber,
        notAfter: signed.value.notAfter.toISOString(),
      },
      'certificate issued',
    );
    // Leaf first, root(s) last: the CA already splits the chain one certificate per element (reference §3.2).
    return { ok: true, certChain: signed.value.certChain };
  };

  return { handle, stats };
}

function describe(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
