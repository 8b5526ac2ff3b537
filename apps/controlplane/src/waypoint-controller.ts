// The waypoint controller (istiod's gateway deployment controller, Kubernetes mode only): on every config change it
// applies the ServiceAccount, Service and Deployment of each `istio-waypoint` Gateway, deletes those of Gateways
// that went, and writes the Gateways' status. The decisions are pipeline/waypoint-*.ts; this file does the I/O.

import { KUBE_RESOURCES, type ConfigSource, type KubeApi, type KubeResource } from '@weft/config-source';
import type { KubeObject, WaypointDeploymentOptions } from '@weft/mesh-config';

import type { MessageFirstLogger } from './logging';
import { ReconcileLoop } from './reconcile-loop';
import { appliedRecord, planWaypointObjects, type AppliedObject } from './pipeline/waypoint-objects';
import { gatewayStatusWrites } from './pipeline/waypoint-status';

/** First retry after a failed reconcile; doubles per consecutive failure up to the maximum. */
export const WAYPOINT_RETRY_MIN_MS = 1_000;
export const WAYPOINT_RETRY_MAX_MS = 60_000;
/** Everything is re-applied at this interval, repairing objects others edited (server-side apply is a no-op otherwise). */
export const WAYPOINT_RESYNC_INTERVAL_MS = 10 * 60_000;
/** How long `close()` waits for the write in flight. */
export const WAYPOINT_CLOSE_DEADLINE_MS = 5_000;

export interface WaypointControllerOptions {
  readonly api: Pick<KubeApi, 'applyObject' | 'deleteObject' | 'mergePatchStatus'>;
  readonly source: Pick<ConfigSource, 'subscribe' | 'snapshot'>;
  /** Image (`WAYPOINT_IMAGE`), controlplane address, trust domain and cluster of the waypoint Deployments. */
  readonly deployment: WaypointDeploymentOptions;
  /** Kubernetes cluster domain, for the Service hostname in the Gateway status (`CLUSTER_DOMAIN`). */
  readonly domainSuffix: string;
  readonly logger: MessageFirstLogger;
  readonly retryMinMs?: number;
  readonly retryMaxMs?: number;
  readonly resyncIntervalMs?: number;
  readonly now?: () => Date;
}

export interface WaypointController {
  /** Subscribes to config changes and reconciles the current snapshot. */
  start(): void;
  /** What was applied and not deleted since (debug views, tests). */
  applied(): ReadonlyMap<string, AppliedObject>;
  /** Stops reconciling and waits for the write in flight up to the deadline. Idempotent. */
  close(deadlineMs?: number): Promise<void>;
  /** Stops reconciling at once; a write in flight finishes unobserved. Idempotent. */
  destroy(): void;
}

export function createWaypointController(options: WaypointControllerOptions): WaypointController {
  return new KubeWaypointController(options);
}

function gatewayResource(): KubeResource {
  const resource = KUBE_RESOURCES.find((r) => r.kind === 'Gateway');
  if (resource === undefined) throw new TypeError('KUBE_RESOURCES lists no Gateway resource');
  return resource;
}

/** The objects the plans read: Gateways, the Services that carry their addresses, and the pods behind those. */
function watchedObjects(source: WaypointControllerOptions['source']): KubeObject[] {
  const snapshot = source.snapshot();
  return [...snapshot.list('Gateway'), ...snapshot.list('Service'), ...snapshot.list('Pod')];
}

class KubeWaypointController implements WaypointController {
  private readonly api: WaypointControllerOptions['api'];
  private readonly source: WaypointControllerOptions['source'];
  private readonly logger: MessageFirstLogger;
  private readonly gatewayResource = gatewayResource();
  private readonly lastApplied = new Map<string, AppliedObject>();
  private readonly loop: ReconcileLoop;
  private unsubscribe: (() => void) | undefined;
  private reapplyAll = false;
  private resyncTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: WaypointControllerOptions) {
    this.api = options.api;
    this.source = options.source;
    this.logger = options.logger;
    this.loop = new ReconcileLoop({
      name: 'waypoint',
      reconcile: () => this.reconcile(),
      logger: options.logger,
      retryMinMs: options.retryMinMs ?? WAYPOINT_RETRY_MIN_MS,
      retryMaxMs: options.retryMaxMs ?? WAYPOINT_RETRY_MAX_MS,
    });
  }

  private get stopped(): boolean {
    return this.loop.stopped;
  }

  start(): void {
    if (this.stopped || this.unsubscribe !== undefined) return;
    this.unsubscribe = this.source.subscribe(() => this.loop.schedule());
    this.resyncTimer = setInterval(() => {
      this.reapplyAll = true;
      this.loop.schedule();
    }, this.options.resyncIntervalMs ?? WAYPOINT_RESYNC_INTERVAL_MS);
    if (this.source.snapshot().version > 0) this.loop.schedule();
  }

  applied(): ReadonlyMap<string, AppliedObject> {
    return new Map(this.lastApplied);
  }

  close(deadlineMs = WAYPOINT_CLOSE_DEADLINE_MS): Promise<void> {
    this.stopWatching();
    return this.loop.close(deadlineMs);
  }

  destroy(): void {
    this.stopWatching();
    this.loop.destroy();
  }

  private stopWatching(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (this.resyncTimer !== undefined) clearInterval(this.resyncTimer);
    this.resyncTimer = undefined;
  }

  /** Applies, deletes and writes status for the current snapshot; returns how many writes failed. */
  private async reconcile(): Promise<number> {
    const objects = watchedObjects(this.source);
    const reapplyAll = this.reapplyAll;
    this.reapplyAll = false;
    const plan = planWaypointObjects({ objects, applied: this.lastApplied, deployment: this.options.deployment, reapplyAll });
    if (plan.unowned.length > 0) this.logger.warn('waypoint Gateways without uid cannot own objects; skipped', { gateways: plan.unowned });
    let failed = 0;
    for (const object of plan.apply) {
      if (this.stopped) return failed;
      if (await this.attempt('apply', object, () => this.api.applyObject(object.object))) {
        this.lastApplied.set(object.key, appliedRecord(object));
        this.logger.info('waypoint object applied', { kind: object.kind, namespace: object.namespace, name: object.name, gateway: object.gateway });
      } else failed += 1;
    }
    for (const object of plan.remove) {
      if (this.stopped) return failed;
      if (await this.attempt('delete', object, () => this.api.deleteObject(object.apiVersion, object.kind, object.namespace, object.name))) {
        this.lastApplied.delete(object.key);
        this.logger.info('waypoint object deleted', { kind: object.kind, namespace: object.namespace, name: object.name });
      } else failed += 1;
    }
    const now = (this.options.now ?? (() => new Date()))().toISOString();
    for (const write of gatewayStatusWrites(objects, { domainSuffix: this.options.domainSuffix, now })) {
      if (this.stopped) return failed;
      const target = { kind: 'Gateway', namespace: write.namespace, name: write.name };
      const patch = { status: write.status };
      if (!(await this.attempt('write status of', target, () => this.api.mergePatchStatus(this.gatewayResource, write.namespace, write.name, patch)))) {
        failed += 1;
      }
    }
    return failed;
  }

  /** Runs one write; a failure is logged with the object it concerned and reported as `false`. */
  private async attempt(
    verb: string,
    target: { readonly kind: string; readonly namespace: string; readonly name: string },
    write: () => Promise<void>,
  ): Promise<boolean> {
    try {
      await write();
      return true;
    } catch (cause) {
      const { kind, namespace, name } = target;
      this.logger.error(`failed to ${verb} waypoint ${kind} ${namespace}/${name}`, { kind, namespace, name, err: cause });
      return false;
    }
  }
}
