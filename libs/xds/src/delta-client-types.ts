// The Delta ADS client's public contract: the per-type decode/apply hooks, the options, and the status it reports.

import type * as grpc from '@grpc/grpc-js';
import type { DeltaAdsErrorCode, DeltaAdsLogger } from './delta-errors';
import type {
  DeltaBackoff,
  DeltaClientNack,
  DeltaClientSubscription,
  DeltaDecoder,
  DeltaRejection,
} from './delta-client-state';

/** One response's worth of changes for one type, applied by the application in one go. */
export interface DeltaUpdateBatch<T> {
  readonly upserts: readonly T[];
  readonly removals: readonly string[];
  /** Resources that were not applied (their previous version, if any, stays); they are also NACKed. */
  readonly rejections: readonly DeltaRejection[];
}

export interface DeltaClientType<T> {
  readonly typeUrl: string;
  readonly decode: DeltaDecoder<T>;
  /** Called once per response, synchronously, before the ACK/NACK; it must not await in the middle of applying. */
  readonly onUpdate: (batch: DeltaUpdateBatch<T>) => void;
  /** Wildcard unless given (ztunnel's default; its on-demand mode is `{ wildcard: false }`). */
  readonly subscription?: DeltaClientSubscription;
}

export interface DeltaAdsClientOptions<Ts extends readonly unknown[]> {
  readonly address: string;
  readonly credentials: grpc.ChannelCredentials;
  readonly node: { readonly id: string; readonly cluster?: string; readonly metadata?: Readonly<Record<string, unknown>> };
  /** Call headers, evaluated on every connect so a rotated bearer token is picked up. */
  readonly metadata?: () => Readonly<Record<string, string>>;
  readonly types: { readonly [K in keyof Ts]: DeltaClientType<Ts[K]> };
  readonly backoff: DeltaBackoff;
  readonly channelOptions?: grpc.ChannelOptions;
  readonly logger?: DeltaAdsLogger;
  /** Source of jitter in [0, 1); tests pin it. */
  readonly random?: () => number;
}

export interface DeltaClientTypeStatus {
  readonly typeUrl: string;
  readonly wildcard: boolean;
  readonly subscribedNames: readonly string[];
  readonly resources: number;
  readonly responses: number;
  readonly lastNonce: string | undefined;
  readonly lastAckedNonce: string | undefined;
  readonly lastNack: DeltaClientNack | undefined;
  readonly systemVersionInfo: string;
}

export interface DeltaClientError {
  readonly code: DeltaAdsErrorCode;
  readonly message: string;
  readonly grpcCode: number | undefined;
  /** Epoch milliseconds. */
  readonly at: number;
}

export interface DeltaAdsClientStatus {
  /** A stream is open and has delivered at least one response. */
  readonly connected: boolean;
  readonly closed: boolean;
  /** Streams opened so far. */
  readonly connects: number;
  readonly lastError: DeltaClientError | undefined;
  /** Epoch milliseconds of the next reconnect attempt, while one is scheduled. */
  readonly nextRetryAt: number | undefined;
  readonly types: readonly DeltaClientTypeStatus[];
}

export interface DeltaAdsClient {
  /** Resolves once the first response of every type has been applied; rejects ERR_XDS_CLIENT_CLOSED if closed first. */
  ready(): Promise<void>;
  status(): DeltaAdsClientStatus;
  /** On-demand: adds names ("*" turns the wildcard on). Throws ERR_XDS_UNKNOWN_TYPE for a type not configured. */
  subscribe(typeUrl: string, names: readonly string[]): void;
  /** Drops names ("*" the wildcard); resources no longer subscribed are passed to onUpdate as removals. */
  unsubscribe(typeUrl: string, names: readonly string[]): void;
  /** Half-closes the stream, waits for the server up to the deadline, then cancels; idempotent. */
  close(deadlineMs?: number): Promise<void>;
  /** Cancels the stream and the pending reconnect at once; idempotent. */
  destroy(): void;
}
