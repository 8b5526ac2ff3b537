// Pod → ztunnel `Workload` (reference §4.2 Workload, §4.4 "Pods → Workload"), after istiod's ambient
// workloads.go (podWorkloadBuilder) and services.go (`findPortForService`).

import { serviceKey, type PortMapping, type Workload } from '@weft/mesh-model';
import { peerAuthenticationPolicyKeys, type PeerAuthentication } from '@weft/policy';

import type { KubeObject } from './kube-object';
import { selectorPolicyKeys, workloadPolicyKeys, type SelectorPolicy } from './translate-authorizations';
import { endpointSliceTargets, type MeshInventory } from './translate-inventory';
import {
  canonicalServiceOf,
  isTerminal,
  localityOf,
  podAddresses,
  statusOf,
  tunnelOf,
  workloadNameOf,
} from './translate-pod-metadata';
import { serviceEntryPortsForPod, type ServiceEntryService } from './translate-service-entries';
import { numericTargetPort, servicePorts } from './translate-services';
import {
  asArray,
  asNumber,
  asRecord,
  asString,
  asStringMap,
  compareStrings,
  selectorMatches,
  serviceHostname,
  type TranslateSettings,
  type TranslationMessage,
} from './translate-types';
import { bindWaypoint, GATEWAY_NAME_LABEL, type WaypointIndex } from './translate-waypoints';

/** Container port names of a pod: `spec.containers[].ports[] {name, containerPort}`. */
function containerPortsByName(pod: KubeObject): Map<string, number> {
  const ports = new Map<string, number>();
  for (const container of asArray(asRecord(pod.spec)?.['containers'])) {
    for (const raw of asArray(asRecord(container)?.['ports'])) {
      const name = asString(asRecord(raw)?.['name']);
      const port = asNumber(asRecord(raw)?.['containerPort']);
      // The first container declaring a name wins, as istiod's loop breaks on the first match.
      if (name !== undefined && port !== undefined && !ports.has(name)) ports.set(name, port);
    }
  }
  return ports;
}

/**
 * istiod `findPortForService`: numeric targetPorts as they are (a missing one is `port`, as the API server
 * defaults it), named ones resolved against this pod's container ports; an unresolvable name leaves the port out.
 */
export function resolvePodPorts(service: KubeObject, pod: KubeObject): PortMapping[] {
  const named = containerPortsByName(pod);
  const mappings: PortMapping[] = [];
  for (const spec of servicePorts(service)) {
    let targetPort = numericTargetPort(spec);
    if (targetPort === 0 && typeof spec.targetPort === 'string') targetPort = named.get(spec.targetPort) ?? 0;
    if (targetPort === 0) continue;
    mappings.push({ servicePort: spec.port, targetPort, appProtocol: 'UNKNOWN' });
  }
  return mappings;
}

/**
 * Services of the pod's namespace that select it (a non-empty `spec.selector` that is a subset of its labels),
 * plus selector-less Services whose EndpointSlices `targetRef` it.
 */
export function servicesForPod(pod: KubeObject, inventory: MeshInventory): KubeObject[] {
  const namespace = pod.metadata.namespace;
  const labels = pod.metadata.labels ?? {};
  const viaSlices = new Set<string>();
  for (const slice of inventory.endpointSlices) {
    if (slice.metadata.namespace !== namespace) continue;
    const targets = endpointSliceTargets(slice);
    if (targets.pods.includes(pod.metadata.name)) viaSlices.add(targets.service);
  }
  return inventory.services.filter((service) => {
    if (service.metadata.namespace !== namespace) return false;
    const selector = asStringMap(asRecord(service.spec)?.['selector']);
    if (Object.keys(selector).length > 0) return selectorMatches(selector, labels);
    return viaSlices.has(service.metadata.name);
  });
}

/** The WDS uid of a pod's Workload, `<cluster>//Pod/<namespace>/<name>` (istiod's `WorkloadUID`). */
export function podWorkloadUid(clusterId: string, namespace: string, name: string): string {
  return `${clusterId}//Pod/${namespace}/${name}`;
}

/** Whether translatePod sends a Workload for the pod: terminal pods and pods without an IP get none. */
export function publishesWorkload(pod: KubeObject): boolean {
  return !isTerminal(pod) && podAddresses(pod).length > 0;
}

/**
 * The pods whose Workload lists a Service among its `services` (the inverse of `servicesForPod` and
 * `serviceEntryPortsForPod`), among the published pods of its namespace. A Kubernetes Service with a non-empty
 * selector: the pods it selects; without one: those its EndpointSlices `targetRef`. A ServiceEntry: the pods its
 * non-empty `workloadSelector` matches.
 */
export function endpointPodsOf(source: KubeObject, inventory: Pick<MeshInventory, 'pods' | 'endpointSlices'>): KubeObject[] {
  const namespace = source.metadata.namespace;
  const candidates = inventory.pods.filter((pod) => pod.metadata.namespace === namespace && publishesWorkload(pod));
  const spec = asRecord(source.spec);
  const selector = asStringMap(source.kind === 'ServiceEntry' ? asRecord(spec?.['workloadSelector'])?.['labels'] : spec?.['selector']);
  if (Object.keys(selector).length > 0) return candidates.filter((pod) => selectorMatches(selector, pod.metadata.labels ?? {}));
  if (source.kind !== 'Service') return [];
  const targeted = new Set<string>();
  for (const slice of inventory.endpointSlices) {
    if (slice.metadata.namespace !== namespace) continue;
    const targets = endpointSliceTargets(slice);
    if (targets.service === source.metadata.name) for (const name of targets.pods) targeted.add(name);
  }
  return candidates.filter((pod) => targeted.has(pod.metadata.name));
}

export interface WorkloadContext {
  readonly inventory: MeshInventory;
  readonly waypoints: WaypointIndex;
  readonly selectorPolicies: readonly SelectorPolicy[];
  readonly peerAuthentications: readonly PeerAuthentication[];
  readonly settings: TranslateSettings;
  /** ServiceEntry Services kept by `selectServiceEntryServices`; those whose workloadSelector matches add to `services`. */
  readonly serviceEntryServices?: readonly ServiceEntryService[];
}

export interface WorkloadTranslation {
  /** Absent for terminal pods and pods without an IP: istiod sends nothing for them. */
  readonly workload?: Workload;
  readonly messages: readonly TranslationMessage[];
}

export function translatePod(pod: KubeObject, context: WorkloadContext): WorkloadTranslation {
  const { inventory, settings } = context;
  const addresses = podAddresses(pod);
  if (!publishesWorkload(pod)) return { messages: [] };
  const namespace = pod.metadata.namespace ?? '';
  const labels = pod.metadata.labels ?? {};
  const spec = asRecord(pod.spec);
  const workloadName = workloadNameOf(pod);
  const canonical = canonicalServiceOf(pod, workloadName);
  const nodeName = asString(spec?.['nodeName']) ?? '';
  const locality = nodeName === '' ? undefined : localityOf(inventory.nodes.get(nodeName));

  const services: Record<string, PortMapping[]> = {};
  for (const service of servicesForPod(pod, inventory)) {
    const hostname = serviceHostname(service.metadata.name, namespace, settings.domainSuffix);
    services[serviceKey(namespace, hostname)] = resolvePodPorts(service, pod);
  }
  Object.assign(services, serviceEntryPortsForPod(pod, context.serviceEntryServices ?? []));
  const policyKeys = workloadPolicyKeys(
    selectorPolicyKeys({ namespace, labels }, context.selectorPolicies, settings.rootNamespace),
    peerAuthenticationPolicyKeys({ namespace, labels }, context.peerAuthentications, settings.rootNamespace),
  );
  // Waypoint instances never send their own traffic through a waypoint.
  const binding = labels[GATEWAY_NAME_LABEL] !== undefined ? { messages: [] } : bindWaypoint(pod, 'workload', context.waypoints, inventory);

  const workload: Workload = {
    uid: podWorkloadUid(settings.clusterId, namespace, pod.metadata.name),
    name: pod.metadata.name,
    namespace,
    addresses,
    hostname: '',
    network: settings.network,
    ...tunnelOf(pod),
    trustDomain: settings.trustDomain,
    serviceAccount: asString(spec?.['serviceAccountName']) || 'default',
    ...('waypoint' in binding && binding.waypoint !== undefined ? { waypoint: binding.waypoint } : {}),
    node: nodeName,
    canonicalName: canonical.name,
    canonicalRevision: canonical.revision,
    // istiod sends POD for backward compatibility (§4.2 field 12).
    workloadType: 'POD',
    workloadName,
    services: Object.fromEntries(Object.entries(services).sort(([a], [b]) => compareStrings(a, b))),
    authorizationPolicies: policyKeys,
    status: statusOf(pod),
    clusterId: settings.clusterId,
    ...(locality === undefined ? {} : { locality }),
    networkMode: spec?.['hostNetwork'] === true ? 'HOST_NETWORK' : 'STANDARD',
    capacity: 1,
  };
  return { workload, messages: binding.messages };
}
