// The CONNECT `:authority` of HBONE (reference §2.3/§2.4): `ip:port` with IPv6 bracketed, or `host:port` for
// service-hostname targets (double HBONE, E/W gateways). Pure: parsing and formatting only.

import { isIPv4, isIPv6 } from 'node:net';

/** A parsed `:authority`. IP literals are stored unbracketed; `family` tells IPv4 from IPv6. */
export type Authority =
  | { readonly kind: 'ip'; readonly host: string; readonly port: number; readonly family: 4 | 6 }
  | { readonly kind: 'hostname'; readonly host: string; readonly port: number };

// RFC 1123 host names (what a Kubernetes service FQDN looks like).
const HOSTNAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;
const PORT = /^[0-9]{1,5}$/;

/**
 * Parse `ip:port` (`[v6]:port`) or `host:port`. Returns undefined for anything else: no port, port 0 or above
 * 65535, an unbracketed IPv6 literal, a zone id, userinfo or a path. Never throws.
 */
export function parseAuthority(text: string): Authority | undefined {
  let host: string;
  let portText: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0 || text[close + 1] !== ':') return undefined;
    host = text.slice(1, close);
    portText = text.slice(close + 2);
    if (!isIPv6(host) || host.includes('%')) return undefined;
  } else {
    const colon = text.lastIndexOf(':');
    if (colon <= 0) return undefined;
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
    if (host.includes(':')) return undefined;
  }
  if (!PORT.test(portText)) return undefined;
  const port = Number(portText);
  if (port < 1 || port > 65535) return undefined;
  if (isIPv6(host)) return { kind: 'ip', host, port, family: 6 };
  if (isIPv4(host)) return { kind: 'ip', host, port, family: 4 };
  // A dotted-quad that isIPv4 refused (e.g. 999.1.1.1 or 010.0.0.1) is a typo, not a host name.
  if (/^[0-9.]+$/.test(host)) return undefined;
  return HOSTNAME.test(host) ? { kind: 'hostname', host: host.toLowerCase(), port } : undefined;
}

/** `1.2.3.4:80`, `[::1]:80` or `svc.ns.svc.cluster.local:80`. */
export function formatAuthority(address: { readonly host: string; readonly port: number }): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}
