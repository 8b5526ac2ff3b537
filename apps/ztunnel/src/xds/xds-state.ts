// ztunnel's workload discovery: one Delta ADS stream to the controlplane with wildcard Address and Authorization
// subscriptions (reference §4.1), each response applied to the MeshStore as one batch. Bad resources are NACKed by
// the client while the rest apply; on disconnect the client reconnects with backoff and the store keeps serving the
// last good state, so routing and policy keep working while the controlplane is away.

import type * as grpc from '@grpc/grpc-js';
import {
  createMeshStore,
  type Authorization,
  type MeshBatch,
  type MeshRejection,
  type MeshState,
  type MeshStore,
} from '@weft/mesh-model';
import {
  ADDRESS_TYPE_URL,
  AUTHORIZATION_TYPE_URL,
  createDeltaAdsClient,
  decodeAddressResource,
  decodeAuthorizationResource,
  type AddressResource,
  type DeltaBackoff,
  type DeltaClientError,
  type DeltaClientTypeStatus,
  addressBatch,
  authorizationBatch,
  fieldsFirstDeltaLogger,
  xdsCallHeaders,
} from '@weft/xds';

/** ztunnel `xds/client.rs`: reconnects start at 10 ms and double up to 15 s. */
export const XDS_RECONNECT_BACKOFF: DeltaBackoff = Object.freeze({ initialMs: 10, maxMs: 15_000 });
/** How long close() lets the controlplane finish the half-closed stream. */
export const XDS_CLOSE_DEADLINE_MS = 1_000;
/** Store rejections kept for the admin view. */
const MAX_KEPT_REJECTIONS = 20;

/** pino's `(fields, message)` shape, so the app passes a child logger as it is. */
export interface XdsLogger {
  debug(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

export interface XdsStateOptions {
  /** `host:port` of the controlplane's Delta ADS (XDS_ADDRESS). */
  readonly address: string;
  readonly credentials: grpc.ChannelCredentials;
  /** See `buildXdsNode`. */
  readonly nodeId: string;
  readonly nodeMetadata: Readonly<Record<string, unknown>>;
  /** The bearer token, read again on every (re)connect so a rotated projected token is used; empty sends none. */
  readonly token: () => string;
  /** Sent as the `clusterid` header (reference §3.2). */
  readonly clusterId?: string;
  /** Extra call headers (`XDS_HEADER_<NAME>`), lowercase names. */
  readonly headers?: Readonly<Record<string, string>>;
  /** The proxy's one store (STYLE.md §4); a new one when absent. */
  readonly store?: MeshStore;
  readonly logger: XdsLogger;
  readonly backoff?: DeltaBackoff;
  readonly channelOptions?: grpc.ChannelOptions;
}

/** What /config_dump and the readiness probe show of the xDS connection. */
export interface XdsStateStatus {
  /** The first response of every type has been applied. */
  readonly ready: boolean;
  readonly connected: boolean;
  readonly closed: boolean;
  /** Streams opened so far; more than one means reconnects. */
  readonly connects: number;
  readonly lastError: DeltaClientError | undefined;
  /** Epoch milliseconds of the next reconnect, while one is scheduled. */
  readonly nextRetryAt: number | undefined;
  /** The store's version: batches applied. */
  readonly storeVersion: number;
  /** Per type URL: subscription, resources held, nonces, the last NACK. */
  readonly types: readonly DeltaClientTypeStatus[];
  /** Resources that decoded but the store refused (its own validation), since start; they are not NACKed. */
  readonly storeRejections: number;
  readonly lastStoreRejections: readonly MeshRejection[];
}

export interface XdsState {
  /** Read access to the state xDS keeps current. */
  readonly store: MeshState;
  /** Resolves after the first full sync; rejects ERR_XDS_CLIENT_CLOSED if closed first. */
  ready(): Promise<void>;
  status(): XdsStateStatus;
  /** Ends the stream gracefully within the deadline; idempotent. The store keeps its state. */
  close(deadlineMs?: number): Promise<void>;
  /** Cancels the stream and any pending reconnect at once; idempotent. */
  destroy(): void;
}

export function createXdsState(options: XdsStateOptions): XdsState {
  const { logger } = options;
  const store = options.store ?? createMeshStore();
  let ready = false;
  let storeRejections = 0;
  let lastStoreRejections: readonly MeshRejection[] = [];

  // Runs inside the client's synchronous onUpdate: decode is done, nothing here awaits (STYLE.md §4).
  function apply(typeUrl: string, batch: MeshBatch, received: { upserts: number; removals: number; rejected: number }): void {
    const change = store.apply(batch);
    if (change.rejected.length > 0) {
      storeRejections += change.rejected.length;
      lastStoreRejections = [...change.rejected, ...lastStoreRejections].slice(0, MAX_KEPT_REJECTIONS);
      logger.warn({ typeUrl, rejected: change.rejected }, 'mesh store refused resources; previous versions stay');
    }
    for (const failure of change.listenerFailures) {
      const error = failure.error instanceof Error ? failure.error.message : String(failure.error);
      logger.error({ typeUrl, error }, 'a mesh store listener failed');
    }
    logger.debug({ typeUrl, ...received, version: change.version }, 'xDS update applied');
  }

  const client = createDeltaAdsClient<[AddressResource, Authorization]>({
    address: options.address,
    credentials: options.credentials,
    node: { id: options.nodeId, metadata: options.nodeMetadata },
    metadata: () => xdsCallHeaders({ token: options.token(), ...(options.clusterId === undefined ? {} : { clusterId: options.clusterId }), ...(options.headers === undefined ? {} : { headers: options.headers }) }),
    backoff: options.backoff ?? XDS_RECONNECT_BACKOFF,
    logger: fieldsFirstDeltaLogger(logger),
    ...(options.channelOptions === undefined ? {} : { channelOptions: options.channelOptions }),
    types: [
      {
        typeUrl: ADDRESS_TYPE_URL,
        decode: decodeAddressResource,
        onUpdate: (update) => apply(ADDRESS_TYPE_URL, addressBatch(update, store), counts(update)),
      },
      {
        typeUrl: AUTHORIZATION_TYPE_URL,
        decode: decodeAuthorizationResource,
        onUpdate: (update) => apply(AUTHORIZATION_TYPE_URL, authorizationBatch(update), counts(update)),
      },
    ],
  });

  const readyPromise = client.ready().then(() => {
    ready = true;
    logger.info({ address: options.address, version: store.version }, 'xDS initial sync complete');
  });
  // A close before the first sync rejects this; the rejection reaches callers of ready(), not an unhandled promise.
  readyPromise.catch(() => undefined);

  return {
    store,
    ready: () => readyPromise,
    status(): XdsStateStatus {
      const s = client.status();
      return {
        ready,
        connected: s.connected,
        closed: s.closed,
        connects: s.connects,
        lastError: s.lastError,
        nextRetryAt: s.nextRetryAt,
        storeVersion: store.version,
        types: s.types,
        storeRejections,
        lastStoreRejections,
      };
    },
    close: (deadlineMs = XDS_CLOSE_DEADLINE_MS) => client.close(deadlineMs),
    destroy: () => client.destroy(),
  };
}

function counts(update: { upserts: readonly unknown[]; removals: readonly unknown[]; rejections: readonly unknown[] }): {
  upserts: number;
  removals: number;
  rejected: number;
} {
  return { upserts: update.upserts.length, removals: update.removals.length, rejected: update.rejections.length };
}
