// Remote JWKS for `jwksUri` rules, fetched through an injected fetcher (no sockets here) and cached. Concurrent
// requests share one fetch; an unknown kid may force a refetch, at most once per refetch interval, so a token
// with a random kid cannot make the waypoint hammer the issuer.

import { parseKeySet, type KeySet } from './jwks-keys';
import type { JwtFailure } from './jwt-status';

/** Fetches a JWKS document (JSON text or parsed value); must honour the timeout and reject on failure. */
export type JwksFetcher = (uri: string, timeoutMs: number) => Promise<unknown>;

/** Envoy RemoteJwks `cache_duration` default: 10 minutes. */
export const DEFAULT_JWKS_CACHE_MS = 600_000;
/** Istio JWTRule `timeout` default: 5 s. */
export const DEFAULT_JWKS_FETCH_TIMEOUT_MS = 5_000;
/** Minimum time between two fetches of one URI triggered by a kid the cached set lacks. */
export const DEFAULT_JWKS_REFETCH_INTERVAL_MS = 30_000;

export type KeySetLookup = { readonly ok: true; readonly keySet: KeySet } | { readonly ok: false; readonly failure: JwtFailure };

export interface JwksCacheOptions {
  readonly fetchJwks: JwksFetcher;
  readonly now: () => number;
  readonly cacheMs: number;
  readonly refetchIntervalMs: number;
}

interface Entry {
  keySet?: KeySet;
  fetchedAt: number;
  /** When the last fetch started, successful or not (rate-limits refetches). */
  attemptedAt: number;
  inflight?: Promise<KeySetLookup>;
}

export class JwksCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly options: JwksCacheOptions) {}

  /** The cached keys of `uri`, fetching when there are none or they are older than the cache duration. */
  get(uri: string, timeoutMs: number): Promise<KeySetLookup> {
    const entry = this.entries.get(uri);
    if (entry?.inflight !== undefined) return entry.inflight;
    if (entry?.keySet !== undefined && this.options.now() - entry.fetchedAt < this.options.cacheMs) {
      return Promise.resolve({ ok: true, keySet: entry.keySet });
    }
    return this.fetch(uri, timeoutMs);
  }

  /**
   * Refetches because a token's kid matched no cached key. Returns undefined when a fetch happened within the
   * refetch interval (the caller keeps its answer).
   */
  refreshForUnknownKey(uri: string, timeoutMs: number): Promise<KeySetLookup> | undefined {
    const entry = this.entries.get(uri);
    if (entry?.inflight !== undefined) return entry.inflight;
    if (entry !== undefined && this.options.now() - entry.attemptedAt < this.options.refetchIntervalMs) return undefined;
    return this.fetch(uri, timeoutMs);
  }

  private fetch(uri: string, timeoutMs: number): Promise<KeySetLookup> {
    let entry = this.entries.get(uri);
    if (entry === undefined) {
      entry = { fetchedAt: 0, attemptedAt: 0 };
      this.entries.set(uri, entry);
    }
    const target = entry;
    target.attemptedAt = this.options.now();
    const inflight = this.options.fetchJwks(uri, timeoutMs).then(
      (document): KeySetLookup => {
        const parsed = parseKeySet(document);
        if (parsed.ok) {
          target.keySet = parsed.keySet;
          target.fetchedAt = this.options.now();
        }
        return parsed;
      },
      // Envoy answers JwksFetchFail for any fetch error; the reason belongs to the fetcher's own logging.
      (): KeySetLookup => ({ ok: false, failure: 'JwksFetchFail' }),
    );
    target.inflight = inflight.finally(() => {
      target.inflight = undefined;
    });
    return target.inflight;
  }
}
