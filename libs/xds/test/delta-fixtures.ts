// Fixtures for the gRPC-level Delta ADS tests: an in-memory resource source (a fake — the real sources live in the
// control plane), a port-0 server harness, and a client type that applies batches to a plain map.
import * as grpc from '@grpc/grpc-js';
import {
  AggregatedDiscoveryServiceService,
  type DeltaDiscoveryRequest,
} from '../src/generated/envoy/service/discovery/v3/discovery';
import { StringValue } from '../src/generated/google/protobuf/wrappers';
import type { DeltaClientType, DeltaUpdateBatch } from '../src/delta-client-types';
import { createDeltaAdsServer } from '../src/delta-server';
import type { DeltaAdsServer, DeltaAdsServerOptions, DeltaResourceSource } from '../src/delta-server-types';
import { contentVersion, type DeltaSnapshotEntry } from '../src/delta-server-state';

export const STRING_TYPE_URL = 'type.googleapis.com/google.protobuf.StringValue';
export const BYTES_TYPE_URL = 'type.googleapis.com/google.protobuf.BytesValue';

/** Bytes that claim a 5-byte string but hold one byte: StringValue.decode throws on them. */
export const MALFORMED = new Uint8Array([0x0a, 0x05, 0x61]);

/** Generous: CI machines are shared and slow. Nothing here asserts on timing. */
export const WAIT_TIMEOUT_MS = 20_000;
const POLL_MS = 10;

export async function waitFor(what: string, predicate: () => boolean, timeoutMs = WAIT_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** An in-memory source (test fake): every change notifies subscribers with the type it touched. */
export class InMemoryDeltaSource implements DeltaResourceSource {
  private readonly types = new Map<string, Map<string, DeltaSnapshotEntry>>();
  private readonly listeners = new Set<(typeUrls: readonly string[]) => void>();

  setBytes(typeUrl: string, name: string, value: Uint8Array): void {
    const map = this.types.get(typeUrl) ?? new Map<string, DeltaSnapshotEntry>();
    this.types.set(typeUrl, map);
    map.set(name, { version: contentVersion(value), resource: { typeUrl, value: Buffer.from(value) } });
    this.notify(typeUrl);
  }

  setString(name: string, text: string, typeUrl = STRING_TYPE_URL): void {
    this.setBytes(typeUrl, name, StringValue.encode({ value: text }).finish());
  }

  delete(name: string, typeUrl = STRING_TYPE_URL): void {
    this.types.get(typeUrl)?.delete(name);
    this.notify(typeUrl);
  }

  version(name: string, typeUrl = STRING_TYPE_URL): string | undefined {
    return this.types.get(typeUrl)?.get(name)?.version;
  }

  snapshot(typeUrl: string): ReadonlyMap<string, DeltaSnapshotEntry> {
    return new Map(this.types.get(typeUrl) ?? []);
  }

  subscribe(onChange: (typeUrls: readonly string[]) => void): () => void {
    this.listeners.add(onChange);
    return () => this.listeners.delete(onChange);
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  private notify(typeUrl: string): void {
    for (const listener of this.listeners) listener([typeUrl]);
  }
}

export interface RunningServer {
  readonly ads: DeltaAdsServer;
  readonly port: number;
  /** Every request the server received, in order, tapped before the handler sees it. */
  readonly requests: DeltaDiscoveryRequest[];
  stop(): Promise<void>;
}

/** Serves Delta ADS on 127.0.0.1 (port 0 unless given) with plaintext credentials. */
export async function startServer(options: DeltaAdsServerOptions, port = 0): Promise<RunningServer> {
  const ads = createDeltaAdsServer(options);
  const requests: DeltaDiscoveryRequest[] = [];
  const server = new grpc.Server();
  server.addService(AggregatedDiscoveryServiceService, {
    ...ads.handlers,
    deltaAggregatedResources: (call: grpc.ServerDuplexStream<DeltaDiscoveryRequest, unknown>) => {
      call.on('data', (r: DeltaDiscoveryRequest) => requests.push(r));
      ads.handlers.deltaAggregatedResources(call as Parameters<typeof ads.handlers.deltaAggregatedResources>[0]);
    },
  });
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  let stopped: Promise<void> | undefined;
  return {
    ads,
    port: bound,
    requests,
    stop: () => {
      stopped ??= ads.close(5_000).then(
        () =>
          new Promise<void>((resolve) => {
            // Belt and braces: a call that ignores the drain must not keep the test process alive.
            const force = setTimeout(() => {
              server.forceShutdown();
              resolve();
            }, 5_000);
            server.tryShutdown(() => {
              clearTimeout(force);
              resolve();
            });
          }),
      );
      return stopped;
    },
  };
}

export interface Decoded {
  readonly name: string;
  readonly text: string;
}

export interface RecordingType {
  readonly type: DeltaClientType<Decoded>;
  /** The application's store: name → text, as the batches left it. */
  readonly store: Map<string, string>;
  readonly batches: DeltaUpdateBatch<Decoded>[];
}

/** A client type decoding StringValue and applying each batch to `store` in one go. */
export function recordingType(typeUrl = STRING_TYPE_URL, subscription?: DeltaClientType<Decoded>['subscription']): RecordingType {
  const store = new Map<string, string>();
  const batches: DeltaUpdateBatch<Decoded>[] = [];
  const type: DeltaClientType<Decoded> = {
    typeUrl,
    ...(subscription === undefined ? {} : { subscription }),
    decode: (r) => {
      try {
        return { ok: true, value: { name: r.name, text: StringValue.decode(r.value).value } };
      } catch (err) {
        return { ok: false, message: `not a StringValue: ${(err as Error).message}` };
      }
    },
    onUpdate: (batch) => {
      batches.push(batch);
      for (const u of batch.upserts) store.set(u.name, u.text);
      for (const name of batch.removals) store.delete(name);
    },
  };
  return { type, store, batches };
}

export const summarize = (b: DeltaUpdateBatch<Decoded> | undefined) => ({
  upserts: (b?.upserts ?? []).map((u) => `${u.name}=${u.text}`).sort(),
  removals: [...(b?.removals ?? [])].sort(),
  rejected: (b?.rejections ?? []).map((r) => r.name).sort(),
});
