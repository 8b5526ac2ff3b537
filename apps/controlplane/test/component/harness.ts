// A controlplane running in-process on a temp manifest directory, with real sockets on port 0, a real CA and
// Delta ADS clients from libs/xds that record every batch they apply. Tests change manifest files the way a
// user (or `kubectl apply`) would and wait for the resulting deltas.

import { mkdir, mkdtemp, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import * as grpc from '@grpc/grpc-js';
import { createManifestDirectorySource, type ManifestDirectorySource } from '@weft/config-source';
import {
  ADDRESS_TYPE_URL,
  AUTHORIZATION_TYPE_URL,
  createDeltaAdsClient,
  decodeAddressResource,
  decodeAuthorizationResource,
  type AddressResource,
  type DeltaAdsClient,
  type DeltaClientSubscription,
} from '@weft/xds';
import type { Authorization } from '@weft/mesh-model';
import pino from 'pino';
import { stringify } from 'yaml';

import { startControlplane, type Controlplane } from '../../src/app';
import { parseControlplaneConfig } from '../../src/config';

/** Bootstrap tokens the harness writes: ztunnel on node-a and node-b, and a workload that must not impersonate. */
export const TOKENS = {
  ztunnelA: 'ztunnel-node-a-token-0123456789abcdef0123',
  ztunnelB: 'ztunnel-node-b-token-0123456789abcdef0123',
  sleepA: 'sleep-on-node-a-token-0123456789abcdef0123',
} as const;

export interface Batch {
  readonly typeUrl: string;
  readonly upserts: readonly string[];
  readonly removals: readonly string[];
  readonly rejections: readonly string[];
}

/** Everything one xDS client received, and the resources it holds now. */
export class RecordingClient {
  readonly batches: Batch[] = [];
  readonly addresses = new Map<string, AddressResource>();
  readonly authorizations = new Map<string, Authorization>();
  client: DeltaAdsClient | undefined;
  private waiters: (() => void)[] = [];

  record(batch: Batch): void {
    // Initial empty responses carry nothing; keep them out so tests compare only real changes.
    if (batch.upserts.length > 0 || batch.removals.length > 0 || batch.rejections.length > 0) this.batches.push(batch);
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** Batches after `from`, in order. */
  since(from: number): Batch[] {
    return this.batches.slice(from);
  }

  async waitFor(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; batches: ${JSON.stringify(this.batches)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  workload(uid: string): Extract<AddressResource, { kind: 'workload' }>['workload'] | undefined {
    const resource = this.addresses.get(uid);
    return resource?.kind === 'workload' ? resource.workload : undefined;
  }
}

export interface ClientOptions {
  readonly tls?: { readonly token?: string };
  readonly addresses?: DeltaClientSubscription;
  readonly authorizations?: DeltaClientSubscription;
}

export class Harness {
  readonly clients: RecordingClient[] = [];

  private constructor(
    readonly dir: string,
    readonly manifests: string,
    readonly source: ManifestDirectorySource,
    readonly controlplane: Controlplane,
  ) {}

  static async start(files: Readonly<Record<string, readonly object[]>>): Promise<Harness> {
    const dir = await mkdtemp(path.join(tmpdir(), 'weft-cp-'));
    const manifests = path.join(dir, 'manifests');
    await mkdir(manifests);
    for (const [name, objects] of Object.entries(files)) await writeManifestFile(manifests, name, objects);
    const tokensFile = path.join(dir, 'tokens.yaml');
    await writeFile(
      tokensFile,
      stringify({
        tokens: [
          { token: TOKENS.ztunnelA, node: 'node-a' },
          { token: TOKENS.ztunnelB, node: 'node-b' },
          { token: TOKENS.sleepA, node: 'node-a', namespace: 'default', serviceAccount: 'sleep' },
        ],
      }),
    );
    const parsed = parseControlplaneConfig({
      WEFT_MANIFEST_DIR: manifests,
      WEFT_CA_DIR: path.join(dir, 'ca'),
      WEFT_BOOTSTRAP_TOKENS_FILE: tokensFile,
      WEFT_XDS_PLAINTEXT_PORT: '0',
      WEFT_XDS_TLS_PORT: '0',
      WEFT_MONITORING_PORT: '0',
      WEFT_LISTEN_ADDRESS: '127.0.0.1',
      PILOT_DEBOUNCE_AFTER_MS: '10',
      WEFT_DRAIN_DEADLINE_MS: '1000',
    });
    if (!parsed.ok) throw new Error(parsed.errors.join('; '));
    const source = createManifestDirectorySource({ directory: manifests, debounceMs: 20, annotationOverlayDir: path.join(manifests, '.weft') });
    const logger = pino({ level: 'silent' });
    try {
      const controlplane = await startControlplane({ config: parsed.config, logger, source });
      return new Harness(dir, manifests, source, controlplane);
    } catch (cause) {
      await rm(dir, { recursive: true, force: true });
      throw cause;
    }
  }

  write(name: string, objects: readonly object[]): Promise<void> {
    return writeManifestFile(this.manifests, name, objects);
  }

  remove(name: string): Promise<void> {
    return unlink(path.join(this.manifests, name));
  }

  /** A client of 15010 (plaintext) or, with `tls`, of 15012 presenting the bearer token. */
  async connect(options: ClientOptions = {}): Promise<RecordingClient> {
    const tls = options.tls;
    const recorder = new RecordingClient();
    const port = tls === undefined ? this.controlplane.ports.xdsPlaintext : this.controlplane.ports.xdsTls;
    const credentials =
      tls === undefined
        ? grpc.credentials.createInsecure()
        : grpc.credentials.createSsl(Buffer.from(this.controlplane.rootCertPem));
    const client = createDeltaAdsClient<[AddressResource, Authorization]>({
      address: `127.0.0.1:${port}`,
      credentials,
      ...(tls === undefined ? {} : { channelOptions: { 'grpc.ssl_target_name_override': 'istiod.istio-system.svc' } }),
      node: { id: `ztunnel~10.0.0.1~ztunnel-${this.clients.length}.istio-system~istio-system.svc.cluster.local` },
      ...(tls?.token === undefined ? {} : { metadata: () => ({ authorization: `Bearer ${tls.token}` }) }),
      backoff: { initialMs: 50, maxMs: 500 },
      types: [
        {
          typeUrl: ADDRESS_TYPE_URL,
          decode: decodeAddressResource,
          ...(options.addresses === undefined ? {} : { subscription: options.addresses }),
          onUpdate: (batch) => {
            for (const name of batch.removals) recorder.addresses.delete(name);
            const upserts = batch.upserts.map((resource) => {
              const name = resource.kind === 'workload' ? resource.workload.uid : `${resource.service.namespace}/${resource.service.hostname}`;
              recorder.addresses.set(name, resource);
              return name;
            });
            recorder.record({ typeUrl: ADDRESS_TYPE_URL, upserts, removals: batch.removals, rejections: batch.rejections.map((r) => r.name) });
          },
        },
        {
          typeUrl: AUTHORIZATION_TYPE_URL,
          decode: decodeAuthorizationResource,
          ...(options.authorizations === undefined ? {} : { subscription: options.authorizations }),
          onUpdate: (batch) => {
            for (const name of batch.removals) recorder.authorizations.delete(name);
            const upserts = batch.upserts.map((policy) => {
              const name = `${policy.namespace}/${policy.name}`;
              recorder.authorizations.set(name, policy);
              return name;
            });
            recorder.record({ typeUrl: AUTHORIZATION_TYPE_URL, upserts, removals: batch.removals, rejections: batch.rejections.map((r) => r.name) });
          },
        },
      ],
    });
    recorder.client = client;
    this.clients.push(recorder);
    return recorder;
  }

  async close(): Promise<void> {
    for (const recorder of this.clients) recorder.client?.destroy();
    await this.controlplane.close();
    await rm(this.dir, { recursive: true, force: true });
  }
}

async function writeManifestFile(dir: string, name: string, objects: readonly object[]): Promise<void> {
  // Write then rename, as editors and `kubectl` tooling do, so the watcher never reads half a file.
  const target = path.join(dir, name);
  const temp = path.join(dir, `.${name}.tmp`);
  await writeFile(temp, objects.map((object) => stringify(object)).join('---\n'));
  await rename(temp, target);
}

// ---- object builders: the fields the translation reads, nothing more ----

export function namespace(name: string, labels: Record<string, string> = {}): object {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
}

export interface PodOptions {
  readonly ip: string;
  readonly node?: string;
  readonly labels?: Record<string, string>;
  readonly serviceAccount?: string;
  readonly ready?: boolean;
  /** The CNI agent's `ambient.istio.io/redirection: enabled`, written once the pod is redirected. */
  readonly redirected?: boolean;
  readonly ports?: readonly { name?: string; containerPort: number }[];
}

export function pod(ns: string, name: string, options: PodOptions): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: ns,
      labels: options.labels ?? {},
      annotations: options.redirected === true ? { 'ambient.istio.io/redirection': 'enabled' } : {},
    },
    spec: {
      nodeName: options.node ?? 'node-a',
      serviceAccountName: options.serviceAccount ?? 'default',
      containers: [{ name: 'app', image: 'app', ports: options.ports ?? [] }],
    },
    status: {
      phase: 'Running',
      podIP: options.ip,
      podIPs: [{ ip: options.ip }],
      conditions: [{ type: 'Ready', status: options.ready === false ? 'False' : 'True' }],
    },
  };
}

export function service(ns: string, name: string, clusterIP: string, selector: Record<string, string>, ports: readonly object[]): object {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec: { clusterIP, clusterIPs: [clusterIP], selector, ports } };
}

export function authorizationPolicy(ns: string, name: string, spec: object): object {
  return { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name, namespace: ns }, spec };
}
