// The request headers ztunnel puts on a CONNECT besides `:authority` (reference §2.3): `forwarded` (the original
// client), `baggage` (source workload labels for the peer's metrics) and a W3C `traceparent`, random per connection.

import { randomBytes } from 'node:crypto';
import { formatAuthority } from './authority';

export const HEADER_FORWARDED = 'forwarded';
export const HEADER_BAGGAGE = 'baggage';
export const HEADER_TRACEPARENT = 'traceparent';

/** The CONNECT headers HBONE gives meaning to; each is sent only when set. */
export interface TunnelHeaders {
  readonly forwarded?: string;
  readonly baggage?: string;
  readonly traceparent?: string;
}

/** `for="<client ip:port>"` or `for="<client ip:port>";host=<intended service FQDN>`. */
export function formatForwarded(client: { readonly address: string; readonly port: number }, host?: string): string {
  const forClause = `for="${formatAuthority({ host: client.address, port: client.port })}"`;
  return host === undefined ? forClause : `${forClause};host=${host}`;
}

/** `00-<32 hex trace id>-<16 hex parent id>-00`: a fresh, unsampled W3C trace context. */
export function newTraceparent(): string {
  return `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-00`;
}

/** Pick the HBONE headers out of received HTTP/2 headers (single-valued; a repeated header keeps its first value). */
export function readTunnelHeaders(headers: Readonly<Record<string, string | string[] | undefined>>): TunnelHeaders {
  const pick = (name: string): string | undefined => {
    const value = headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const forwarded = pick(HEADER_FORWARDED);
  const baggage = pick(HEADER_BAGGAGE);
  const traceparent = pick(HEADER_TRACEPARENT);
  return {
    ...(forwarded === undefined ? {} : { forwarded }),
    ...(baggage === undefined ? {} : { baggage }),
    ...(traceparent === undefined ? {} : { traceparent }),
  };
}
