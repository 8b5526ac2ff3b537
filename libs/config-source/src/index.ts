// Public entry of @weft/config-source: the ConfigSource contract and its manifest-directory and Kubernetes
// implementations. The Kubernetes client is loaded lazily, so importing this module never loads it.
export * from './config-source';
export * from './config-source-error';
export { ObjectSet, objectChanged, isEmptyChange, EMPTY_CHANGE, type ObjectBatch } from './object-set';
export { parseManifest, withNamespace, type ParsedManifest } from './manifest-parse';
export type { StatusFileContent } from './status-file';
export {
  createManifestDirectorySource,
  ManifestDirectorySource,
  MANIFEST_RESCAN_INTERVAL_MS,
  type ManifestDirectorySourceOptions,
} from './manifest-directory-source';
export {
  createKubernetesSource,
  KubernetesSource,
  KUBE_RESYNC_INTERVAL_MS,
  type KubeApi,
  type KubernetesSourceOptions,
  type WatchInformer,
} from './kubernetes-source';
export {
  KUBE_RESOURCES,
  INFORMER_RETRY_MIN_MS,
  INFORMER_RETRY_MAX_MS,
  apiVersionOf,
  resourcePath,
  informerRestart,
  toKubeObject,
  statusCodeOf,
  hasStatusCause,
  type ApiResource,
  type KubeResource,
  type InformerRestart,
} from './kubernetes-resources';
export {
  loadKubeApi,
  loadTokenReviewer,
  WEFT_FIELD_MANAGER,
  type KubeApiOptions,
  type TokenReviewResult,
} from './kubernetes-client';
