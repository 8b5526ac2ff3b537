// The fleet of Delta ADS clients the benchmark connects: wildcard subscribers of the address and authorization
// types, as ztunnel is. Each client keeps only the names it holds and counts what it receives; while a change is
// armed it records when it has applied every resource the change must produce.

import * as grpc from '@grpc/grpc-js';
import type { Authorization } from '@weft/mesh-model';
import {
  ADDRESS_TYPE_URL,
  AUTHORIZATION_TYPE_URL,
  createDeltaAdsClient,
  decodeAddressResource,
  decodeAuthorizationResource,
  type AddressResource,
  type DeltaAdsClient,
} from '@weft/xds';

import type { Expectation } from './fixture';

function addressName(resource: AddressResource): string {
  return resource.kind === 'workload' ? resource.workload.uid : `${resource.service.namespace}/${resource.service.hostname}`;
}

/** The key of `expectation` this upsert satisfies, if any. */
function satisfied(expectation: Expectation, typeUrl: string, resource: AddressResource | Authorization): string | undefined {
  switch (expectation.kind) {
    case 'workload-status': {
      if (typeUrl !== ADDRESS_TYPE_URL) return undefined;
      const address = resource as AddressResource;
      return address.kind === 'workload' && address.workload.uid === expectation.uid && address.workload.status === expectation.status
        ? expectation.uid
        : undefined;
    }
    case 'authorization-marker': {
      if (typeUrl !== AUTHORIZATION_TYPE_URL) return undefined;
      const policy = resource as Authorization;
      return `${policy.namespace}/${policy.name}` === expectation.key && JSON.stringify(policy.rules).includes(expectation.marker)
        ? expectation.key
        : undefined;
    }
    case 'new-service': {
      if (typeUrl !== ADDRESS_TYPE_URL) return undefined;
      const name = addressName(resource as AddressResource);
      return name === expectation.serviceKey || expectation.workloadUids.includes(name) ? name : undefined;
    }
  }
}

function expectedKeys(expectation: Expectation): number {
  switch (expectation.kind) {
    case 'workload-status':
    case 'authorization-marker':
      return 1;
    case 'new-service':
      return 1 + expectation.workloadUids.length;
  }
}

class BenchClient {
  readonly addresses = new Set<string>();
  readonly authorizations = new Set<string>();
  /** Responses applied (both types) since the fleet was armed. */
  responses = 0;
  /** Upserts plus removals applied since the fleet was armed. */
  received = 0;
  expectation: Expectation | undefined;
  readonly found = new Set<string>();
  appliedAt: number | undefined;
  fullAt: number | undefined;
  client: DeltaAdsClient | undefined;
}

export interface FleetTargets {
  readonly addresses: number;
  readonly authorizations: number;
}

export interface ArmedResult {
  /** performance.now() of the first and last client to apply the change. */
  readonly firstApplied: number;
  readonly lastApplied: number;
}

export class ClientFleet {
  private readonly clients: BenchClient[] = [];
  private waiters: (() => void)[] = [];
  private targets: FleetTargets = { addresses: Number.POSITIVE_INFINITY, authorizations: Number.POSITIVE_INFINITY };

  constructor(private readonly address: string) {}

  get size(): number {
    return this.clients.length;
  }

  /** Full state = at least these many resources of each type (what the controlplane reports it serves). */
  setTargets(targets: FleetTargets): void {
    this.targets = targets;
    const now = performance.now();
    for (const c of this.clients) this.checkFull(c, now);
    this.wake();
  }

  /** Opens `count` clients at once, each on its own channel (its own TCP connection), as separate ztunnels would. */
  connect(count: number): void {
    for (let i = 0; i < count; i++) {
      const recorder = new BenchClient();
      const onBatch = (typeUrl: string, upserts: readonly (AddressResource | Authorization)[], removals: readonly string[]): void => {
        const now = performance.now();
        recorder.responses += 1;
        recorder.received += upserts.length + removals.length;
        const held = typeUrl === ADDRESS_TYPE_URL ? recorder.addresses : recorder.authorizations;
        for (const name of removals) held.delete(name);
        for (const resource of upserts) {
          held.add(
            typeUrl === ADDRESS_TYPE_URL
              ? addressName(resource as AddressResource)
              : `${(resource as Authorization).namespace}/${(resource as Authorization).name}`,
          );
        }
        const expectation = recorder.expectation;
        if (expectation !== undefined && recorder.appliedAt === undefined) {
          for (const resource of upserts) {
            const key = satisfied(expectation, typeUrl, resource);
            if (key !== undefined) recorder.found.add(key);
          }
          if (recorder.found.size >= expectedKeys(expectation)) recorder.appliedAt = now;
        }
        this.checkFull(recorder, now);
        this.wake();
      };
      recorder.client = createDeltaAdsClient<[AddressResource, Authorization]>({
        address: this.address,
        credentials: grpc.credentials.createInsecure(),
        channelOptions: {
          'grpc.use_local_subchannel_pool': 1,
          'grpc.max_receive_message_length': 64 * 1024 * 1024,
        },
        node: { id: `ztunnel~10.0.0.${(i % 250) + 1}~ztunnel-bench-${i}.istio-system~istio-system.svc.cluster.local` },
        backoff: { initialMs: 100, maxMs: 1_000 },
        types: [
          {
            typeUrl: ADDRESS_TYPE_URL,
            decode: decodeAddressResource,
            onUpdate: (batch) => onBatch(ADDRESS_TYPE_URL, batch.upserts, batch.removals),
          },
          {
            typeUrl: AUTHORIZATION_TYPE_URL,
            decode: decodeAuthorizationResource,
            onUpdate: (batch) => onBatch(AUTHORIZATION_TYPE_URL, batch.upserts, batch.removals),
          },
        ],
      });
      this.clients.push(recorder);
    }
  }

  private checkFull(c: BenchClient, now: number): void {
    if (c.fullAt === undefined && c.addresses.size >= this.targets.addresses && c.authorizations.size >= this.targets.authorizations) {
      c.fullAt = now;
    }
  }

  private wake(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** Resolves when `predicate` holds, re-checked after every applied response; rejects after `timeoutMs`. */
  async waitFor(predicate: () => boolean, what: string, timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!predicate()) {
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== done);
          resolve();
        }, Math.min(left, 250));
        this.waiters.push(done);
      });
    }
  }

  /** Resolves with the time the last client's `ready()` settled (first response of both types applied). */
  async allReady(): Promise<number> {
    let last = 0;
    await Promise.all(
      this.clients.map((c) =>
        (c.client as DeltaAdsClient).ready().then(() => {
          last = Math.max(last, performance.now());
        }),
      ),
    );
    return last;
  }

  async allFull(timeoutMs: number): Promise<number> {
    await this.waitFor(() => this.clients.every((c) => c.fullAt !== undefined), 'every client to hold the full state', timeoutMs);
    return Math.max(...this.clients.map((c) => c.fullAt ?? 0));
  }

  /** Starts watching for `expectation` and zeroes the per-client counters. */
  arm(expectation: Expectation): void {
    for (const c of this.clients) {
      c.expectation = expectation;
      c.found.clear();
      c.appliedAt = undefined;
      c.responses = 0;
      c.received = 0;
    }
  }

  async allApplied(timeoutMs: number): Promise<ArmedResult> {
    await this.waitFor(() => this.clients.every((c) => c.appliedAt !== undefined), 'every client to apply the change', timeoutMs);
    const times = this.clients.map((c) => c.appliedAt ?? 0);
    return { firstApplied: Math.min(...times), lastApplied: Math.max(...times) };
  }

  /** Per-client resources and responses received since `arm`. */
  receivedCounts(): { resources: number[]; responses: number[] } {
    return { resources: this.clients.map((c) => c.received), responses: this.clients.map((c) => c.responses) };
  }

  disarm(): void {
    for (const c of this.clients) c.expectation = undefined;
  }

  /** Stream (re)connects beyond the first, summed over clients. */
  reconnects(): number {
    return this.clients.reduce((sum, c) => sum + Math.max(0, (c.client?.status().connects ?? 1) - 1), 0);
  }

  heldCounts(): { addresses: number[]; authorizations: number[] } {
    return { addresses: this.clients.map((c) => c.addresses.size), authorizations: this.clients.map((c) => c.authorizations.size) };
  }

  destroy(): void {
    for (const c of this.clients) c.client?.destroy();
    this.wake();
  }
}
