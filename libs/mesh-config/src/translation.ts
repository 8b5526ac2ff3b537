// Public surface of the translation from Kubernetes/Istio objects to ztunnel's resources (reference §4.4).

export { translateMesh, sortMessages, type TranslateMeshInput } from './translate-mesh';
export {
  selectorMatches,
  translateSettings,
  type TranslateMeshOptions,
  type TranslateSettings,
  type TranslationMessage,
  type TranslationMessageCode,
  type TranslationMessageLevel,
  type TranslationResult,
  type WaypointInfo,
  type WaypointTrafficType,
} from './translate-types';
export { buildInventory, isPodReady, type MeshInventory } from './translate-inventory';
export {
  bindWaypoint,
  collectWaypoints,
  GATEWAY_NAME_LABEL,
  USE_WAYPOINT_LABEL,
  USE_WAYPOINT_NAMESPACE_LABEL,
  WAYPOINT_FOR_LABEL,
  type WaypointBinding,
  type WaypointEntry,
  type WaypointIndex,
  type WaypointPurpose,
} from './translate-waypoints';
export { appProtocolOf, INGRESS_USE_WAYPOINT_LABEL, isWaypointService, translateService, type ServiceTranslation } from './translate-services';
export {
  AUTOALLOCATE_IP_LABEL,
  selectServiceEntryServices,
  serviceEntryAppProtocol,
  serviceEntryPortsForPod,
  serviceEntryVip,
  translateServiceEntry,
  translateServiceEntryWorkloads,
  type ServiceEntrySelection,
  type ServiceEntryService,
  type ServiceEntryTranslation,
  type ServiceEntryWorkloadContext,
  type ServiceEntryWorkloads,
} from './translate-service-entries';
export { resolvePodPorts, servicesForPod, translatePod, type WorkloadContext, type WorkloadTranslation } from './translate-workloads';
export {
  canonicalServiceOf,
  localityOf,
  podAddresses,
  REDIRECTION_ANNOTATION,
  statusOf,
  TUNNEL_LABEL,
  tunnelOf,
  workloadNameOf,
} from './translate-pod-metadata';
export {
  selectorPolicyKeys,
  translateAuthorizations,
  type AuthorizationTranslation,
  type SelectorPolicy,
} from './translate-authorizations';
