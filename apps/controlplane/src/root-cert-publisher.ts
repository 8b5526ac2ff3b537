// Publishes the mesh root certificate as istiod's namespace controller does (Kubernetes mode only): the ConfigMap
// `istio-ca-root-cert` (key `root-cert.pem`) in every namespace, which ztunnel and waypoints mount to trust 15012.
// It reacts to Namespace and ConfigMap changes and to a new root; the decisions are pipeline/root-cert-configmaps.ts.

import {
  hasStatusCause,
  statusCodeOf,
  type ApiResource,
  type ConfigEvent,
  type ConfigSource,
  type KubeApi,
} from '@weft/config-source';

import type { MessageFirstLogger } from './logging';
import { planRootCertConfigMaps, ROOT_CERT_CONFIGMAP_NAME, type RootCertWrite } from './pipeline/root-cert-configmaps';
import { ReconcileLoop } from './reconcile-loop';

/** First retry after a failed pass; doubles per consecutive failure up to the maximum. */
export const ROOT_CERT_RETRY_MIN_MS = 1_000;
export const ROOT_CERT_RETRY_MAX_MS = 60_000;
/** How long `close()` waits for the write in flight. */
export const ROOT_CERT_CLOSE_DEADLINE_MS = 5_000;

/**
 * The ConfigMaps the publisher watches: only those named `istio-ca-root-cert` (a field selector, as istiod's
 * filtered informer), so the controlplane never lists every ConfigMap of the cluster.
 */
export const ROOT_CERT_CONFIGMAPS: ApiResource = {
  kind: 'ConfigMap',
  group: '',
  version: 'v1',
  plural: 'configmaps',
  namespaced: true,
  fieldSelector: `metadata.name=${ROOT_CERT_CONFIGMAP_NAME}`,
};

/** The bundle to publish, and news of its replacement. */
export interface RootCertificateSource {
  current(): string;
  /** Calls the listener after the bundle changed; returns the function that unsubscribes. */
  subscribe(listener: () => void): () => void;
}

/** A root that never changes while the process runs (the CA reads its plug-in certs once, at start). */
export function fixedRootCertificate(pem: string): RootCertificateSource {
  return { current: () => pem, subscribe: () => () => undefined };
}

type WatchedSource = Pick<ConfigSource, 'subscribe' | 'snapshot'>;

export interface RootCertPublisherOptions {
  readonly api: Pick<KubeApi, 'applyObject'>;
  /** A source holding the Namespaces (the controlplane's config source). */
  readonly namespaces: WatchedSource;
  /** A source holding the `istio-ca-root-cert` ConfigMaps (one over `ROOT_CERT_CONFIGMAPS`). */
  readonly configMaps: WatchedSource;
  readonly root: RootCertificateSource;
  readonly logger: MessageFirstLogger;
  readonly retryMinMs?: number;
  readonly retryMaxMs?: number;
}

export interface RootCertPublisher {
  /** Subscribes to both sources and to the root, and reconciles once both sources have listed. */
  start(): void;
  /** Stops reconciling and waits for the write in flight up to the deadline. Idempotent. */
  close(deadlineMs?: number): Promise<void>;
  /** Stops reconciling at once; a write in flight finishes unobserved. Idempotent. */
  destroy(): void;
}

export function createRootCertPublisher(options: RootCertPublisherOptions): RootCertPublisher {
  return new KubeRootCertPublisher(options);
}

/** Whether a config event can change the plan: Namespaces came, changed or went. */
function touchesNamespaces(event: ConfigEvent): boolean {
  const { added, updated, removed } = event.changed;
  return [added, updated, removed].some((objects) => objects.some((object) => object.kind === 'Namespace'));
}

/**
 * A write that failed because the namespace is gone or being deleted: not retried, as istiod does not retry a
 * create refused with `NamespaceTerminating` (nothing can be created there any more).
 */
function namespaceGone(error: unknown): boolean {
  return statusCodeOf(error) === 404 || hasStatusCause(error, 'NamespaceTerminating');
}

class KubeRootCertPublisher implements RootCertPublisher {
  private readonly loop: ReconcileLoop;
  private readonly unsubscribes: (() => void)[] = [];

  constructor(private readonly options: RootCertPublisherOptions) {
    this.loop = new ReconcileLoop({
      name: 'root certificate',
      reconcile: (stopped) => this.reconcile(stopped),
      logger: options.logger,
      retryMinMs: options.retryMinMs ?? ROOT_CERT_RETRY_MIN_MS,
      retryMaxMs: options.retryMaxMs ?? ROOT_CERT_RETRY_MAX_MS,
    });
  }

  start(): void {
    if (this.loop.stopped || this.unsubscribes.length > 0) return;
    const { namespaces, configMaps, root } = this.options;
    this.unsubscribes.push(
      namespaces.subscribe((event) => {
        if (touchesNamespaces(event)) this.scheduleWhenListed();
      }),
      // Every change of one of these ConfigMaps matters: an edit of its data is reverted, a deletion recreated.
      configMaps.subscribe(() => this.scheduleWhenListed()),
      root.subscribe(() => {
        this.options.logger.info('mesh root certificate changed; republishing it');
        this.scheduleWhenListed();
      }),
    );
    this.scheduleWhenListed();
  }

  close(deadlineMs = ROOT_CERT_CLOSE_DEADLINE_MS): Promise<void> {
    this.unsubscribe();
    return this.loop.close(deadlineMs);
  }

  destroy(): void {
    this.unsubscribe();
    this.loop.destroy();
  }

  private unsubscribe(): void {
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
  }

  /** Plans only from complete lists (istiod waits for both caches to sync): a half-listed state would rewrite all. */
  private scheduleWhenListed(): void {
    if (this.options.namespaces.snapshot().version > 0 && this.options.configMaps.snapshot().version > 0) this.loop.schedule();
  }

  /** Applies the ConfigMaps the current snapshots lack; returns how many writes failed. */
  private async reconcile(stopped: () => boolean): Promise<number> {
    const plan = planRootCertConfigMaps({
      namespaces: this.options.namespaces.snapshot().list('Namespace'),
      configMaps: this.options.configMaps.snapshot().list('ConfigMap'),
      rootCertPem: this.options.root.current(),
    });
    let failed = 0;
    for (const write of plan) {
      if (stopped()) return failed;
      if (!(await this.apply(write))) failed += 1;
    }
    return failed;
  }

  /** Server-side applies one ConfigMap; `false` when it failed and should be retried. */
  private async apply(write: RootCertWrite): Promise<boolean> {
    const { namespace, reason } = write;
    try {
      await this.options.api.applyObject(write.configMap);
      this.options.logger.info(reason === 'missing' ? 'root certificate ConfigMap created' : 'root certificate ConfigMap rewritten', {
        namespace,
        name: ROOT_CERT_CONFIGMAP_NAME,
      });
      return true;
    } catch (cause) {
      if (namespaceGone(cause)) {
        this.options.logger.debug('namespace gone or terminating; root certificate ConfigMap skipped', { namespace });
        return true;
      }
      this.options.logger.error(`failed to apply ConfigMap ${namespace}/${ROOT_CERT_CONFIGMAP_NAME}`, {
        namespace,
        name: ROOT_CERT_CONFIGMAP_NAME,
        err: cause,
      });
      return false;
    }
  }
}
