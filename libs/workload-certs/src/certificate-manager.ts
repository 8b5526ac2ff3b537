// ztunnel's SecretManager (reference §3.4): one workload certificate per identity of a local workload, fetched by
// impersonation with a fresh P-256 key and CSR, renewed at half-life, retried with per-identity backoff, and
// announced on every change so the HBONE layer rebuilds its TLS context. Every timer and CA call is owned here.
// A waypoint uses the same manager for its single identity, with or without impersonation (`impersonate`).

import type * as grpc from '@grpc/grpc-js';
import { createBackoff, parseSpiffeId, type BackoffOptions, type Identity } from '@weft/identity';

import { createCaClient } from './ca-client';
import { CertificateError, errorText } from './certificate-error';
import { fetchCertificate, type FetchContext } from './certificate-fetch';
import { FetchLimiter, MAX_CONCURRENT_FETCHES, type FetchPriority } from './fetch-limiter';
import {
  dumpCertificate,
  type CertificateChange,
  type CertificateDump,
  type CertificateLogger,
  type WorkloadCertificate,
} from './workload-certificate';

/** `SECRET_TTL`: the validity ztunnel asks for. */
export const DEFAULT_CERT_TTL_SECONDS = 24 * 60 * 60;
/** How long `get` waits for a certificate by default before failing the connection that needs it. */
export const DEFAULT_CERT_WAIT_TIMEOUT_MS = 10_000;
/** setTimeout's ceiling; a longer wait is armed in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface CertificateManagerOptions {
  /** `host:port` of the CA (CA_ADDRESS). */
  readonly caAddress: string;
  readonly credentials: grpc.ChannelCredentials;
  readonly channelOptions?: grpc.ChannelOptions;
  /** The caller's own bearer token, read again for every call; empty sends no authorization header. */
  readonly token: () => string;
  /**
   * Whether requests carry the asked-for identity as `ImpersonatedIdentity`; default true. ztunnel (its pods'
   * identities under its node token) and a waypoint in manifest mode (its own identity under the node's bootstrap
   * token) impersonate; a waypoint in Kubernetes mode asks under its own service account token with `false`, and then
   * only the token's own identity can be issued (any other fails ERR_CERT_SAN_MISMATCH).
   */
  readonly impersonate?: boolean;
  /** Sent as `clusterid` (reference §3.2). */
  readonly clusterId?: string;
  /** `CA_HEADER_<NAME>` extras, lowercase names. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly ttlSeconds?: number;
  /** Retry schedule after a failed fetch; ztunnel's (500 ms doubling to 150 s, ±20 %) when absent. */
  readonly backoff?: BackoffOptions;
  readonly maxConcurrentFetches?: number;
  /** Deadline of one CreateCertificate call. */
  readonly callTimeoutMs?: number;
  readonly logger: CertificateLogger;
}

export interface GetCertificateOptions {
  /** How long to wait for a fetch in flight (or being retried); default DEFAULT_CERT_WAIT_TIMEOUT_MS. */
  readonly timeoutMs?: number;
}

export interface CertificateManager {
  /**
   * Starts fetching (low priority) and keeps renewing `identity`, a SPIFFE ID, until `forget`; idempotent. Throws
   * ERR_CERT_IDENTITY_INVALID for anything else.
   */
  prefetch(identity: string): void;
  /** Stops renewing `identity` and drops its certificate: its last local workload is gone. Waiters fail. */
  forget(identity: string): void;
  /**
   * A usable certificate for `identity`, now if one is held, else after the fetch in flight (started at high
   * priority if none is). Waits through failed attempts and their backoff up to `timeoutMs`, then rejects
   * ERR_CERT_FETCH_TIMEOUT. An identity first seen here is kept and renewed like a prefetched one.
   */
  get(identity: string, options?: GetCertificateOptions): Promise<WorkloadCertificate>;
  /** The certificate held for `identity`, if any and not expired; never starts a fetch. */
  current(identity: string): WorkloadCertificate | undefined;
  /** Calls `listener` on every issuance, rotation and forget; returns the unsubscribe. */
  subscribe(listener: (change: CertificateChange) => void): () => void;
  /** The `certificates` section of /config_dump, sorted by identity. */
  snapshot(): CertificateDump[];
  /** Cancels every timer and CA call, fails every waiter ERR_CERT_MANAGER_CLOSED; idempotent. */
  close(): Promise<void>;
  /** close() without waiting for cancelled work to settle; idempotent. */
  destroy(): void;
}

interface Waiter {
  readonly resolve: (certificate: WorkloadCertificate) => void;
  readonly reject: (error: CertificateError) => void;
  readonly timer: NodeJS.Timeout;
}

interface Entry {
  readonly id: string;
  readonly identity: Identity;
  certificate: WorkloadCertificate | undefined;
  lastError: CertificateError | undefined;
  /** A fetch is queued or running. */
  fetching: boolean;
  /** The renewal or retry timer; exactly one of `fetching` and `timer` holds for a live entry. */
  timer: NodeJS.Timeout | undefined;
  /** Failed attempts since the last success: the backoff step. */
  failures: number;
  readonly waiters: Set<Waiter>;
  gone: boolean;
}

export function createCertificateManager(options: CertificateManagerOptions): CertificateManager {
  const { logger } = options;
  const ttlSeconds = options.ttlSeconds ?? DEFAULT_CERT_TTL_SECONDS;
  const backoff = createBackoff(options.backoff);
  const limiter = new FetchLimiter(options.maxConcurrentFetches ?? MAX_CONCURRENT_FETCHES);
  const ca = createCaClient({
    address: options.caAddress,
    credentials: options.credentials,
    ...(options.channelOptions === undefined ? {} : { channelOptions: options.channelOptions }),
    ...(options.headers === undefined ? {} : { headers: options.headers }),
    ...(options.callTimeoutMs === undefined ? {} : { callTimeoutMs: options.callTimeoutMs }),
  });
  const fetchContext: FetchContext = {
    ca,
    token: options.token,
    clusterId: options.clusterId,
    ttlSeconds,
    impersonate: options.impersonate ?? true,
  };
  const entries = new Map<string, Entry>();
  const listeners = new Set<(change: CertificateChange) => void>();
  let closed = false;
  let closing: Promise<void> | undefined;

  function parse(id: string): Identity {
    const parsed = parseSpiffeId(id);
    if (parsed.ok) return parsed.value;
    throw new CertificateError('ERR_CERT_IDENTITY_INVALID', parsed.error.message, parsed.error.hint);
  }

  function track(id: string, priority: FetchPriority): Entry {
    const existing = entries.get(id);
    if (existing !== undefined) {
      if (priority === 'high' && existing.fetching) limiter.raise(id);
      return existing;
    }
    const entry: Entry = {
      id,
      identity: parse(id),
      certificate: undefined,
      lastError: undefined,
      fetching: false,
      timer: undefined,
      failures: 0,
      waiters: new Set(),
      gone: false,
    };
    entries.set(id, entry);
    startFetch(entry, priority);
    return entry;
  }

  function startFetch(entry: Entry, priority: FetchPriority): void {
    clearTimer(entry);
    entry.fetching = true;
    limiter.enqueue(entry.id, priority, async () => {
      if (entry.gone) return;
      try {
        const certificate = await fetchCertificate(fetchContext, entry.id, entry.identity);
        if (!entry.gone) onIssued(entry, certificate);
      } catch (err) {
        const error = err instanceof CertificateError ? err : new CertificateError('ERR_CERT_FETCH_FAILED', errorText(err));
        if (!entry.gone) onFailed(entry, error);
      }
    });
  }

  function onIssued(entry: Entry, certificate: WorkloadCertificate): void {
    const previous = entry.certificate;
    entry.certificate = certificate;
    entry.lastError = undefined;
    entry.failures = 0;
    entry.fetching = false;
    arm(entry, certificate.refreshAt.getTime(), () => startFetch(entry, 'low'));
    const kind = previous === undefined ? 'issued' : 'rotated';
    const fields = {
      identity: entry.id,
      serial: certificate.serialNumber,
      notAfter: certificate.notAfter.toISOString(),
      refreshAt: certificate.refreshAt.toISOString(),
    };
    logger.info(fields, `workload certificate ${kind}`);
    for (const waiter of [...entry.waiters]) settle(entry, waiter, () => waiter.resolve(certificate));
    emit({ kind, identity: entry.identity, spiffeId: entry.id, certificate });
  }

  function onFailed(entry: Entry, error: CertificateError): void {
    entry.lastError = error;
    entry.fetching = false;
    const delay = backoff.delayMs(entry.failures);
    entry.failures += 1;
    logger.warn(
      { identity: entry.id, code: error.code, error: error.message, attempt: entry.failures, retryInMs: delay },
      'workload certificate fetch failed; retrying with backoff',
    );
    arm(entry, Date.now() + delay, () => startFetch(entry, entry.waiters.size > 0 ? 'high' : 'low'));
  }

  /** Runs `fire` at `dueAt`, in steps when that is beyond setTimeout's range. */
  function arm(entry: Entry, dueAt: number, fire: () => void): void {
    clearTimer(entry);
    const delay = Math.max(0, dueAt - Date.now());
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      if (delay > MAX_TIMER_MS) arm(entry, dueAt, fire);
      else fire();
    }, Math.min(delay, MAX_TIMER_MS));
  }

  function clearTimer(entry: Entry): void {
    if (entry.timer !== undefined) clearTimeout(entry.timer);
    entry.timer = undefined;
  }

  function settle(entry: Entry, waiter: Waiter, action: () => void): void {
    clearTimeout(waiter.timer);
    entry.waiters.delete(waiter);
    action();
  }

  function usable(entry: Entry | undefined): WorkloadCertificate | undefined {
    const certificate = entry?.certificate;
    return certificate !== undefined && Date.now() < certificate.notAfter.getTime() ? certificate : undefined;
  }

  function emit(change: CertificateChange): void {
    for (const listener of [...listeners]) {
      try {
        listener(change);
      } catch (err) {
        logger.error({ identity: change.spiffeId, error: errorText(err) }, 'a certificate change listener failed');
      }
    }
  }

  function drop(entry: Entry, error: CertificateError): void {
    entry.gone = true;
    clearTimer(entry);
    limiter.cancel(entry.id);
    entries.delete(entry.id);
    for (const waiter of [...entry.waiters]) settle(entry, waiter, () => waiter.reject(error));
  }

  function shutdown(): Promise<void> {
    if (closing !== undefined) return closing;
    closed = true;
    for (const entry of [...entries.values()]) {
      const message = `certificate manager closed while waiting for ${entry.id}`;
      drop(entry, new CertificateError('ERR_CERT_MANAGER_CLOSED', message));
    }
    ca.close();
    closing = limiter.drain();
    return closing;
  }

  return {
    prefetch(identity) {
      if (closed) return;
      track(identity, 'low');
    },
    forget(identity) {
      const entry = entries.get(identity);
      if (entry === undefined) return;
      const message = `certificate for ${identity} was forgotten while waiting for it`;
      drop(entry, new CertificateError('ERR_CERT_FORGOTTEN', message));
      logger.info({ identity }, 'workload certificate forgotten');
      emit({ kind: 'forgotten', identity: entry.identity, spiffeId: identity });
    },
    get(identity, getOptions = {}) {
      if (closed) return Promise.reject(new CertificateError('ERR_CERT_MANAGER_CLOSED', 'certificate manager is closed'));
      let entry: Entry;
      try {
        entry = track(identity, 'high');
      } catch (err) {
        return Promise.reject(err);
      }
      const ready = usable(entry);
      if (ready !== undefined) return Promise.resolve(ready);
      const timeoutMs = getOptions.timeoutMs ?? DEFAULT_CERT_WAIT_TIMEOUT_MS;
      return new Promise<WorkloadCertificate>((resolve, reject) => {
        const waiter: Waiter = {
          resolve,
          reject,
          timer: setTimeout(() => {
            const last = entry.lastError;
            const message = `no certificate for ${identity} within ${timeoutMs} ms`;
            const hint = last === undefined ? 'the CA has not answered yet' : `last attempt failed: ${last.message}`;
            const error = new CertificateError('ERR_CERT_FETCH_TIMEOUT', message, hint, last?.grpcCode, last);
            settle(entry, waiter, () => reject(error));
          }, timeoutMs),
        };
        entry.waiters.add(waiter);
      });
    },
    current: (identity) => usable(entries.get(identity)),
    subscribe(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    snapshot() {
      const now = new Date();
      return [...entries.values()]
        .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        .map((entry) => dumpCertificate(entry.id, entry.certificate, entry.lastError, now));
    },
    close: shutdown,
    destroy() {
      void shutdown();
    },
  };
}
