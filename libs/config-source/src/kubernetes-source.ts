// The production config source: one informer per watched kind, changes batched into the same events as the
// manifest source, and status written back to the API server. The client itself sits behind `KubeApi`
// (kubernetes-client.ts loads it lazily), so this file is testable with a fake informer.
import type { KubeObject } from '@weft/mesh-config';

import { ChangeBatcher, ListenerSet } from './change-batcher';
import {
  CHANGE_DEBOUNCE_MS,
  CHANGE_MAX_DELAY_MS,
  NOOP_LOGGER,
  type ConfigListener,
  type ConfigSnapshot,
  type ConfigSource,
  type ConfigSourceLogger,
  type ObjectStatus,
} from './config-source';
import { statusWriteError, watchError } from './config-source-error';
import {
  annotationPatch,
  informerRestart,
  isIstioResource,
  istioStatusPatch,
  KUBE_RESOURCES,
  parseObjectKey,
  resourcePath,
  toKubeObject,
  type ApiResource,
} from './kubernetes-resources';
import { ObjectSet } from './object-set';

/** A full re-list per kind at this interval guards against watches that die silently. */
export const KUBE_RESYNC_INTERVAL_MS = 10 * 60_000;

/** The part of an informer the source uses (client-node's `Informer & ObjectCache` fits it). */
export interface WatchInformer {
  on(verb: 'add' | 'update' | 'delete' | 'error', callback: (value: unknown) => void): void;
  /** Resolves after the initial list (client-node: after the list and the watch request). */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The informer's cache. */
  list(): readonly unknown[];
}

/** The narrow capability the source needs from the API server. */
export interface KubeApi {
  /** An informer over every namespace, restricted to `resource.fieldSelector` when it has one. */
  createInformer(resource: ApiResource): WatchInformer;
  /** JSON merge patch of an object's annotations (a null value removes the annotation). */
  mergePatchAnnotations(
    resource: ApiResource,
    namespace: string,
    name: string,
    annotations: Readonly<Record<string, string | null>>,
  ): Promise<void>;
  /** JSON merge patch of an object's status subresource. */
  mergePatchStatus(resource: ApiResource, namespace: string, name: string, patch: object): Promise<void>;
  /**
   * Server-side apply of a whole object (`application/apply-patch+yaml`, field manager `weft-controlplane`,
   * force): creates it or makes the fields Weft manages match, taking them over from other managers.
   */
  applyObject(object: KubeObject): Promise<void>;
  /**
   * Creates an object if none of its name exists: true when this call created it, false when it already existed
   * (409). Unlike an apply, it never changes an existing object, so the first of several racing writers wins.
   */
  createObject(object: KubeObject): Promise<boolean>;
  /**
   * Replaces a whole object (PUT) on the condition that it is still at `metadata.resourceVersion` (optimistic
   * concurrency): true when stored, false when the server refused it with 409 Conflict because someone wrote first.
   */
  replaceObject(object: KubeObject): Promise<boolean>;
  /** Deletes an object; one that is already gone (404) counts as deleted. */
  deleteObject(apiVersion: string, kind: string, namespace: string, name: string): Promise<void>;
  /** Reads one object by name (`namespace` '' for cluster-scoped kinds); one that does not exist (404) is `undefined`. */
  getObject(apiVersion: string, kind: string, namespace: string, name: string): Promise<KubeObject | undefined>;
}

export interface KubernetesSourceOptions {
  readonly api: KubeApi;
  /** Default `KUBE_RESOURCES`; another list makes a source of just those kinds (a controller's own watch). */
  readonly resources?: readonly ApiResource[];
  readonly logger?: ConfigSourceLogger;
  readonly debounceMs?: number;
  readonly resyncIntervalMs?: number;
}

interface ResourceWatch {
  readonly resource: ApiResource;
  informer: WatchInformer;
  failures: number;
  retryTimer: NodeJS.Timeout | undefined;
}

export function createKubernetesSource(options: KubernetesSourceOptions): KubernetesSource {
  return new KubernetesSource(options);
}

export class KubernetesSource implements ConfigSource {
  private readonly api: KubeApi;
  private readonly resources: readonly ApiResource[];
  private readonly logger: ConfigSourceLogger;
  private readonly objects = new ObjectSet();
  private readonly listeners: ListenerSet;
  private readonly batcher: ChangeBatcher;
  private readonly resyncIntervalMs: number;
  private readonly watches = new Map<string, ResourceWatch>();
  private readonly reported = new Map<string, ObjectStatus>();
  private readonly inFlight = new Set<Promise<void>>();
  private resyncTimer: NodeJS.Timeout | undefined;
  private started = false;
  private closed = false;

  constructor(options: KubernetesSourceOptions) {
    this.api = options.api;
    this.resources = options.resources ?? KUBE_RESOURCES;
    this.logger = options.logger ?? NOOP_LOGGER;
    this.listeners = new ListenerSet(this.logger);
    const delay = options.debounceMs ?? CHANGE_DEBOUNCE_MS;
    this.batcher = new ChangeBatcher(this.objects, this.listeners, delay, Math.max(delay, CHANGE_MAX_DELAY_MS));
    this.resyncIntervalMs = options.resyncIntervalMs ?? KUBE_RESYNC_INTERVAL_MS;
  }

  /**
   * Lists every kind and emits the first event. A kind whose list fails (a CRD not installed, RBAC) is reported
   * in that event and retried in the background; it does not hold up the others.
   */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await Promise.all(this.resources.map((resource) => this.startWatch(resource)));
    if (this.closed) return;
    this.batcher.flush(true);
    this.resyncTimer = setInterval(() => this.resync(), this.resyncIntervalMs);
  }

  snapshot(): ConfigSnapshot {
    return this.objects.snapshot();
  }

  subscribe(listener: ConfigListener): () => void {
    return this.listeners.subscribe(listener);
  }

  /**
   * Pods get the annotations as a merge patch on metadata (the cni-node's `ambient.istio.io/redirection`);
   * Istio kinds get conditions and validation messages on their status subresource. Other kinds keep the status
   * in memory only (Gateway API status needs controller semantics of its own). Failures arrive as errors on the
   * next event.
   */
  reportStatus(key: string, status: ObjectStatus | undefined): void {
    const previous = this.reported.get(key);
    if (status === undefined) this.reported.delete(key);
    else this.reported.set(key, status);
    const parts = parseObjectKey(key);
    const resource = this.resources.find((r) => r.kind === parts?.kind);
    if (parts === undefined || resource === undefined || this.closed) return;
    const patches: Promise<void>[] = [];
    const annotations = annotationPatch(previous?.annotations, status?.annotations);
    if (resource.kind === 'Pod' && annotations !== undefined) {
      patches.push(this.api.mergePatchAnnotations(resource, parts.namespace, parts.name, annotations.metadata.annotations));
    }
    if (isIstioResource(resource) && (previous !== undefined || status !== undefined)) {
      patches.push(this.api.mergePatchStatus(resource, parts.namespace, parts.name, istioStatusPatch(status)));
    }
    for (const patch of patches) this.track(patch.catch((cause: unknown) => this.batcher.report(statusWriteError(key, cause))));
  }

  statuses(): ReadonlyMap<string, ObjectStatus> {
    return new Map(this.reported);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.resyncTimer !== undefined) clearInterval(this.resyncTimer);
    this.resyncTimer = undefined;
    this.batcher.close();
    const stops: Promise<void>[] = [];
    for (const watch of this.watches.values()) {
      if (watch.retryTimer !== undefined) clearTimeout(watch.retryTimer);
      stops.push(watch.informer.stop().catch(() => undefined)); // stopping a failed informer may reject
    }
    await Promise.all([...stops, ...this.inFlight]);
  }

  private async startWatch(resource: ApiResource): Promise<void> {
    const watch: ResourceWatch = { resource, informer: this.newInformer(resource), failures: 0, retryTimer: undefined };
    this.watches.set(resource.kind, watch);
    await this.run(watch, true);
  }

  private newInformer(resource: ApiResource): WatchInformer {
    const informer = this.api.createInformer(resource);
    const current = (): boolean => this.watches.get(resource.kind)?.informer === informer;
    const upsert = (raw: unknown): void => {
      const object = toKubeObject(resource, raw);
      if (object !== undefined && current()) this.batcher.upsert(object);
    };
    informer.on('add', upsert);
    informer.on('update', upsert);
    informer.on('delete', (raw) => {
      const object = toKubeObject(resource, raw);
      if (object !== undefined && current()) this.batcher.delete(object);
    });
    informer.on('error', (error) => {
      const watch = this.watches.get(resource.kind);
      if (watch !== undefined && watch.informer === informer) this.fail(watch, error);
    });
    return informer;
  }

  /** Starts the watch's informer; with `relist` its cache replaces everything of the kind once listed. */
  private async run(watch: ResourceWatch, relist: boolean): Promise<void> {
    const informer = watch.informer;
    if (this.closed) return; // a re-list that raced close() must not open a new watch
    try {
      await informer.start();
    } catch (cause) {
      this.fail(watch, cause);
      return;
    }
    if (this.closed || watch.informer !== informer) return;
    watch.failures = 0;
    if (relist) {
      const objects = informer.list().map((raw) => toKubeObject(watch.resource, raw));
      this.batcher.replaceKind(watch.resource.kind, objects.filter((o) => o !== undefined));
    }
  }

  private fail(watch: ResourceWatch, error: unknown): void {
    if (this.closed || watch.retryTimer !== undefined) return;
    watch.failures += 1;
    const decision = informerRestart(error, watch.failures);
    const what = resourcePath(watch.resource);
    this.logger.warn('informer failed', { resource: what, failures: watch.failures, ...decision });
    if (!decision.relist) this.batcher.report(watchError(what, error, `retrying in ${decision.delayMs} ms`));
    watch.retryTimer = setTimeout(() => {
      watch.retryTimer = undefined;
      if (decision.relist) this.track(this.relist(watch));
      else this.track(this.run(watch, false));
    }, decision.delayMs);
  }

  /** Replaces a watch's informer with a fresh one (empty cache, full list). */
  private async relist(watch: ResourceWatch): Promise<void> {
    const old = watch.informer;
    watch.informer = this.newInformer(watch.resource);
    await old.stop().catch(() => undefined);
    await this.run(watch, true);
  }

  private resync(): void {
    for (const watch of this.watches.values()) {
      if (watch.retryTimer === undefined) this.track(this.relist(watch));
    }
  }

  private track(work: Promise<void>): void {
    const tracked = work.catch((cause: unknown) => this.logger.error('kubernetes source task failed', { cause }));
    this.inFlight.add(tracked);
    void tracked.finally(() => this.inFlight.delete(tracked));
  }
}
