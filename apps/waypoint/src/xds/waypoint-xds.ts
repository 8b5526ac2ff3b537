// The waypoint's configuration stream: one Delta ADS stream with wildcard subscriptions to WDS Address (endpoints,
// into the MeshStore, as ztunnel keeps it) and to the waypoint resources of `weft.l7.v1` (into L7Config). Bad
// resources are NACKed by the client while the rest apply; while the controlplane is away the last state serves.

import type * as grpc from '@grpc/grpc-js';
import type { L7Authorization, MeshBatch, MeshStore, RequestAuthentication, WaypointService } from '@weft/mesh-model';
import {
  ADDRESS_TYPE_URL,
  L7_AUTHORIZATION_TYPE_URL,
  REQUEST_AUTHENTICATION_TYPE_URL,
  WAYPOINT_SERVICE_TYPE_URL,
  addressBatch,
  createDeltaAdsClient,
  decodeAddressResource,
  decodeL7AuthorizationResource,
  decodeRequestAuthenticationResource,
  decodeWaypointServiceResource,
  fieldsFirstDeltaLogger,
  xdsCallHeaders,
  type AddressResource,
  type DeltaClientTypeStatus,
  type FieldsFirstLogger,
} from '@weft/xds';

import type { L7Config } from './l7-config';

export interface WaypointXdsOptions {
  readonly address: string;
  readonly credentials: grpc.ChannelCredentials;
  readonly channelOptions?: grpc.ChannelOptions;
  /** `waypoint~<ip>~<pod>.<namespace>~<namespace>.svc.<domain>`, Istio's sidecar-style node id for a waypoint. */
  readonly nodeId: string;
  readonly nodeMetadata: Readonly<Record<string, unknown>>;
  readonly token: () => string;
  readonly clusterId: string;
  readonly store: MeshStore;
  readonly l7: L7Config;
  readonly logger: FieldsFirstLogger;
}

export interface WaypointXds {
  ready(): Promise<void>;
  synced(): boolean;
  status(): { readonly connected: boolean; readonly connects: number; readonly types: readonly DeltaClientTypeStatus[] };
  close(deadlineMs?: number): Promise<void>;
}

/** The waypoint's node id as istiod builds it for a router-type proxy. */
export function waypointNodeId(input: { readonly ip: string; readonly podName: string; readonly namespace: string; readonly domainSuffix?: string }): string {
  return `waypoint~${input.ip}~${input.podName}.${input.namespace}~${input.namespace}.svc.${input.domainSuffix ?? 'cluster.local'}`;
}

export function createWaypointXds(options: WaypointXdsOptions): WaypointXds {
  const { store, l7, logger } = options;
  let synced = false;
  const applyMesh = (batch: MeshBatch): void => {
    const change = store.apply(batch);
    if (change.rejected.length > 0) logger.warn({ rejected: change.rejected }, 'mesh store refused resources; previous versions stay');
  };
  const client = createDeltaAdsClient<[AddressResource, WaypointService, L7Authorization, RequestAuthentication]>({
    address: options.address,
    credentials: options.credentials,
    node: { id: options.nodeId, metadata: options.nodeMetadata },
    metadata: () => xdsCallHeaders({ token: options.token(), clusterId: options.clusterId }),
    backoff: { initialMs: 10, maxMs: 15_000 },
    logger: fieldsFirstDeltaLogger(logger),
    ...(options.channelOptions === undefined ? {} : { channelOptions: options.channelOptions }),
    types: [
      { typeUrl: ADDRESS_TYPE_URL, decode: decodeAddressResource, onUpdate: (update) => applyMesh(addressBatch(update, store)) },
      { typeUrl: WAYPOINT_SERVICE_TYPE_URL, decode: decodeWaypointServiceResource, onUpdate: (update) => l7.applyServices(update) },
      { typeUrl: L7_AUTHORIZATION_TYPE_URL, decode: decodeL7AuthorizationResource, onUpdate: (update) => l7.applyAuthorizations(update) },
      { typeUrl: REQUEST_AUTHENTICATION_TYPE_URL, decode: decodeRequestAuthenticationResource, onUpdate: (update) => l7.applyAuthentications(update) },
    ],
  });
  const readyPromise = client.ready().then(() => {
    synced = true;
    logger.info({ address: options.address }, 'xDS initial sync complete');
  });
  readyPromise.catch(() => undefined);
  return {
    ready: () => readyPromise,
    synced: () => synced,
    status: () => {
      const s = client.status();
      return { connected: s.connected, connects: s.connects, types: s.types };
    },
    close: (deadlineMs = 1_000) => client.close(deadlineMs),
  };
}
