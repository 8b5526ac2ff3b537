// The endpoints a waypoint may send a request to for one service port: the WDS view of the service (reference §4.6
// steps 1 and 5) narrowed to what the waypoint's per-VIP cluster `inbound-vip|<port>|<subset>|<host>` holds (§7.2).

import {
  type Endpoint as WdsEndpoint,
  type MeshState,
  type Service,
  serviceKey,
  targetPortFor,
} from '@weft/mesh-model';

/** One upstream host: a workload and the port to dial on it (the `:authority` port of the HBONE CONNECT). */
export interface Endpoint {
  readonly uid: string;
  readonly ip: string;
  /** target port */
  readonly port: number;
}

/**
 * Healthy endpoints of a service for one service port: WDS Service endpoints (workload uid → port mapping, named
 * target ports resolved as the WDS Service does) joined with workloads (first IP; HEALTHY only); restricted to
 * `subsetUids` when given. Sorted by uid.
 *
 * Dropped: UNHEALTHY workloads, workloads without an IP (DNS-resolved ServiceEntry endpoints and address-less
 * endpoints behind a network gateway, which a waypoint cannot dial directly), and endpoints whose target port
 * resolves neither from their own mapping nor from the Service (an unresolved named port).
 */
export function resolveEndpoints(
  state: MeshState,
  service: { readonly namespace: string; readonly hostname: string },
  servicePort: number,
  subsetUids?: ReadonlySet<string>,
): Endpoint[] {
  const key = serviceKey(service.namespace, service.hostname);
  if (subsetUids !== undefined) return computeEndpoints(state, key, servicePort, subsetUids);
  // Asked once per request (and per retry): the answer changes only when the state does (a new batch bumps its
  // version), so it is kept per state and version. A copy is returned; callers own their array.
  let memo = memos.get(state);
  if (memo === undefined || memo.version !== state.version) {
    memo = { version: state.version, byPort: new Map() };
    memos.set(state, memo);
  }
  const memoKey = `${key}|${servicePort}`;
  let endpoints = memo.byPort.get(memoKey);
  if (endpoints === undefined) {
    endpoints = computeEndpoints(state, key, servicePort, undefined);
    memo.byPort.set(memoKey, endpoints);
  }
  return endpoints.slice();
}

/** Resolved endpoints per state, for its current version only (a WeakMap: a dropped state takes its memo along). */
const memos = new WeakMap<MeshState, { readonly version: number; readonly byPort: Map<string, readonly Endpoint[]> }>();

function computeEndpoints(state: MeshState, key: string, servicePort: number, subsetUids: ReadonlySet<string> | undefined): Endpoint[] {
  // Endpoints are known before (and without) their Service; then only the endpoint's own mapping can resolve.
  const wdsService = state.serviceByKey(key);
  const endpoints: Endpoint[] = [];
  for (const { endpoint, workload } of state.endpointCandidatesOf(key)) {
    if (subsetUids !== undefined && !subsetUids.has(workload.uid)) continue;
    if (workload.status !== 'HEALTHY') continue;
    const ip = workload.addresses[0];
    if (ip === undefined) continue;
    const port = resolveTargetPort(wdsService, endpoint, servicePort);
    if (port === undefined) continue;
    endpoints.push({ uid: workload.uid, ip, port });
  }
  return endpoints.sort((a, b) => (a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0));
}

/** The endpoint's own mapping (named ports resolved per pod), else the Service's numeric target port. */
function resolveTargetPort(
  service: Service | undefined,
  endpoint: WdsEndpoint,
  servicePort: number,
): number | undefined {
  if (service !== undefined) return targetPortFor(service, endpoint, servicePort);
  const own = endpoint.ports.get(servicePort);
  return own !== undefined && own > 0 ? own : undefined;
}
