// Keeps the 15012 serving certificate fresh without restarting the gRPC server: a grpc-js `CertificateProvider`
// that issues at start, re-issues at half-life (as ztunnel renews its own certificates) and retries failures with
// backoff. istiod likewise rotates its DNS certificate in place.

import type * as grpc from '@grpc/grpc-js';
import { createBackoff, type BackoffOptions } from '@weft/identity';

import { CaError, type CaLogger } from './ca-error';
import type { ServingCertificate } from './serving-certificate';

type CertificateProvider = grpc.experimental.CertificateProvider;
type CaListener = grpc.experimental.CaCertificateUpdateListener;
type IdentityListener = grpc.experimental.IdentityCertificateUpdateListener;

/** setTimeout's ceiling (about 24.8 days); a later renewal is reached by re-arming. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface ServingCertificateRotatorOptions {
  /** Issues a fresh key and certificate, e.g. `() => issueServingCertificate({ ca, namespace })`. */
  readonly issue: () => Promise<ServingCertificate>;
  readonly logger: CaLogger;
  readonly clock?: () => Date;
  /** Retry schedule after a failed renewal; ztunnel's certificate backoff by default (500 ms … 150 s). */
  readonly backoff?: BackoffOptions;
}

/**
 * Pass it as both providers: `grpc.experimental.createCertificateProviderServerCredentials(r, r, false)`. (grpc-js
 * 1.14 swaps the two arguments internally; one object serving both roles is correct either way.)
 */
export interface ServingCertificateRotator extends CertificateProvider {
  /**
   * Issue the first certificate; rejects with the issue's error (`ERR_CA_SERVING_CERT` from issueServingCertificate)
   * so the app fails before it binds 15012.
   */
  start(): Promise<ServingCertificate>;
  readonly current: ServingCertificate | undefined;
  /** Stop renewing; idempotent. Issued certificates stay valid until they expire. */
  close(): void;
}

export function createServingCertificateRotator(options: ServingCertificateRotatorOptions): ServingCertificateRotator {
  const clock = options.clock ?? (() => new Date());
  const backoff = createBackoff(options.backoff);
  const caListeners = new Set<CaListener>();
  const identityListeners = new Set<IdentityListener>();
  let current: ServingCertificate | undefined;
  let timer: NodeJS.Timeout | undefined;
  let failures = 0;
  let closed = false;

  const publish = (certificate: ServingCertificate): void => {
    current = certificate;
    for (const listener of caListeners) listener(caUpdate(certificate));
    for (const listener of identityListeners) listener(identityUpdate(certificate));
  };

  const arm = (at: Date): void => {
    if (closed) return;
    const delay = Math.max(0, at.getTime() - clock().getTime());
    timer = setTimeout(() => {
      timer = undefined;
      if (delay > MAX_TIMER_MS) arm(at);
      else void renew();
    }, Math.min(delay, MAX_TIMER_MS));
  };

  // Never rejects: every failure is logged and retried, so the promise is safe to leave unawaited.
  const renew = async (): Promise<void> => {
    try {
      const certificate = await options.issue();
      if (closed) return;
      failures = 0;
      publish(certificate);
      options.logger.info(
        { notAfter: certificate.notAfter.toISOString(), renewAt: certificate.renewAt.toISOString() },
        'serving certificate renewed',
      );
      arm(certificate.renewAt);
    } catch (cause) {
      if (closed) return;
      const retryMs = backoff.delayMs(Math.min(failures, 30));
      failures += 1;
      const reason = cause instanceof Error ? cause.message : String(cause);
      options.logger.error({ reason, retryMs, failures }, 'serving certificate renewal failed; the current one stays');
      arm(new Date(clock().getTime() + retryMs));
    }
  };

  return {
    get current() {
      return current;
    },
    async start() {
      if (closed) throw new CaError('ERR_CA_SERVING_CERT', 'the serving certificate rotator is closed');
      if (current !== undefined) return current;
      const certificate = await options.issue();
      publish(certificate);
      arm(certificate.renewAt);
      return certificate;
    },
    close() {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
    addCaCertificateListener(listener) {
      caListeners.add(listener);
      replay(() => caListeners.has(listener) && current !== undefined && listener(caUpdate(current)));
    },
    removeCaCertificateListener(listener) {
      caListeners.delete(listener);
    },
    addIdentityCertificateListener(listener) {
      identityListeners.add(listener);
      replay(() => identityListeners.has(listener) && current !== undefined && listener(identityUpdate(current)));
    },
    removeIdentityCertificateListener(listener) {
      identityListeners.delete(listener);
    },
  };
}

/**
 * Hand a new listener the current certificate on a later microtask, never synchronously: grpc-js registers its
 * provider listeners before its own server watcher, so a synchronous replay would be dropped and the server would
 * refuse every connection until the first renewal.
 */
function replay(deliver: () => unknown): void {
  queueMicrotask(() => void deliver());
}

function caUpdate(certificate: ServingCertificate): grpc.experimental.CaCertificateUpdate {
  return { caCertificate: Buffer.from(certificate.rootCertPem) };
}

function identityUpdate(certificate: ServingCertificate): grpc.experimental.IdentityCertificateUpdate {
  return { certificate: Buffer.from(certificate.certChainPem), privateKey: Buffer.from(certificate.privateKeyPem) };
}
