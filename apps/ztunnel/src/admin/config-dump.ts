// The admin `/config_dump` document (reference §8.4): the mesh state as ztunnel prints it, so `istioctl
// ztunnel-config` style tooling reads it. Pure: the caller passes the state, certificate snapshots and extras.

import type {
  Authorization,
  AuthorizationMatch,
  CidrMatch,
  GatewayAddress,
  MeshState,
  NetworkAddress,
  Service,
  StringMatch,
  Workload,
} from '@weft/mesh-model';

/** One certificate of a chain, as the certificate manager describes it. */
export interface CertificateSnapshotEntry {
  readonly serialNumber: string;
  /** RFC 3339. */
  readonly validFrom: string;
  /** RFC 3339. */
  readonly expirationTime: string;
  readonly pem?: string;
}

/** The certificate state of one workload identity (produced by the certificate manager). */
export interface CertificateSnapshot {
  /** `spiffe://…`. */
  readonly identity: string;
  /** e.g. `Available`, `Initializing`, `Unavailable: <error>`. */
  readonly state: string;
  readonly certChain: readonly CertificateSnapshotEntry[];
  readonly rootCerts?: readonly CertificateSnapshotEntry[];
}

export interface ConfigDumpInput {
  readonly state: MeshState;
  readonly certificates: readonly CertificateSnapshot[];
  /** ZDS-side state of the pods this ztunnel serves. */
  readonly workloadState?: unknown;
  readonly staticConfig?: unknown;
  /** Build information. */
  readonly version?: unknown;
  /** The frozen, parsed app config. */
  readonly config?: unknown;
}

type Json = string | number | boolean | null | readonly Json[] | { readonly [key: string]: Json };

/** Builds the `/config_dump` document; key order and sorting are stable so dumps diff cleanly. */
export function buildConfigDump(input: ConfigDumpInput): Record<string, unknown> {
  return {
    workloads: input.state.workloads().map(workloadJson),
    services: input.state.services().map((s) => serviceJson(input.state, s)),
    policies: input.state.authorizations().map(policyJson),
    certificates: [...input.certificates].sort((a, b) => compare(a.identity, b.identity)).map(certificateJson),
    workloadState: input.workloadState ?? {},
    staticConfig: input.staticConfig ?? {},
    version: input.version ?? {},
    config: input.config ?? {},
  };
}

function gatewayJson(gateway: GatewayAddress | undefined): Json {
  if (gateway === undefined) return null;
  const d = gateway.destination;
  const destination = d.kind === 'hostname' ? `${d.namespace}/${d.hostname}` : `${d.network}/${d.address}`;
  return { destination, hboneMtlsPort: gateway.hboneMtlsPort };
}

const addressText = (a: NetworkAddress): string => `${a.network}/${a.address}`;
const capitalize = (s: string): string => s.charAt(0) + s.slice(1).toLowerCase();

export function workloadJson(w: Workload): Json {
  return {
    uid: w.uid,
    workloadIps: [...w.addresses],
    waypoint: gatewayJson(w.waypoint),
    networkGateway: gatewayJson(w.networkGateway),
    // `istioctl ztunnel-config workload` shows HBONE for enrolled pods, TCP otherwise.
    protocol: w.tunnelProtocol === 'HBONE' ? 'HBONE' : 'TCP',
    name: w.name,
    namespace: w.namespace,
    serviceAccount: w.serviceAccount,
    workloadName: w.workloadName,
    workloadType: w.workloadType.toLowerCase(),
    canonicalName: w.canonicalName,
    canonicalRevision: w.canonicalRevision,
    clusterId: w.clusterId,
    trustDomain: w.trustDomain,
    locality: w.locality === undefined ? {} : { region: w.locality.region, zone: w.locality.zone, subzone: w.locality.subzone },
    node: w.node,
    network: w.network,
    status: capitalize(w.status),
    hostname: w.hostname,
    capacity: w.capacity,
    applicationTunnel: w.applicationTunnel === undefined ? null : { protocol: w.applicationTunnel.protocol, port: w.applicationTunnel.port },
    authorizationPolicies: [...w.authorizationPolicies],
  };
}

export function serviceJson(state: MeshState, s: Service): Json {
  const key = `${s.namespace}/${s.hostname}`;
  const isCidr = (v: NetworkAddress) => v.length !== undefined && v.length < (v.address.includes(':') ? 128 : 32);
  const endpoints: Record<string, Json> = {};
  for (const e of state.endpointsOf(key)) {
    endpoints[e.workloadUid] = {
      workloadUid: e.workloadUid,
      service: e.service,
      address: e.address === undefined ? null : addressText(e.address),
      port: Object.fromEntries([...e.ports].map(([svcPort, target]) => [String(svcPort), target])),
    };
  }
  const lb = s.loadBalancing;
  return {
    name: s.name,
    namespace: s.namespace,
    hostname: s.hostname,
    vips: s.vips.filter((v) => !isCidr(v)).map(addressText),
    cidrVips: s.vips.filter(isCidr).map((v) => `${addressText(v)}/${v.length ?? ''}`),
    ports: Object.fromEntries(s.ports.map((p) => [String(p.servicePort), p.targetPort])),
    loadBalancer: lb === undefined ? null : { mode: lb.mode, routingPreferences: [...lb.routingPreference], healthPolicy: lb.healthPolicy },
    waypoint: gatewayJson(s.waypoint),
    endpoints,
    subjectAltNames: [...s.subjectAltNames],
    ipFamilies: s.ipFamilies,
    canonical: s.canonical,
    visibility: s.visibility,
  };
}

/** StringMatch in ztunnel's serde form: `{"Exact": "x"}`, `{"Prefix": …}`, `{"Suffix": …}`, `{"Presence": {}}`. */
function stringMatchJson(m: StringMatch): Json {
  switch (m.kind) {
    case 'exact':
      return { Exact: m.value };
    case 'prefix':
      return { Prefix: m.value };
    case 'suffix':
      return { Suffix: m.value };
    case 'presence':
      return { Presence: {} };
  }
}

const cidrJson = (c: CidrMatch): Json => `${c.address}/${c.prefixLength}`;

function matchJson(m: AuthorizationMatch): Json {
  return {
    namespaces: m.namespaces.map(stringMatchJson),
    notNamespaces: m.notNamespaces.map(stringMatchJson),
    principals: m.principals.map(stringMatchJson),
    notPrincipals: m.notPrincipals.map(stringMatchJson),
    sourceIps: m.sourceIps.map(cidrJson),
    notSourceIps: m.notSourceIps.map(cidrJson),
    destinationIps: m.destinationIps.map(cidrJson),
    notDestinationIps: m.notDestinationIps.map(cidrJson),
    destinationPorts: [...m.destinationPorts],
    notDestinationPorts: [...m.notDestinationPorts],
    serviceAccounts: m.serviceAccounts.map((sa) => ({ namespace: sa.namespace, serviceAccount: sa.serviceAccount })),
    notServiceAccounts: m.notServiceAccounts.map((sa) => ({ namespace: sa.namespace, serviceAccount: sa.serviceAccount })),
  };
}

const SCOPE_TEXT: Record<Authorization['scope'], string> = { GLOBAL: 'Global', NAMESPACE: 'Namespace', WORKLOAD_SELECTOR: 'WorkloadSelector' };

export function policyJson(p: Authorization): Json {
  return {
    name: p.name,
    namespace: p.namespace,
    scope: SCOPE_TEXT[p.scope],
    action: capitalize(p.action),
    // rules → clauses → matches, ztunnel's Vec<Vec<Vec<RbacMatch>>>.
    rules: p.rules.map((r) => r.clauses.map((c) => c.matches.map(matchJson))),
    dryRun: p.dryRun,
  };
}

function certJson(c: CertificateSnapshotEntry): Json {
  return { pem: c.pem ?? '', serialNumber: c.serialNumber, validFrom: c.validFrom, expirationTime: c.expirationTime };
}

export function certificateJson(c: CertificateSnapshot): Json {
  return { identity: c.identity, state: c.state, certChain: c.certChain.map(certJson), rootCerts: (c.rootCerts ?? []).map(certJson) };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
