// Workloads by uid and by `network/ip`, and the service endpoints derived from them: ztunnel's WorkloadStore plus the
// endpoint half of its ServiceStore. Endpoints hang off the workload's `services` map, so they exist before (and
// without) the Service itself, which is what ztunnel's "staged services" achieve.

import { networkAddressKey } from './ip-address';
import type { Endpoint, Workload } from './types';

/** The endpoints a workload contributes, one per key of its `services` map, in the map's order. */
export function workloadEndpoints(workload: Workload): Endpoint[] {
  const first = workload.addresses[0];
  // ztunnel dials the workload's own IP on its own network; the first address stands for the workload here and
  // the caller picks the family per connection (reference §4.6 step 5).
  const address = first === undefined ? undefined : { network: workload.network, address: first };
  return Object.entries(workload.services).map(([service, mappings]) => ({
    workloadUid: workload.uid,
    service,
    ...(address === undefined ? {} : { address }),
    ports: new Map(mappings.map((m) => [m.servicePort, m.targetPort])),
  }));
}

/** Address keys under which a workload is indexed; hostNetwork pods share the node's IP and are never indexed. */
export function workloadAddressKeys(workload: Workload): string[] {
  if (workload.networkMode === 'HOST_NETWORK') return [];
  return [...new Set(workload.addresses.map((a) => networkAddressKey(workload.network, a)))];
}

/**
 * Rank used when several workloads share an address (ztunnel `WorkloadByAddr::get`): a Pod is least likely to be
 * spoofed and most likely to be what is really behind the IP; a workload in the mesh (HBONE) carries more context.
 */
function addressRank(w: Workload): number {
  return (w.uid.includes('//Pod/') ? 2 : 0) + (w.tunnelProtocol === 'HBONE' ? 1 : 0);
}

export class WorkloadIndex {
  private readonly byUid = new Map<string, Workload>();
  /** Address key → uids, oldest write first; the order breaks rank ties in favour of the latest write. */
  private readonly byAddress = new Map<string, string[]>();
  private readonly endpointsByService = new Map<string, Map<string, Endpoint>>();
  private readonly sortedEndpoints = new Map<string, readonly Endpoint[]>();

  get size(): number {
    return this.byUid.size;
  }

  get(uid: string): Workload | undefined {
    return this.byUid.get(uid);
  }

  /** The workload answering for an address, or undefined; see `addressRank`. */
  byAddressKey(key: string): Workload | undefined {
    let best: Workload | undefined;
    for (const uid of this.byAddress.get(key) ?? []) {
      const w = this.byUid.get(uid);
      if (w !== undefined && (best === undefined || addressRank(w) >= addressRank(best))) best = w;
    }
    return best;
  }

  /** Every workload on an address, oldest write first. */
  allByAddressKey(key: string): Workload[] {
    return (this.byAddress.get(key) ?? []).flatMap((uid) => this.byUid.get(uid) ?? []);
  }

  /** Endpoints of a service key, sorted by workload uid so that selection is reproducible. */
  endpointsOf(serviceKey: string): readonly Endpoint[] {
    const cached = this.sortedEndpoints.get(serviceKey);
    if (cached !== undefined) return cached;
    const endpoints = this.endpointsByService.get(serviceKey);
    if (endpoints === undefined) return EMPTY;
    const sorted = Object.freeze([...endpoints.values()].sort((a, b) => compare(a.workloadUid, b.workloadUid)));
    this.sortedEndpoints.set(serviceKey, sorted);
    return sorted;
  }

  values(): Workload[] {
    return [...this.byUid.values()].sort((a, b) => compare(a.uid, b.uid));
  }

  /** Inserts or replaces a workload, re-indexing its addresses and endpoints from scratch. */
  put(workload: Workload): void {
    this.delete(workload.uid);
    this.byUid.set(workload.uid, workload);
    for (const key of workloadAddressKeys(workload)) {
      const uids = this.byAddress.get(key);
      if (uids === undefined) this.byAddress.set(key, [workload.uid]);
      else uids.push(workload.uid);
    }
    for (const endpoint of workloadEndpoints(workload)) {
      let endpoints = this.endpointsByService.get(endpoint.service);
      if (endpoints === undefined) {
        endpoints = new Map();
        this.endpointsByService.set(endpoint.service, endpoints);
      }
      endpoints.set(workload.uid, endpoint);
      this.sortedEndpoints.delete(endpoint.service);
    }
  }

  /** Removes a workload from every index; false when the uid was unknown. */
  delete(uid: string): boolean {
    const previous = this.byUid.get(uid);
    if (previous === undefined) return false;
    this.byUid.delete(uid);
    for (const key of workloadAddressKeys(previous)) {
      const remaining = (this.byAddress.get(key) ?? []).filter((u) => u !== uid);
      if (remaining.length === 0) this.byAddress.delete(key);
      else this.byAddress.set(key, remaining);
    }
    for (const service of Object.keys(previous.services)) {
      const endpoints = this.endpointsByService.get(service);
      endpoints?.delete(uid);
      if (endpoints?.size === 0) this.endpointsByService.delete(service);
      this.sortedEndpoints.delete(service);
    }
    return true;
  }

  /** Index sizes, for tests and admin output: proves removal leaves nothing behind. */
  stats(): { workloads: number; addresses: number; endpointServices: number } {
    return {
      workloads: this.byUid.size,
      addresses: this.byAddress.size,
      endpointServices: this.endpointsByService.size,
    };
  }
}

const EMPTY: readonly Endpoint[] = Object.freeze([]);

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
