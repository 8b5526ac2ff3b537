// The Delta ADS server's public contract: what it reads resources from, how it authenticates a stream, and what it
// reports about connected proxies (the `/debug/connections` view) and its counters.

import type * as grpc from '@grpc/grpc-js';
import type { AggregatedDiscoveryServiceServer } from './generated/envoy/service/discovery/v3/discovery';
import type { DeltaAdsLogger } from './delta-errors';
import type { DeltaNack, DeltaSnapshot } from './delta-server-state';

/** Who is on the other end of a stream, for sources that filter resources per proxy. */
export interface DeltaPeerInfo {
  readonly connectionId: string;
  readonly nodeId: string;
  readonly nodeMetadata: Readonly<Record<string, unknown>>;
  readonly identity: string | undefined;
}

/** Where resources come from. Snapshots should be cached immutable maps: they are read once per stream per push. */
export interface DeltaResourceSource {
  snapshot(typeUrl: string, peer: DeltaPeerInfo): DeltaSnapshot;
  /** `onChange` names the type URLs whose snapshot changed; returns the unsubscribe function. */
  subscribe(onChange: (typeUrls: readonly string[]) => void): () => void;
}

/** The authentication hook's verdict; `identity` (e.g. the caller's SPIFFE id) is shown in `connections()`. */
export type DeltaAuthResult =
  | { readonly ok: true; readonly identity?: string }
  | { readonly ok: false; readonly message: string };

export interface DeltaAdsServerOptions {
  readonly source: DeltaResourceSource;
  readonly debounceMs?: number;
  readonly debounceMaxMs?: number;
  /** Checks the call's headers (`authorization: Bearer …`, `clusterid`); a rejection ends the stream UNAUTHENTICATED. */
  readonly authenticate?: (metadata: grpc.Metadata, peer: string) => Promise<DeltaAuthResult>;
  readonly logger?: DeltaAdsLogger;
}

export interface DeltaConnectionTypeInfo {
  readonly typeUrl: string;
  readonly wildcard: boolean;
  readonly subscribedNames: readonly string[];
  /** Resources the subscriber holds as far as the server knows. */
  readonly resources: number;
  readonly pushes: number;
  readonly lastNonceSent: string | undefined;
  readonly pendingNonces: readonly string[];
  readonly lastAckedNonce: string | undefined;
  readonly lastNack: DeltaNack | undefined;
  readonly acks: number;
  readonly nacks: number;
}

/** One row of the `/debug/connections` view. */
export interface DeltaConnectionInfo extends DeltaPeerInfo {
  readonly peer: string;
  /** Epoch milliseconds. */
  readonly connectedAt: number;
  readonly types: readonly DeltaConnectionTypeInfo[];
}

export interface DeltaAdsServerStats {
  readonly connected: number;
  readonly streamsTotal: number;
  readonly pushes: number;
  readonly resourcesSent: number;
  readonly removalsSent: number;
  readonly acks: number;
  readonly nacks: number;
  readonly authFailures: number;
}

export interface DeltaAdsServer {
  /** Register with `server.addService(AggregatedDiscoveryServiceService, handlers)`, or call `addTo`. */
  readonly handlers: AggregatedDiscoveryServiceServer;
  /** Registers the ADS service on `server`, so callers need no generated service definition. */
  addTo(server: grpc.Server): void;
  connections(): DeltaConnectionInfo[];
  stats(): DeltaAdsServerStats;
  /** Pushes what is pending, ends every stream with OK, and waits for them up to the deadline; idempotent. */
  close(deadlineMs?: number): Promise<void>;
  /** Ends every stream UNAVAILABLE at once and stops the timers; idempotent. */
  destroy(): void;
}
