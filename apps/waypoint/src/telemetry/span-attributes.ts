// The attributes of a waypoint's SERVER span, named as Envoy's HTTP tracer tags them (`Tracing::Tags`: `http.method`,
// `http.url`, `upstream_cluster`, …) plus the `istio.*` tags istiod configures on every proxy, so traces from Weft
// and Envoy waypoints read the same in a backend.

export interface SpanAttributesInput {
  readonly method: string;
  /** `http` or `https` as the client sees it; Envoy builds `http.url` from it, `:authority` and `:path`. */
  readonly scheme: string;
  readonly authority: string;
  readonly path: string;
  /** `HTTP/1.1` or `HTTP/2`. */
  readonly protocol: string;
  /** 0 when no response was sent. */
  readonly responseCode: number;
  readonly responseFlags: string;
  readonly grpcStatus?: number;
  readonly requestBytes: number;
  readonly responseBytes: number;
  readonly requestId?: string;
  readonly userAgent?: string;
  /** `x-envoy-downstream-service-cluster`, if the client sent one. */
  readonly downstreamCluster?: string;
  /** `ip:port` of the HBONE peer. */
  readonly peerAddress?: string;
  readonly upstreamCluster?: string;
  /** `ip:port` of the endpoint that answered last. */
  readonly upstreamHost?: string;
  /** The waypoint itself: Envoy's `node_id`, and the canonical labels, mesh and cluster Istio tags spans with. */
  readonly proxy: {
    readonly nodeId: string;
    readonly canonicalService: string;
    readonly canonicalRevision: string;
    readonly namespace: string;
    readonly meshId: string;
    readonly clusterId: string;
    readonly zone?: string;
  };
}

/** Envoy marks a span as an error for 5xx, for no response at all, and for a non-OK gRPC status. */
export function isErrorResponse(responseCode: number, grpcStatus?: number): boolean {
  return responseCode === 0 || responseCode >= 500 || (grpcStatus !== undefined && grpcStatus !== 0);
}

/** Envoy's tags of a finished request plus Istio's `istio.*`; optional values are left out when unknown. */
export function serverSpanAttributes(input: SpanAttributesInput): Record<string, string | number> {
  const optional: [string, string | number | undefined][] = [
    ['guid:x-request-id', input.requestId],
    ['user_agent', input.userAgent],
    ['downstream_cluster', input.downstreamCluster],
    ['peer.address', input.peerAddress],
    ['upstream_cluster', input.upstreamCluster],
    ['upstream_cluster.name', input.upstreamCluster],
    ['upstream_address', input.upstreamHost],
    ['grpc.status_code', input.grpcStatus],
    ['zone', input.proxy.zone],
  ];
  return {
    component: 'proxy',
    node_id: input.proxy.nodeId,
    'http.method': input.method,
    'http.url': `${input.scheme}://${input.authority}${input.path}`,
    'http.protocol': input.protocol,
    'http.status_code': input.responseCode,
    request_size: input.requestBytes,
    response_size: input.responseBytes,
    response_flags: input.responseFlags === '' ? '-' : input.responseFlags,
    'istio.canonical_service': input.proxy.canonicalService,
    'istio.canonical_revision': input.proxy.canonicalRevision,
    'istio.namespace': input.proxy.namespace,
    'istio.mesh_id': input.proxy.meshId,
    'istio.cluster_id': input.proxy.clusterId,
    ...Object.fromEntries(optional.filter((e): e is [string, string | number] => e[1] !== undefined && e[1] !== '')),
  };
}
