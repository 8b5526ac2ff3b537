// Delta ADS, the part applications use: the server and client factories, their options and status types, typed
// errors and the resource versioning helper. No generated wire type is exported here (STYLE.md §3); the pure state
// modules (delta-server-state.ts, delta-client-state.ts) stay internal to libs/xds. index.ts re-exports this file.

export {
  DeltaAdsError,
  NOOP_DELTA_ADS_LOGGER,
  type DeltaAdsErrorCode,
  type DeltaAdsLogFields,
  type DeltaAdsLogger,
} from './delta-errors';
export {
  WILDCARD_NAME,
  contentVersion,
  type DeltaNack,
  type DeltaResourceBody,
  type DeltaSnapshot,
  type DeltaSnapshotEntry,
} from './delta-server-state';
export {
  DEFAULT_DEBOUNCE_MAX_MS,
  DEFAULT_DEBOUNCE_MS,
  DEFAULT_SERVER_CLOSE_DEADLINE_MS,
  createDeltaAdsServer,
} from './delta-server';
export type {
  DeltaAdsServer,
  DeltaAdsServerOptions,
  DeltaAdsServerStats,
  DeltaAuthResult,
  DeltaConnectionInfo,
  DeltaConnectionTypeInfo,
  DeltaPeerInfo,
  DeltaResourceSource,
} from './delta-server-types';
export {
  NACK_STATUS_CODE,
  type DeltaBackoff,
  type DeltaClientNack,
  type DeltaClientSubscription,
  type DeltaDecodeResult,
  type DeltaDecoder,
  type DeltaRejection,
  type DeltaResourceInput,
} from './delta-client-state';
export { DEFAULT_CLIENT_CLOSE_DEADLINE_MS, createDeltaAdsClient } from './delta-client';
export type {
  DeltaAdsClient,
  DeltaAdsClientOptions,
  DeltaAdsClientStatus,
  DeltaClientError,
  DeltaClientType,
  DeltaClientTypeStatus,
  DeltaUpdateBatch,
} from './delta-client-types';
