// Retry policies as istiod computes them (pilot/pkg/networking/core/route/retry/retry.go, reference §7.4): the
// default every route gets when none is written, and the conversion of a VirtualService `retries` block onto it.

import type { RetryPolicy } from '@weft/mesh-model';

import { asArray, asNumber, asRecord, asString } from './translate-types';
import { durationMs } from './translate-l7-common';

/**
 * istiod `DefaultPolicy()`: 2 retries on connect-failure, refused-stream, unavailable, cancelled and 503
 * (`retriable-status-codes` with code 503), avoiding hosts already tried (`previous_hosts`, 5 selection attempts).
 * The istio/api comment lists the default without the status-code token; the code has it (§7.4).
 */
export const ISTIO_DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  attempts: 2,
  retryOn: Object.freeze(['connect-failure', 'refused-stream', 'unavailable', 'cancelled', 'retriable-status-codes']),
  retriableStatusCodes: Object.freeze([503]),
  retryRemoteLocalities: false,
  ignorePreviousHosts: true,
  hostSelectionRetryMaxAttempts: 5,
  isDefault: true,
});

/** Splits `retryOn` into Envoy tokens and status codes; codes imply the `retriable-status-codes` token. */
export function parseRetryOn(text: string): { retryOn: string[]; codes: number[] } {
  const retryOn: string[] = [];
  const codes: number[] = [];
  for (const raw of text.split(',')) {
    const token = raw.trim();
    if (token === '') continue;
    if (/^\d+$/.test(token)) codes.push(Number(token));
    else if (!retryOn.includes(token)) retryOn.push(token);
  }
  if (codes.length > 0 && !retryOn.includes('retriable-status-codes')) retryOn.push('retriable-status-codes');
  return { retryOn, codes };
}

/**
 * istiod `ConvertPolicy`: no block ⇒ the default; `attempts` absent or 0 ⇒ retries disabled (undefined); otherwise
 * the default with the written fields laid over it.
 */
export function convertVirtualServiceRetries(value: unknown): RetryPolicy | undefined {
  const retries = asRecord(value);
  if (retries === undefined) return ISTIO_DEFAULT_RETRY_POLICY;
  const attempts = asNumber(retries['attempts']) ?? 0;
  if (attempts <= 0) return undefined;
  const retryOnText = asString(retries['retryOn']);
  const parsed = retryOnText === undefined || retryOnText === '' ? undefined : parseRetryOn(retryOnText);
  const perTryTimeoutMs = durationMs(retries['perTryTimeout']);
  const backoffBaseIntervalMs = durationMs(retries['backoff']);
  const ignore = retries['retryIgnorePreviousHosts'];
  return {
    ...ISTIO_DEFAULT_RETRY_POLICY,
    attempts,
    ...(parsed === undefined ? {} : { retryOn: parsed.retryOn, retriableStatusCodes: parsed.codes }),
    ...(perTryTimeoutMs === undefined ? {} : { perTryTimeoutMs }),
    ...(backoffBaseIntervalMs === undefined ? {} : { backoffBaseIntervalMs }),
    retryRemoteLocalities: retries['retryRemoteLocalities'] === true,
    ignorePreviousHosts: typeof ignore === 'boolean' ? ignore : true,
    isDefault: false,
  };
}

/**
 * Gateway API `HTTPRouteRetry` as istiod converts it (§7.3): attempts default 2, retryOn the default tokens plus the
 * listed codes, backoff as the base interval.
 */
export function convertHttpRouteRetry(value: unknown, perTryTimeoutMs: number | undefined): RetryPolicy | undefined {
  const retry = asRecord(value);
  if (retry === undefined) return undefined;
  const attempts = asNumber(retry['attempts']) ?? 2;
  if (attempts <= 0) return undefined;
  const codes = asArray(retry['codes']).map(asNumber).filter((c): c is number => c !== undefined);
  const backoffBaseIntervalMs = durationMs(retry['backoff']);
  // conversion.go writes "connect-failure,refused-stream,unavailable,cancelled,<codes>" and ConvertPolicy parses it.
  const { retryOn, codes: retriableStatusCodes } = parseRetryOn(['connect-failure', 'refused-stream', 'unavailable', 'cancelled', ...codes].join(','));
  return {
    ...ISTIO_DEFAULT_RETRY_POLICY,
    attempts,
    retryOn,
    retriableStatusCodes,
    ...(perTryTimeoutMs === undefined ? {} : { perTryTimeoutMs }),
    ...(backoffBaseIntervalMs === undefined ? {} : { backoffBaseIntervalMs }),
    isDefault: false,
  };
}
