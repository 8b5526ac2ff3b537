// ServiceEntry → ztunnel `Service` per host, `Workload`s for its endpoints, and the ports of the Pods its
// `workloadSelector` picks (reference §4.2, §4.4 "ServiceEntry → Service(s) + Workload(s)", §4.5), after istiod's
// pilot/pkg/serviceregistry/ambient services.go (`constructServiceEntries`, `serviceEntriesInfo`,
// `selectWorkloadServices`), workloads.go (`serviceEntryWorkloadBuilder`, `constructServicesFromWorkloadEntry`,
// `constructServices`), helpers.go (uids, `toNetworkAddressFromCidr`, `FindPortName`) and
// pilot/pkg/networking/serviceentry/ip_autoallocation.go.

import {
  canonicalIp,
  formatIp,
  hostPrefixLength,
  mapKubernetesTrafficPolicy,
  parseIp,
  serviceKey,
  TRAFFIC_DISTRIBUTION_ANNOTATION,
  type AppProtocol,
  type LoadBalancing,
  type NetworkAddress,
  type PortMapping,
  type Service,
  type Workload,
} from '@weft/mesh-model';
import { peerAuthenticationPolicyKeys, type PeerAuthentication } from '@weft/policy';

import { objectKey, objectRef, type KubeObject } from './kube-object';
import { selectorPolicyKeys, workloadPolicyKeys, type SelectorPolicy } from './translate-authorizations';
import { namespaceOf, type MeshInventory } from './translate-inventory';
import { canonicalServiceOf, tunnelOf } from './translate-pod-metadata';
import { appProtocolOfName, INGRESS_USE_WAYPOINT_LABEL } from './translate-services';
import {
  asArray,
  asNumber,
  asRecord,
  asString,
  asStringMap,
  compareStrings,
  message,
  selectorMatches,
  type PlainRecord,
  type TranslateSettings,
  type TranslationMessage,
} from './translate-types';
import { bindWaypoint, GATEWAY_NAME_LABEL, USE_WAYPOINT_LABEL, type WaypointIndex } from './translate-waypoints';

/** Opt-out of IP auto-allocation (`label.NetworkingEnableAutoallocateIp`), honoured when set to "false". */
export const AUTOALLOCATE_IP_LABEL = 'networking.istio.io/enable-autoallocate-ip';
/** `gateway.istio.io/managed` values of waypoint and east/west gateways: they never get a waypoint (waypoints.go). */
const NO_WAYPOINT_MANAGERS = ['istio.io-mesh-controller', 'istio.io-eastwest-controller'];
/** Resolutions whose hosts become endpoints themselves when `spec.endpoints` is empty (`implicitEndpoints`). */
const DNS_RESOLUTIONS = ['DNS', 'DNS_ROUND_ROBIN', 'DYNAMIC_DNS'];
/** Go's strconv.ParseBool true values, which istiod uses for `istio.io/ingress-use-waypoint`. */
const PARSE_BOOL_TRUE = ['1', 't', 'T', 'TRUE', 'true', 'True'];

/** One host's Service with what the pod and endpoint steps need from its ServiceEntry (istiod's `ServiceInfo`). */
export interface ServiceEntryService {
  readonly service: Service;
  readonly source: KubeObject;
  /** servicePort → `spec.ports[].name`, matched against endpoint `ports` keys and container port names. */
  readonly portNames: ReadonlyMap<number, string>;
  /** `spec.workloadSelector.labels`; empty selects nothing. */
  readonly selector: Readonly<Record<string, string>>;
}

export interface ServiceEntryTranslation {
  readonly services: readonly ServiceEntryService[];
  readonly messages: readonly TranslationMessage[];
}

const resolutionOf = (se: KubeObject): string => asString(asRecord(se.spec)?.['resolution']) ?? 'NONE';
const isWildcard = (host: string): boolean => host.startsWith('*');

/** istiod `toAppProtocolFromProtocol(protocol.Parse(p.Protocol))`: a port protocol istiod does not know is UNKNOWN. */
export function serviceEntryAppProtocol(protocol: string | undefined): AppProtocol {
  return appProtocolOfName(protocol ?? '') ?? 'UNKNOWN';
}

/**
 * helpers.go `toNetworkAddressFromCidr`: an IP, or a CIDR masked to its network address with `length` set unless
 * it is a single host (`/32`, `/128`). Undefined when unparseable.
 */
export function serviceEntryVip(text: string, network: string): NetworkAddress | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) {
    const address = canonicalIp(text);
    return address === undefined ? undefined : { network, address };
  }
  const ip = parseIp(text.slice(0, slash));
  const lengthText = text.slice(slash + 1);
  if (ip === undefined || !/^(0|[1-9]\d*)$/.test(lengthText)) return undefined;
  const length = Number(lengthText);
  const bits = hostPrefixLength(ip.family);
  if (length > bits) return undefined;
  const bytes = Uint8Array.from(ip.bytes, (byte, i) => {
    const kept = Math.min(Math.max(length - i * 8, 0), 8);
    return byte & ((0xff << (8 - kept)) & 0xff);
  });
  const address = formatIp({ family: ip.family, bytes });
  return length === bits ? { network, address } : { network, address, length };
}

/** `status.addresses[] {value, host}` written by istiod's IP auto-allocation controller, for one host. */
function allocatedVips(se: KubeObject, host: string, network: string): NetworkAddress[] {
  const vips: NetworkAddress[] = [];
  for (const raw of asArray(asRecord(se.status)?.['addresses'])) {
    const entry = asRecord(raw);
    const address = canonicalIp(asString(entry?.['value']) ?? '');
    // An unparseable value is skipped, as getHostAddressesFromServiceEntryStatus does.
    if (address !== undefined && asString(entry?.['host']) === host) vips.push({ network, address });
  }
  return vips;
}

/** ip_autoallocation.go `ShouldV2AutoAllocateIP` with PILOT_ENABLE_IP_AUTOALLOCATE on (its default). */
function usesAllocatedVips(se: KubeObject, host: string): boolean {
  const resolution = resolutionOf(se);
  if (resolution === 'NONE') return false;
  if (se.metadata.labels?.[AUTOALLOCATE_IP_LABEL]?.toLowerCase() === 'false') return false;
  // constructServiceEntries: no auto-assigned VIP for a wildcard host unless DYNAMIC_DNS.
  return !isWildcard(host) || resolution === 'DYNAMIC_DNS';
}

/** `resolution: NONE` ⇒ PASSTHROUGH + ALLOW_ALL; otherwise only the traffic-distribution annotation applies. */
function loadBalancingOf(se: KubeObject, ns: KubeObject | undefined): LoadBalancing | undefined {
  if (resolutionOf(se) === 'NONE') return { routingPreference: [], mode: 'PASSTHROUGH', healthPolicy: 'ALLOW_ALL' };
  const annotation = se.metadata.annotations?.[TRAFFIC_DISTRIBUTION_ANNOTATION];
  const namespaceAnnotation = ns?.metadata.annotations?.[TRAFFIC_DISTRIBUTION_ANNOTATION];
  return mapKubernetesTrafficPolicy({
    ...(annotation === undefined ? {} : { annotation }),
    ...(namespaceAnnotation === undefined ? {} : { namespaceAnnotation }),
  });
}

/** ServiceEntry → one Service per host (services.go `constructServiceEntries` + `serviceEntriesInfo`). */
export function translateServiceEntry(
  se: KubeObject,
  inventory: MeshInventory,
  waypoints: WaypointIndex,
  settings: TranslateSettings,
): ServiceEntryTranslation {
  const spec = asRecord(se.spec);
  const messages: TranslationMessage[] = [];
  const vips: NetworkAddress[] = [];
  for (const [i, text] of asArray(spec?.['addresses']).entries()) {
    const vip = typeof text === 'string' ? serviceEntryVip(text, settings.network) : undefined;
    if (vip === undefined) {
      // istiod drops the whole ServiceEntry when any address fails to parse.
      const warn = `address ${JSON.stringify(text)} is not an IP or CIDR; istiod sends nothing for this ServiceEntry`;
      return { services: [], messages: [message(se, 'warning', 'WARN_SE_ADDRESS_INVALID', warn, `spec.addresses[${i}]`)] };
    }
    vips.push(vip);
  }
  const ports: PortMapping[] = [];
  const portNames = new Map<number, string>();
  for (const raw of asArray(spec?.['ports'])) {
    const port = asRecord(raw);
    const number = asNumber(port?.['number']);
    if (port === undefined || number === undefined) continue;
    const target = asNumber(port['targetPort']) ?? 0;
    ports.push({ servicePort: number, targetPort: target === 0 ? number : target, appProtocol: serviceEntryAppProtocol(asString(port['protocol'])) });
    portNames.set(number, asString(port['name']) ?? '');
  }
  const ns = namespaceOf(inventory, se);
  const managed = se.metadata.labels?.['gateway.istio.io/managed'];
  const binding = managed !== undefined && NO_WAYPOINT_MANAGERS.includes(managed) ? { messages: [] } : bindWaypoint(se, 'service', waypoints, inventory);
  messages.push(...binding.messages);
  const waypoint = 'waypoint' in binding ? binding.waypoint : undefined;
  // serviceEntriesInfo: ingress-use-waypoint is read only when a waypoint is bound (SE label, else namespace).
  const ingressLabel = se.metadata.labels?.[INGRESS_USE_WAYPOINT_LABEL] ?? ns?.metadata.labels?.[INGRESS_USE_WAYPOINT_LABEL];
  const ingressUseWaypoint = waypoint !== undefined && ingressLabel !== undefined && PARSE_BOOL_TRUE.includes(ingressLabel);
  const loadBalancing = loadBalancingOf(se, ns);
  const selector = asStringMap(asRecord(spec?.['workloadSelector'])?.['labels']);

  const services: ServiceEntryService[] = [];
  const hosts = asArray(spec?.['hosts']).map(asString);
  for (const [i, host] of hosts.entries()) {
    if (host === undefined || host === '' || hosts.indexOf(host) !== i) continue;
    const hostVips = vips.length === 0 && usesAllocatedVips(se, host) ? allocatedVips(se, host, settings.network) : vips;
    if (isWildcard(host) && hostVips.length === 0) {
      const warn = `wildcard host ${host} has no spec.addresses (istiod allocates none for a wildcard); ztunnel gets the Service but no VIP to capture traffic by`;
      messages.push(message(se, 'warning', 'WARN_SE_WILDCARD_HOST_NO_VIP', warn, `spec.hosts[${i}]`));
    }
    const service: Service = {
      name: se.metadata.name,
      namespace: se.metadata.namespace ?? '',
      hostname: host,
      vips: hostVips,
      ports,
      subjectAltNames: asArray(spec?.['subjectAltNames']).flatMap((s) => (typeof s === 'string' ? [s] : [])),
      ...(waypoint === undefined ? {} : { waypoint }),
      ...(loadBalancing === undefined ? {} : { loadBalancing }),
      ipFamilies: 'AUTOMATIC',
      // Set by selectServiceEntryServices, which sees every Service with this hostname.
      canonical: false,
      ingressUseWaypoint,
      weightedWaypoints: [],
      visibility: 'PUBLIC',
    };
    services.push({ service, source: se, portNames, selector });
  }
  return { services, messages };
}

function olderFirst(a: ServiceEntryService, b: ServiceEntryService): number {
  // An absent creationTimestamp is Go's zero time, older than any other; ties are broken by name for determinism
  // (istiod keeps whichever it saw first).
  return (
    compareStrings(a.source.metadata.creationTimestamp ?? '', b.source.metadata.creationTimestamp ?? '') ||
    compareStrings(objectKey(a.source), objectKey(b.source))
  );
}

export interface ServiceEntrySelection {
  /** The ServiceEntry Services istiod keeps, `canonical` set. */
  readonly selected: readonly ServiceEntryService[];
  readonly messages: readonly TranslationMessage[];
}

/**
 * services.go `selectWorkloadServices`: per namespace and hostname a Kubernetes Service wins, else the oldest
 * ServiceEntry; per hostname one Service is canonical — a Kubernetes Service if any, else the oldest ServiceEntry.
 */
export function selectServiceEntryServices(kubeServices: readonly Service[], candidates: readonly ServiceEntryService[]): ServiceEntrySelection {
  const kubeKeys = new Set(kubeServices.map((s) => serviceKey(s.namespace, s.hostname)));
  const kubeHosts = new Set(kubeServices.map((s) => s.hostname));
  const messages: TranslationMessage[] = [];
  const winners = new Map<string, ServiceEntryService>();
  for (const candidate of [...candidates].sort(olderFirst)) {
    const { service, source } = candidate;
    const key = serviceKey(service.namespace, service.hostname);
    const winner = winners.get(key);
    if (kubeKeys.has(key) || winner !== undefined) {
      const by = winner === undefined ? `Kubernetes Service ${key}` : `older ${objectRef(winner.source)}`;
      const warn = `host ${service.hostname} is already defined in namespace ${service.namespace} by ${by}; istiod drops it here (with its endpoints)`;
      messages.push(message(source, 'warning', 'WARN_SE_HOST_SHADOWED', warn, 'spec.hosts'));
      continue;
    }
    winners.set(key, candidate);
  }
  const canonicalHosts = new Set<string>(kubeHosts);
  const selected: ServiceEntryService[] = [];
  // Sorted oldest first, so the first winner seen for a hostname is the canonical one.
  for (const candidate of [...winners.values()].sort(olderFirst)) {
    const canonical = !canonicalHosts.has(candidate.service.hostname);
    canonicalHosts.add(candidate.service.hostname);
    selected.push(canonical ? { ...candidate, service: { ...candidate.service, canonical } } : candidate);
  }
  return { selected, messages };
}

/** helpers.go `FindPortName`: a TCP container port (or native-sidecar init container port) with this name. */
function namedContainerPort(pod: KubeObject, name: string): number | undefined {
  const spec = asRecord(pod.spec);
  const sidecars = asArray(spec?.['initContainers']).filter((c) => asString(asRecord(c)?.['restartPolicy']) === 'Always');
  for (const container of [...asArray(spec?.['containers']), ...sidecars]) {
    for (const raw of asArray(asRecord(container)?.['ports'])) {
      const port = asRecord(raw);
      if (asString(port?.['name']) === name && (asString(port?.['protocol']) ?? 'TCP') === 'TCP') return asNumber(port?.['containerPort']);
    }
  }
  return undefined;
}

/**
 * The `Workload.services` entries a Pod gains from ServiceEntries of its namespace whose non-empty
 * `workloadSelector` matches it (PILOT_ENABLE_SERVICEENTRY_SELECT_PODS, on by default). workloads.go
 * `constructServices`: a container port named like the SE port wins, else the SE targetPort (or number).
 */
export function serviceEntryPortsForPod(pod: KubeObject, services: readonly ServiceEntryService[]): Record<string, PortMapping[]> {
  const out: Record<string, PortMapping[]> = {};
  const labels = pod.metadata.labels ?? {};
  for (const { service, source, portNames, selector } of services) {
    if (source.metadata.namespace !== pod.metadata.namespace || Object.keys(selector).length === 0 || !selectorMatches(selector, labels)) continue;
    out[serviceKey(service.namespace, service.hostname)] = service.ports.map((port) => {
      const name = portNames.get(port.servicePort) ?? '';
      const named = name === '' ? undefined : namedContainerPort(pod, name);
      return { servicePort: port.servicePort, targetPort: named ?? port.targetPort, appProtocol: 'UNKNOWN' };
    });
  }
  return out;
}

/** What endpoint Workloads need; a `WorkloadContext` fits. */
export interface ServiceEntryWorkloadContext {
  readonly inventory: MeshInventory;
  readonly waypoints: WaypointIndex;
  readonly selectorPolicies: readonly SelectorPolicy[];
  readonly peerAuthentications: readonly PeerAuthentication[];
  readonly settings: TranslateSettings;
}

export interface ServiceEntryWorkloads {
  readonly workloads: readonly Workload[];
  readonly messages: readonly TranslationMessage[];
}

/** workloads.go `constructServicesFromWorkloadEntry` for ServiceEntry services: endpoint `ports[portName]` wins. */
function endpointPorts(endpointPortMap: PlainRecord, services: readonly ServiceEntryService[]): Record<string, PortMapping[]> {
  const out: Record<string, PortMapping[]> = {};
  for (const { service, portNames } of services) {
    out[serviceKey(service.namespace, service.hostname)] = service.ports.map((port) => {
      const override = asNumber(endpointPortMap[portNames.get(port.servicePort) ?? '']);
      return { servicePort: port.servicePort, targetPort: override ?? port.targetPort, appProtocol: 'UNKNOWN' };
    });
  }
  return out;
}

/** labelutil `SplitLocalityLabel`: `region/zone/subzone`; none when all three are empty. */
function endpointLocality(text: string | undefined): Workload['locality'] {
  const [region = '', zone = '', subzone = ''] = (text ?? '').split('/');
  return region === '' && zone === '' && subzone === '' ? undefined : { region, zone, subzone };
}

/**
 * workloads.go `serviceEntryWorkloadBuilder`: one Workload per `spec.endpoints[]`, or, for a DNS resolution with
 * neither endpoints nor workloadSelector, one per host with the host as its hostname. `services` are this
 * ServiceEntry's Services that survived selection: without any, istiod sends no endpoints either.
 */
export function translateServiceEntryWorkloads(
  se: KubeObject,
  services: readonly ServiceEntryService[],
  context: ServiceEntryWorkloadContext,
): ServiceEntryWorkloads {
  const spec = asRecord(se.spec);
  const explicit = asArray(spec?.['endpoints']).map((e) => asRecord(e) ?? {});
  const implicit = explicit.length === 0 && DNS_RESOLUTIONS.includes(resolutionOf(se)) && spec?.['workloadSelector'] === undefined;
  if (services.length === 0 || (explicit.length === 0 && !implicit)) return { workloads: [], messages: [] };
  const { settings } = context;
  const namespace = se.metadata.namespace ?? '';
  const seLabels = se.metadata.labels ?? {};
  // As istiod: policies select on the ServiceEntry's labels, not the endpoint's, and a ServiceEntry without labels
  // gets every selector policy of its namespace and the root namespace. Inert, since its workloads are on no node,
  // but ztunnel's config_dump shows them.
  const policyKeys = workloadPolicyKeys(
    selectorPolicyKeys({ namespace, labels: se.metadata.labels }, context.selectorPolicies, settings.rootNamespace),
    peerAuthenticationPolicyKeys({ namespace, labels: seLabels }, context.peerAuthentications, settings.rootNamespace),
  );
  const canonical = canonicalServiceOf(se, se.metadata.name);
  const endpoints: { readonly endpoint: PlainRecord; readonly services: readonly ServiceEntryService[]; readonly path: string }[] = implicit
    ? services.map((s) => ({ endpoint: { address: s.service.hostname }, services: [s], path: 'spec.hosts' }))
    : explicit.map((endpoint, i) => ({ endpoint, services, path: `spec.endpoints[${i}]` }));

  const workloads = new Map<string, Workload>();
  const messages: TranslationMessage[] = [];
  for (const { endpoint, services: endpointServices, path } of endpoints) {
    const address = asString(endpoint['address']) ?? '';
    const uid = `${settings.clusterId}/networking.istio.io/ServiceEntry/${namespace}/${se.metadata.name}/${address}`;
    if (workloads.has(uid)) {
      messages.push(message(se, 'warning', 'WARN_SE_ENDPOINT_DUPLICATE', `endpoint address ${address} is listed twice; only the first is used`, `${path}.address`));
      continue;
    }
    if (address.startsWith('unix://')) {
      const warn = `unix domain socket endpoints mean nothing to ztunnel; istiod sends ${address} as a hostname`;
      messages.push(message(se, 'warning', 'WARN_SE_UNIX_ENDPOINT', warn, `${path}.address`));
    }
    const ip = canonicalIp(address);
    const labels = asStringMap(endpoint['labels']);
    // computeWaypoint on an ObjectMeta made of the SE's name and the endpoint's labels; none for implicit endpoints.
    const subject: KubeObject = { apiVersion: se.apiVersion, kind: se.kind, metadata: { name: se.metadata.name, namespace, labels } };
    const binding =
      implicit || labels[GATEWAY_NAME_LABEL] !== undefined ? { messages: [] } : bindWaypoint(subject, 'workload', context.waypoints, context.inventory);
    const ownField = `metadata.labels.${USE_WAYPOINT_LABEL}`;
    messages.push(...binding.messages.map((m) => (m.object === objectRef(se) && m.field === ownField ? { ...m, field: `${path}.labels.${USE_WAYPOINT_LABEL}` } : m)));
    const waypoint = 'waypoint' in binding ? binding.waypoint : undefined;
    const locality = endpointLocality(asString(endpoint['locality']));
    const weight = asNumber(endpoint['weight']) ?? 0;
    workloads.set(uid, {
      uid,
      name: se.metadata.name,
      namespace,
      addresses: ip === undefined ? [] : [ip],
      // Not an IP (a DNS name, or anything else) ⇒ ztunnel resolves it (§4.4).
      hostname: ip === undefined ? address : '',
      network: asString(endpoint['network']) || settings.network,
      ...tunnelOf(se),
      trustDomain: settings.trustDomain,
      // istiod sends the endpoint's own (often "", which consumers read as `default`).
      serviceAccount: asString(endpoint['serviceAccount']) ?? '',
      ...(waypoint === undefined ? {} : { waypoint }),
      node: '',
      canonicalName: canonical.name,
      canonicalRevision: canonical.revision,
      workloadType: 'POD',
      workloadName: se.metadata.name,
      services: endpointPorts(asRecord(endpoint['ports']) ?? {}, endpointServices),
      authorizationPolicies: policyKeys,
      // istiod: "TODO: WE can be unhealthy"; ServiceEntry endpoints are always HEALTHY.
      status: 'HEALTHY',
      clusterId: settings.clusterId,
      ...(locality === undefined ? {} : { locality }),
      networkMode: 'STANDARD',
      capacity: weight > 0 ? weight : 1,
    });
  }
  return { workloads: [...workloads.values()], messages };
}
