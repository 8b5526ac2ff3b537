// Services by key, by `network/vip` (exact and CIDR) and by hostname, and the choice among several candidates:
// ztunnel's ServiceStore with `get_best_by_vip` / `get_best_by_host` (ServiceMatch), plus `visibility` (recent).

import { hostPrefixLength, networkAddressKey, parseIp, prefixContains, type ParsedIp } from './ip-address';
import { type NetworkAddress, type Service, serviceKey } from './types';

/**
 * The service a client in `sourceNamespace` reaches among several sharing a VIP or hostname. A NAMESPACE-visible
 * service is invisible outside its namespace; then, as ztunnel's ServiceMatch: one in the client's namespace, else
 * a `canonical` one, else the first. Candidates are taken in key order, so "first" is the smallest key where
 * ztunnel would take its insertion order.
 */
export function chooseService(candidates: readonly Service[], sourceNamespace: string): Service | undefined {
  const visible = candidates.filter((s) => s.visibility !== 'NAMESPACE' || s.namespace === sourceNamespace);
  return (
    visible.find((s) => s.namespace === sourceNamespace) ?? visible.find((s) => s.canonical) ?? visible[0]
  );
}

interface CidrVip {
  readonly prefix: ParsedIp;
  readonly length: number;
  readonly service: string;
}

/** A VIP is a CIDR when it carries a length shorter than a host prefix (ztunnel: `cidr_vips`). */
function cidrOf(vip: NetworkAddress): { prefix: ParsedIp; length: number } | undefined {
  if (vip.length === undefined) return undefined;
  const prefix = parseIp(vip.address);
  if (prefix === undefined || vip.length >= hostPrefixLength(prefix.family)) return undefined;
  return { prefix, length: vip.length };
}

export class ServiceIndex {
  private readonly byKey = new Map<string, Service>();
  private readonly byVip = new Map<string, Set<string>>();
  /** Network → CIDR VIPs; scanned only when an exact VIP lookup misses, so its size is the k of that lookup. */
  private readonly cidrByNetwork = new Map<string, CidrVip[]>();
  private readonly byHostname = new Map<string, Set<string>>();

  get size(): number {
    return this.byKey.size;
  }

  get(key: string): Service | undefined {
    return this.byKey.get(key);
  }

  /**
   * Services with this VIP, sorted by key. Exact VIPs win; only when none matches are CIDR VIPs consulted, and then
   * only the longest matching prefix (ztunnel `get_best_by_vip`).
   */
  byVipAll(network: string, ip: string): Service[] {
    const exact = this.resolve(this.byVip.get(networkAddressKey(network, ip)));
    if (exact.length > 0) return exact;
    const cidrs = this.cidrByNetwork.get(network);
    const parsed = cidrs === undefined ? undefined : parseIp(ip);
    if (cidrs === undefined || parsed === undefined) return [];
    let best = -1;
    let keys: string[] = [];
    for (const c of cidrs) {
      if (c.length < best || !prefixContains(c.prefix, c.length, parsed)) continue;
      if (c.length > best) {
        best = c.length;
        keys = [];
      }
      keys.push(c.service);
    }
    return this.resolve(new Set(keys));
  }

  /** Services with this hostname (one per namespace at most), sorted by key. */
  byHostnameAll(hostname: string): Service[] {
    return this.resolve(this.byHostname.get(hostname));
  }

  values(): Service[] {
    return this.resolve(new Set(this.byKey.keys()));
  }

  /** Inserts or replaces a service; a replaced service is first removed from every index. */
  put(service: Service): void {
    const key = serviceKey(service.namespace, service.hostname);
    this.delete(key);
    this.byKey.set(key, service);
    for (const vip of service.vips) {
      const cidr = cidrOf(vip);
      if (cidr === undefined) {
        addTo(this.byVip, networkAddressKey(vip.network, vip.address), key);
      } else {
        const list = this.cidrByNetwork.get(vip.network) ?? [];
        list.push({ ...cidr, service: key });
        this.cidrByNetwork.set(vip.network, list);
      }
    }
    addTo(this.byHostname, service.hostname, key);
  }

  /** Removes a service from every index; false when the key was unknown. */
  delete(key: string): boolean {
    const previous = this.byKey.get(key);
    if (previous === undefined) return false;
    this.byKey.delete(key);
    for (const vip of previous.vips) {
      if (cidrOf(vip) === undefined) {
        removeFrom(this.byVip, networkAddressKey(vip.network, vip.address), key);
        continue;
      }
      const remaining = (this.cidrByNetwork.get(vip.network) ?? []).filter((c) => c.service !== key);
      if (remaining.length === 0) this.cidrByNetwork.delete(vip.network);
      else this.cidrByNetwork.set(vip.network, remaining);
    }
    removeFrom(this.byHostname, previous.hostname, key);
    return true;
  }

  /** Index sizes, for tests and admin output: proves removal leaves nothing behind. */
  stats(): { services: number; vips: number; cidrNetworks: number; hostnames: number } {
    return {
      services: this.byKey.size,
      vips: this.byVip.size,
      cidrNetworks: this.cidrByNetwork.size,
      hostnames: this.byHostname.size,
    };
  }

  private resolve(keys: ReadonlySet<string> | undefined): Service[] {
    if (keys === undefined) return [];
    return [...keys].sort().flatMap((k) => this.byKey.get(k) ?? []);
  }
}

function addTo(index: Map<string, Set<string>>, key: string, value: string): void {
  const set = index.get(key);
  if (set === undefined) index.set(key, new Set([value]));
  else set.add(value);
}

function removeFrom(index: Map<string, Set<string>>, key: string, value: string): void {
  const set = index.get(key);
  set?.delete(value);
  if (set?.size === 0) index.delete(key);
}
