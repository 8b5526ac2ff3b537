// Domain types of the mesh as proxies see it: the decoded, defaulted form of istio.workload.Address and
// istio.security.Authorization (reference §4.2, §4.3). Plain data only; wire types stay in libs/xds.

/** `Workload.tunnel_protocol`. */
export type TunnelProtocol = 'NONE' | 'HBONE' | 'LEGACY_ISTIO_MTLS';
/** `Workload.workload_type`; istiod sends POD for backward compatibility. */
export type WorkloadType = 'DEPLOYMENT' | 'CRONJOB' | 'POD' | 'JOB';
/** `Workload.status`: UNHEALTHY when the pod is not Ready or is being deleted. */
export type WorkloadStatus = 'HEALTHY' | 'UNHEALTHY';
/** `AppProtocol` of a service port. */
export type AppProtocol = 'UNKNOWN' | 'HTTP11' | 'HTTP2' | 'GRPC' | 'TCP' | 'TLS';
export type NetworkMode = 'STANDARD' | 'HOST_NETWORK';
export type IpFamilies = 'AUTOMATIC' | 'IPV4_ONLY' | 'IPV6_ONLY' | 'DUAL';
export type ServiceVisibility = 'PUBLIC' | 'NAMESPACE';

/** An IP address in canonical text form (`10.0.0.1`, `fd00::1`) on a network ("" = the default network). */
export interface NetworkAddress {
  readonly network: string;
  readonly address: string;
  /** Prefix length for CIDR VIPs (recent Istio); absent for a single address. */
  readonly length?: number;
}

export type GatewayDestination =
  | { readonly kind: 'hostname'; readonly namespace: string; readonly hostname: string }
  | { readonly kind: 'address'; readonly network: string; readonly address: string };

/**
 * `GatewayAddress`: where a waypoint or network gateway is reached. istiod prefers the hostname form
 * (the waypoint Service), resolved by the proxy through its service table.
 */
export interface GatewayAddress {
  readonly destination: GatewayDestination;
  /** Port of the HBONE listener, normally 15008. */
  readonly hboneMtlsPort: number;
}

/** A waypoint binding is a gateway address; the name says what it is used for. */
export type Waypoint = GatewayAddress;

/** `Port`: a service port and the target port it maps to (0 = named port, resolved per endpoint). */
export interface PortMapping {
  readonly servicePort: number;
  readonly targetPort: number;
  readonly appProtocol: AppProtocol;
}

export interface Locality {
  readonly region: string;
  readonly zone: string;
  readonly subzone: string;
}

export interface ApplicationTunnel {
  readonly protocol: 'NONE' | 'PROXY';
  /** Port the tunnel terminates on; 0 = the original port. */
  readonly port: number;
}

export interface Workload {
  /** Primary key, e.g. `Kubernetes//Pod/default/httpbin-abc`. */
  readonly uid: string;
  readonly name: string;
  readonly namespace: string;
  /** Canonical text IPs (dual stack gives two). */
  readonly addresses: readonly string[];
  /** Used instead of addresses for DNS-resolved ServiceEntry endpoints; "" otherwise. */
  readonly hostname: string;
  readonly network: string;
  readonly tunnelProtocol: TunnelProtocol;
  /** Defaulted: never empty (the wire's "" means `cluster.local`). */
  readonly trustDomain: string;
  /** Defaulted: never empty (the wire's "" means `default`). */
  readonly serviceAccount: string;
  /** Waypoint for workload-addressed traffic. */
  readonly waypoint?: GatewayAddress;
  readonly networkGateway?: GatewayAddress;
  readonly node: string;
  readonly canonicalName: string;
  readonly canonicalRevision: string;
  readonly workloadType: WorkloadType;
  readonly workloadName: string;
  readonly nativeTunnel: boolean;
  readonly applicationTunnel?: ApplicationTunnel;
  /** Keyed by service key `<ns>/<hostname>`; named target ports already resolved for this workload. */
  readonly services: Readonly<Record<string, readonly PortMapping[]>>;
  /** Keys `<ns>/<name>` of selector-scoped policies (and converted PeerAuthentication) that apply. */
  readonly authorizationPolicies: readonly string[];
  readonly status: WorkloadStatus;
  readonly clusterId: string;
  readonly locality?: Locality;
  readonly networkMode: NetworkMode;
  /** Load-balancing weight; the wire's unset means 1. */
  readonly capacity: number;
}

export type LoadBalancingScope = 'REGION' | 'ZONE' | 'SUBZONE' | 'NODE' | 'CLUSTER' | 'NETWORK';
export type LoadBalancingMode = 'UNSPECIFIED_MODE' | 'STRICT' | 'FAILOVER' | 'PASSTHROUGH';
export type HealthPolicy = 'ONLY_HEALTHY' | 'ALLOW_ALL';

export interface LoadBalancing {
  readonly routingPreference: readonly LoadBalancingScope[];
  readonly mode: LoadBalancingMode;
  readonly healthPolicy: HealthPolicy;
}

export interface WeightedWaypoint {
  readonly destination: GatewayAddress;
  readonly weight: number;
}

export interface Service {
  readonly name: string;
  readonly namespace: string;
  /** `<name>.<ns>.svc.<domain>` or a ServiceEntry host. */
  readonly hostname: string;
  /** Empty for headless services. */
  readonly vips: readonly NetworkAddress[];
  readonly ports: readonly PortMapping[];
  readonly subjectAltNames: readonly string[];
  readonly waypoint?: GatewayAddress;
  readonly loadBalancing?: LoadBalancing;
  readonly ipFamilies: IpFamilies;
  readonly canonical: boolean;
  readonly ingressUseWaypoint: boolean;
  readonly weightedWaypoints: readonly WeightedWaypoint[];
  readonly visibility: ServiceVisibility;
}

/**
 * An endpoint of a service: a workload that the service selects, with the port map for that workload.
 * Derived by the store from `Workload.services`; never sent on the wire.
 */
export interface Endpoint {
  readonly workloadUid: string;
  /** Service key `<ns>/<hostname>`. */
  readonly service: string;
  /** First address of the workload, absent for address-less workloads. */
  readonly address?: NetworkAddress;
  /** servicePort → targetPort for this workload (target 0 = unresolved named port). */
  readonly ports: ReadonlyMap<number, number>;
}

// ---- Authorization (istio.security.Authorization, ztunnel's L4 form) ----

export type StringMatch =
  | { readonly kind: 'exact'; readonly value: string }
  | { readonly kind: 'prefix'; readonly value: string }
  | { readonly kind: 'suffix'; readonly value: string }
  | { readonly kind: 'presence' };

/** A CIDR; a plain IP is a host-length prefix. */
export interface CidrMatch {
  readonly address: string;
  readonly prefixLength: number;
}

export interface ServiceAccountMatch {
  readonly namespace: string;
  readonly serviceAccount: string;
}

/**
 * One `Match`: every populated field pair must pass (positive list empty or one element matches, and negative
 * list empty or no element matches). A Match with no field populated matches nothing (§6.5).
 */
export interface AuthorizationMatch {
  readonly namespaces: readonly StringMatch[];
  readonly notNamespaces: readonly StringMatch[];
  readonly principals: readonly StringMatch[];
  readonly notPrincipals: readonly StringMatch[];
  readonly sourceIps: readonly CidrMatch[];
  readonly notSourceIps: readonly CidrMatch[];
  readonly destinationIps: readonly CidrMatch[];
  readonly notDestinationIps: readonly CidrMatch[];
  readonly destinationPorts: readonly number[];
  readonly notDestinationPorts: readonly number[];
  readonly serviceAccounts: readonly ServiceAccountMatch[];
  readonly notServiceAccounts: readonly ServiceAccountMatch[];
}

/** `Clause` (istio: `Rules`): matches if any non-empty Match matches. */
export interface AuthorizationClause {
  readonly matches: readonly AuthorizationMatch[];
}

/** `Rule` (istio: `Group`): matches if all clauses match; no clauses matches everything. */
export interface AuthorizationRule {
  readonly clauses: readonly AuthorizationClause[];
}

export type AuthorizationScope = 'GLOBAL' | 'NAMESPACE' | 'WORKLOAD_SELECTOR';
export type AuthorizationAction = 'ALLOW' | 'DENY';

export interface Authorization {
  readonly name: string;
  readonly namespace: string;
  readonly scope: AuthorizationScope;
  readonly action: AuthorizationAction;
  /** No rules: the policy matches nothing (an ALLOW with no rules allows nothing). */
  readonly rules: readonly AuthorizationRule[];
  readonly dryRun: boolean;
}

/** Defaults the wire leaves empty (reference §3.1). */
export const DEFAULT_TRUST_DOMAIN = 'cluster.local';
export const DEFAULT_SERVICE_ACCOUNT = 'default';
export const DEFAULT_HBONE_PORT = 15008;

/** xDS resource name of a Service and key in `Workload.services`. */
export function serviceKey(namespace: string, hostname: string): string {
  return `${namespace}/${hostname}`;
}

/** xDS resource name of an Authorization and key in `Workload.authorizationPolicies`. */
export function authorizationKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** An empty Match, to spread from when building one field at a time. */
export const EMPTY_MATCH: AuthorizationMatch = Object.freeze({
  namespaces: [],
  notNamespaces: [],
  principals: [],
  notPrincipals: [],
  sourceIps: [],
  notSourceIps: [],
  destinationIps: [],
  notDestinationIps: [],
  destinationPorts: [],
  notDestinationPorts: [],
  serviceAccounts: [],
  notServiceAccounts: [],
});
