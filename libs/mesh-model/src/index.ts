// Public entry of @weft/mesh-model: the domain types (WDS/L4 and the waypoint's L7 resources), the indexed state
// store every proxy uses, and ztunnel's endpoint selection.
export * from './types';
export * from './l7-types';
export * from './mesh-change';
export { createMeshStore, type MeshState, type MeshStore } from './mesh-store';
export type { PolicyCandidates } from './policy-index';
export { chooseService } from './service-index';
export { workloadEndpoints } from './workload-index';
export {
  matchesAllScopes,
  pickWeighted,
  routingRank,
  selectEndpoint,
  targetPortFor,
  type EndpointCandidate,
  type EndpointSelection,
  type ExcludedCounts,
  type SelectEndpointInput,
} from './load-balancing';
export {
  mapKubernetesTrafficPolicy,
  TRAFFIC_DISTRIBUTION_ANNOTATION,
  type KubernetesTrafficPolicy,
} from './kubernetes-traffic-policy';
export {
  canonicalIp,
  formatIp,
  hostPrefixLength,
  networkAddressKey,
  parseIp,
  prefixContains,
  unmapIpv4Mapped,
  type IpFamily,
  type ParsedIp,
} from './ip-address';
export { re2PatternProblem, re2ToRegExpSource } from './re2-pattern';
