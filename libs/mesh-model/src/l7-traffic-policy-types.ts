// Upstream connection policy a waypoint applies, from Istio's DestinationRule (protos/weft/l7/v1/traffic_policy.proto)
// in domain form. Absent parts mean Istio's defaults, which the proto comments list.

export type LoadBalancerSimple = 'LEAST_REQUEST' | 'ROUND_ROBIN' | 'RANDOM' | 'PASSTHROUGH';

/** `ConsistentHash.hash_key`. */
export type ConsistentHashKey =
  | { readonly kind: 'httpHeaderName'; readonly name: string }
  | { readonly kind: 'httpCookie'; readonly name: string; readonly path: string; readonly ttlMs?: number }
  | { readonly kind: 'useSourceIp' }
  | { readonly kind: 'httpQueryParameterName'; readonly name: string };

/** `LoadBalancer.policy`. */
export type LoadBalancer =
  | { readonly kind: 'simple'; readonly simple: LoadBalancerSimple }
  | {
      readonly kind: 'consistentHash';
      readonly hashKey: ConsistentHashKey;
      /** 0 = the implementation's default ring size. */
      readonly minimumRingSize: number;
    };

/** Limits ("circuit breaking"); a 0 limit means Istio's default, effectively unlimited. */
export interface ConnectionPool {
  readonly tcp?: {
    readonly maxConnections: number;
    /** Absent: 10s. */
    readonly connectTimeoutMs?: number;
    readonly idleTimeoutMs?: number;
    readonly maxConnectionDurationMs?: number;
  };
  readonly http?: {
    readonly http1MaxPendingRequests: number;
    readonly http2MaxRequests: number;
    /** 0 = unlimited. */
    readonly maxRequestsPerConnection: number;
    readonly maxRetries: number;
    /** Absent: 1h. */
    readonly idleTimeoutMs?: number;
    readonly maxConcurrentStreams: number;
  };
}

/** Passive health checking; only applied when configured. */
export interface OutlierDetection {
  /** Absent: Istio's default 5; 0 disables. */
  readonly consecutive5xxErrors?: number;
  /** Absent: off. */
  readonly consecutiveGatewayErrors?: number;
  /** Absent: 10s. */
  readonly intervalMs?: number;
  /** Absent: 30s. */
  readonly baseEjectionTimeMs?: number;
  /** 0 = Istio's default of 10. */
  readonly maxEjectionPercent: number;
  readonly minHealthPercent: number;
  readonly splitExternalLocalOriginErrors: boolean;
  /** Absent: 5. */
  readonly consecutiveLocalOriginFailures?: number;
}

export interface PortTrafficPolicy {
  readonly port: number;
  readonly loadBalancer?: LoadBalancer;
  readonly connectionPool?: ConnectionPool;
  readonly outlierDetection?: OutlierDetection;
}

export interface TrafficPolicy {
  readonly loadBalancer?: LoadBalancer;
  readonly connectionPool?: ConnectionPool;
  readonly outlierDetection?: OutlierDetection;
  /** Per-port overrides; unset parts fall back to this policy. */
  readonly portLevel: readonly PortTrafficPolicy[];
}

/** A named group of a service's endpoints. */
export interface Subset {
  readonly name: string;
  /** Endpoints whose labels contain all of these. */
  readonly labels: Readonly<Record<string, string>>;
  /** Overrides the service's policy for this subset. */
  readonly trafficPolicy?: TrafficPolicy;
  /**
   * WDS Workload uids (`<cluster>//Pod/<ns>/<name>`) of the service's endpoints whose pod labels contain all of
   * `labels`, resolved by the controlplane because WDS Workloads carry no labels. Sorted.
   */
  readonly workloadUids: readonly string[];
}
