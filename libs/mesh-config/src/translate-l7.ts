// Every Service bound to a waypoint → one WaypointService: its ports, its routes (HTTPRoute, else VirtualService) and
// its DestinationRule policy, chosen the way istiod chooses them for a waypoint (reference §7.3).

import { waypointServiceKey, type Service, type WaypointService } from '@weft/mesh-model';

import { objectRef, type KubeObject } from './kube-object';
import {
  byAge,
  compact,
  dottedShortName,
  hostMatches,
  objectsOf,
  resolveHost,
  visibleTo,
  type L7Context,
  type L7Messages,
} from './translate-l7-common';
import { translateDestinationRule, type SubsetEndpoint } from './translate-l7-destination-rule';
import { httpRouteRules, routeParents, type AttachedRoute } from './translate-l7-http-route';
import { kubernetesServicePorts, portsFromMapping, serviceEntryPorts } from './translate-l7-ports';
import { virtualServiceRoutes, type RouteTarget } from './translate-l7-virtual-service';
import { asArray, asRecord, asString, compareStrings, type WaypointInfo } from './translate-types';
import { endpointPodsOf, podWorkloadUid } from './translate-workloads';

/** An object that selects a host, ranked: exact hosts before wildcards, then oldest first. */
interface HostCandidate {
  readonly object: KubeObject;
  readonly specificity: 0 | 1;
}

function rankCandidates(candidates: HostCandidate[]): KubeObject[] {
  return candidates.sort((a, b) => a.specificity - b.specificity || byAge(a.object, b.object)).map((c) => c.object);
}

function hostsOf(object: KubeObject, key: 'hosts' | 'host', domainSuffix: string): string[] {
  const spec = asRecord(object.spec);
  const raw = key === 'hosts' ? asArray(spec?.['hosts']).map(asString) : [asString(spec?.['host'])];
  return raw.filter((h): h is string => h !== undefined && h !== '').map((h) => resolveHost(h, object.metadata.namespace ?? '', domainSuffix));
}

function specificity(hosts: readonly string[], hostname: string): 0 | 1 | undefined {
  const kinds = hosts.map((h) => hostMatches(h, hostname));
  if (kinds.includes('exact')) return 0;
  return kinds.includes('wildcard') ? 1 : undefined;
}

/** VirtualServices for the mesh (no `gateways`, or including `mesh`) whose hosts select `hostname`. */
function virtualServicesFor(hostname: string, waypointNamespace: string, context: L7Context): KubeObject[] {
  const candidates: HostCandidate[] = [];
  for (const vs of objectsOf(context, 'VirtualService')) {
    const gateways = asArray(asRecord(vs.spec)?.['gateways']).map(asString);
    if (gateways.length > 0 && !gateways.includes('mesh')) continue;
    if (!visibleTo(vs, waypointNamespace)) continue;
    const rank = specificity(hostsOf(vs, 'hosts', context.settings.domainSuffix), hostname);
    if (rank !== undefined) candidates.push({ object: vs, specificity: rank });
  }
  return rankCandidates(candidates);
}

/**
 * istiod's DestinationRule lookup for a proxy: rules in the proxy's (waypoint's) namespace, else the service's
 * namespace, else the root namespace; within one namespace the most specific host, then the oldest rule.
 */
export function destinationRulesFor(hostname: string, serviceNamespace: string, waypointNamespace: string, context: L7Context): KubeObject[] {
  const order = [waypointNamespace, serviceNamespace, context.settings.rootNamespace];
  for (const namespace of order) {
    const candidates: HostCandidate[] = [];
    for (const dr of objectsOf(context, 'DestinationRule')) {
      if (dr.metadata.namespace !== namespace || !visibleTo(dr, waypointNamespace)) continue;
      if (asRecord(dr.spec)?.['workloadSelector'] !== undefined) continue;
      const rank = specificity(hostsOf(dr, 'host', context.settings.domainSuffix), hostname);
      if (rank !== undefined) candidates.push({ object: dr, specificity: rank });
    }
    if (candidates.length > 0) return rankCandidates(candidates);
  }
  return [];
}

/** The waypoint a Service is bound to, found by its address; the namespace whose config the waypoint reads. */
function waypointNamespaceOf(service: Service, waypoints: readonly WaypointInfo[]): string {
  const address = JSON.stringify(service.waypoint);
  return waypoints.find((w) => JSON.stringify(w.address) === address)?.namespace ?? service.namespace;
}

function sourceObject(service: Service, context: L7Context): KubeObject | undefined {
  const find = (kind: string): KubeObject | undefined =>
    objectsOf(context, kind).find((o) => o.metadata.namespace === service.namespace && o.metadata.name === service.name);
  return find('Service') ?? find('ServiceEntry');
}

function attachedHttpRoutes(service: Service, source: KubeObject | undefined, context: L7Context, messages: L7Messages): AttachedRoute[] {
  const kind = source?.kind ?? 'Service';
  const attached: AttachedRoute[] = [];
  for (const route of objectsOf(context, 'HTTPRoute')) {
    for (const parent of routeParents(route)) {
      if (parent.name !== service.name || parent.namespace !== service.namespace) continue;
      if (parent.kind === 'Service(no group)' && kind === 'Service') {
        const text = 'a parentRef without group defaults to gateway.networking.k8s.io, so it does not name the Service; write group: ""';
        messages.warn(route, 'WARN_L7_HTTPROUTE_PARENT_GROUP', text, `${parent.field}.group`);
        continue;
      }
      if (parent.kind !== kind) continue;
      if (route.metadata.namespace !== service.namespace) {
        const text = `a route in namespace ${route.metadata.namespace ?? ''} for Service ${service.namespace}/${service.name} is a consumer route, which waypoints do not apply (only routes in the Service's namespace)`;
        messages.warn(route, 'WARN_L7_HTTPROUTE_CONSUMER_ROUTE', text, parent.field);
        continue;
      }
      attached.push({ route, port: parent.port });
    }
  }
  return attached;
}

function warnDottedHosts(hostname: string, context: L7Context, messages: L7Messages): void {
  for (const vs of objectsOf(context, 'VirtualService')) {
    asArray(asRecord(vs.spec)?.['hosts']).forEach((raw, i) => {
      const host = asString(raw);
      if (host === undefined || dottedShortName(host, context.settings.domainSuffix) !== hostname) return;
      const text = `host ${JSON.stringify(host)} is taken as a fully qualified name by Istio (only names without a dot are expanded), so it does not select ${hostname}; write "${hostname}" or the short name`;
      messages.warn(vs, 'WARN_L7_VS_HOST_NOT_FQDN', text, `spec.hosts[${i}]`);
    });
  }
}

function routesFor(service: Service, source: KubeObject | undefined, waypointNamespace: string, target: RouteTarget): Pick<WaypointService, 'httpRoutes' | 'routeSource'> {
  const { context, messages } = target;
  warnDottedHosts(service.hostname, context, messages);
  const httpRoutes = attachedHttpRoutes(service, source, context, messages);
  const virtualServices = virtualServicesFor(service.hostname, waypointNamespace, context);
  if (httpRoutes.length > 0) {
    const routeNames = [...new Set(httpRoutes.map((a) => objectRef(a.route)))].sort(compareStrings);
    for (const vs of virtualServices) {
      const text = `both this VirtualService and ${routeNames.join(', ')} route ${service.hostname}; the waypoint uses the HTTPRoute (Gateway API is Istio's supported routing API for waypoints, VirtualService is alpha and mixing the two is not supported)`;
      messages.warn(vs, 'WARN_L7_VS_SHADOWED_BY_HTTPROUTE', text, 'spec.hosts');
    }
    return { httpRoutes: httpRouteRules(httpRoutes, target), routeSource: routeNames.join(', ') };
  }
  const [chosen, ...ignored] = virtualServices;
  if (chosen === undefined) return { httpRoutes: [], routeSource: '' };
  for (const vs of ignored) {
    const text = `${objectRef(chosen)} also routes ${service.hostname} and takes precedence (exact host before wildcard, then the oldest); Istio does not merge VirtualServices for a mesh host, so this one is not applied to it`;
    messages.warn(vs, 'WARN_L7_VS_CONFLICT', text, 'spec.hosts');
  }
  return { httpRoutes: virtualServiceRoutes(chosen, target), routeSource: objectRef(chosen) };
}

/**
 * The service's endpoints as the waypoint sees them in WDS, with the pod labels subsets select by: the pods whose
 * Workload lists the Service (ServiceEntry inline endpoints are not pods and are not resolved).
 */
function subsetEndpointsOf(source: KubeObject | undefined, context: L7Context): SubsetEndpoint[] {
  if (source === undefined) return [];
  const pods = endpointPodsOf(source, { pods: objectsOf(context, 'Pod'), endpointSlices: objectsOf(context, 'EndpointSlice') });
  return pods.map((pod) => ({
    uid: podWorkloadUid(context.settings.clusterId, pod.metadata.namespace ?? '', pod.metadata.name),
    labels: pod.metadata.labels ?? {},
  }));
}

export function translateWaypointService(
  service: Service,
  waypoints: readonly WaypointInfo[],
  context: L7Context,
  messages: L7Messages,
): WaypointService {
  const waypointNamespace = waypointNamespaceOf(service, waypoints);
  const source = sourceObject(service, context);
  const ports =
    source?.kind === 'Service' ? kubernetesServicePorts(source, messages) : source?.kind === 'ServiceEntry' ? serviceEntryPorts(source) : portsFromMapping(service.ports);
  const subsetsOf = (host: string): readonly string[] | undefined => {
    const namespace = context.servicesByHost.get(host)?.namespace ?? '';
    const [dr] = destinationRulesFor(host, namespace, waypointNamespace, context);
    return dr === undefined ? undefined : asArray(asRecord(dr.spec)?.['subsets']).map((s) => asString(asRecord(s)?.['name']) ?? '');
  };
  const routes = routesFor(service, source, waypointNamespace, { context, messages, subsetsOf });
  const [dr, ...otherRules] = destinationRulesFor(service.hostname, service.namespace, waypointNamespace, context);
  for (const other of otherRules) {
    const text = `${dr === undefined ? '' : objectRef(dr)} also applies to ${service.hostname} and takes precedence (most specific host, then the oldest); this DestinationRule is not applied to it`;
    messages.warn(other, 'WARN_L7_DR_CONFLICT', text, 'spec.host');
  }
  const policy = dr === undefined ? { subsets: [] } : translateDestinationRule(dr, messages, subsetEndpointsOf(source, context));
  return compact<WaypointService>({
    hostname: service.hostname,
    namespace: service.namespace,
    name: service.name,
    ports,
    ...routes,
    trafficPolicy: policy.trafficPolicy,
    subsets: policy.subsets,
    trafficPolicySource: dr === undefined ? '' : objectRef(dr),
  });
}

/** One WaypointService per bound Service, sorted by resource name. */
export function translateWaypointServices(
  services: readonly Service[],
  waypoints: readonly WaypointInfo[],
  context: L7Context,
  messages: L7Messages,
): WaypointService[] {
  return services
    .filter((s) => s.waypoint !== undefined)
    .map((s) => translateWaypointService(s, waypoints, context, messages))
    .sort((a, b) => compareStrings(waypointServiceKey(a.namespace, a.hostname), waypointServiceKey(b.namespace, b.hostname)));
}
