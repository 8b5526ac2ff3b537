// Small value helpers every routing decision shares: ztunnel's own ports, loopback and family tests, the
// `:authority` spelling and the SPIFFE identities a hop is expected to present.

import { formatSpiffeId, identityFromWorkload, parseSpiffeId, type Identity } from '@weft/identity';
import { formatIp, parseIp, unmapIpv4Mapped, type Service, type Workload } from '@weft/mesh-model';

/** ztunnel's listener ports inside a pod netns (reference §1.1). */
export const OUTBOUND_PORT = 15001;
export const INBOUND_PLAINTEXT_PORT = 15006;
export const HBONE_PORT = 15008;
export const SOCKS5_PORT = 15080;

/**
 * Ports ztunnel refuses to proxy to, so it never loops into itself or nests HBONE in HBONE (reference §1.1
 * "Illegal ports"); 15080 only while the SOCKS5 listener is on.
 */
export function illegalPorts(socks5Enabled = false): ReadonlySet<number> {
  return new Set(socks5Enabled ? [OUTBOUND_PORT, INBOUND_PLAINTEXT_PORT, HBONE_PORT, SOCKS5_PORT] : [OUTBOUND_PORT, INBOUND_PLAINTEXT_PORT, HBONE_PORT]);
}

/** A socket address as the data path reports it. */
export interface SocketTarget {
  readonly ip: string;
  readonly port: number;
}

/** The canonical text of an IP, with IPv4-mapped IPv6 unmapped (dual-stack sockets report IPv4 peers that way). */
export function normalizeIp(ip: string): string {
  const parsed = parseIp(ip);
  return parsed === undefined ? ip : formatIp(unmapIpv4Mapped(parsed));
}

export function isLoopback(ip: string): boolean {
  const parsed = parseIp(ip);
  if (parsed === undefined) return false;
  const unmapped = unmapIpv4Mapped(parsed);
  if (unmapped.family === 4) return unmapped.bytes[0] === 127;
  return unmapped.bytes.subarray(0, 15).every((b) => b === 0) && unmapped.bytes[15] === 1;
}

/** `ip:port`, with IPv6 in brackets, as `:authority` and log fields spell a socket address. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * The address to dial on a workload: the one of the original destination's family when it has one (reference §4.6
 * step 5), else its first address; undefined for an address-less (hostname) workload.
 */
export function workloadAddressFor(workload: Workload, familyOf: string): string | undefined {
  const family = parseIp(familyOf)?.family;
  const sameFamily = workload.addresses.find((a) => parseIp(a)?.family === family);
  return sameFamily ?? workload.addresses[0];
}

export function workloadIdentity(workload: Workload): Identity {
  return identityFromWorkload(workload.trustDomain, workload.namespace, workload.serviceAccount);
}

/** `spiffe://<td>/ns/<ns>/sa/<sa>` of a workload. */
export function workloadSpiffeId(workload: Workload): string {
  return formatSpiffeId(workloadIdentity(workload));
}

/**
 * The SANs a TLS client accepts from the next hop: the chosen workload's own identity plus the service's
 * `subject_alt_names` that parse as SPIFFE IDs; invalid entries are dropped (reference §2.1).
 */
export function expectedIdentities(workload: Workload, service?: Service): readonly string[] {
  const sans = (service?.subjectAltNames ?? []).filter((san) => parseSpiffeId(san).ok);
  return [...new Set([workloadSpiffeId(workload), ...sans])];
}
