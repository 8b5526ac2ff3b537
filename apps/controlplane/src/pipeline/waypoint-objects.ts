// What the waypoint controller wants in the API server (istiod's gateway deployment controller, reference §1.2,
// §7.1): for every `istio-waypoint` Gateway the objects of waypointWorkloadObjects, owned by the Gateway so the
// garbage collector removes them with it, and the writes that take the cluster from what was applied last to that.
// Pure: the controller (waypoint-controller.ts) does the writes.

import { isWaypointGateway, objectKey, waypointWorkloadObjects, type KubeObject, type WaypointDeploymentOptions } from '@weft/mesh-config';

export const GATEWAY_API_VERSION = 'gateway.networking.k8s.io/v1';

/** An object the controller wrote: enough to delete it and to tell whether the desired one changed. */
export interface AppliedObject {
  /** `objectKey`: `Kind/namespace/name`. */
  readonly key: string;
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  /** {@link fingerprint} of the object as applied. */
  readonly fingerprint: string;
}

export interface DesiredObject extends AppliedObject {
  readonly object: KubeObject;
  /** `namespace/name` of the Gateway it is deployed for. */
  readonly gateway: string;
}

export interface WaypointObjectsInput {
  /** The current config snapshot (only Gateways are read). */
  readonly objects: readonly KubeObject[];
  /** What was applied and not deleted since, by key. */
  readonly applied: ReadonlyMap<string, AppliedObject>;
  /** Image, controlplane address, trust domain and cluster of the waypoint Deployments. */
  readonly deployment: WaypointDeploymentOptions;
  /** Apply every desired object even if unchanged (a periodic resync repairs edits made by others). */
  readonly reapplyAll?: boolean;
}

export interface WaypointObjectsPlan {
  readonly desired: ReadonlyMap<string, DesiredObject>;
  /** New or changed objects, per Gateway in ServiceAccount, Service, Deployment order. */
  readonly apply: readonly DesiredObject[];
  /** Applied before, no longer desired (the Gateway was deleted or changed class). */
  readonly remove: readonly AppliedObject[];
  /** `namespace/name` of waypoint Gateways that cannot own objects (no uid: not read from an API server). */
  readonly unowned: readonly string[];
}

/** JSON with object keys sorted at every level, so equal values give equal strings whatever their key order. */
export function fingerprint(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== 'object' || value === null) return value;
  const record = value as Record<string, unknown>;
  return Object.fromEntries(
    Object.keys(record)
      .sort()
      .map((key) => [key, sortKeys(record[key])]),
  );
}

/** A Gateway the controller deploys for: class `istio-waypoint` and not being deleted. */
export function isActiveWaypointGateway(object: KubeObject): boolean {
  return (
    isWaypointGateway(object) &&
    object.apiVersion.startsWith('gateway.networking.k8s.io/') &&
    object.metadata.deletionTimestamp === undefined
  );
}

/**
 * The Gateway's objects with a controller ownerReference to it. Kubernetes garbage-collects them when the Gateway
 * goes, even if the controlplane is down at the time; `uid` is required by the API server.
 */
export function ownedWaypointObjects(gateway: KubeObject, uid: string, deployment: WaypointDeploymentOptions): KubeObject[] {
  const owner = { apiVersion: GATEWAY_API_VERSION, kind: 'Gateway', name: gateway.metadata.name, uid, controller: true };
  return waypointWorkloadObjects(gateway, deployment).map((object) => ({
    ...object,
    metadata: { ...object.metadata, ownerReferences: [owner] },
  }));
}

/** The objects every waypoint Gateway needs, and which of them to apply or delete given what was applied. */
export function planWaypointObjects(input: WaypointObjectsInput): WaypointObjectsPlan {
  const desired = new Map<string, DesiredObject>();
  const unowned: string[] = [];
  for (const gateway of input.objects) {
    if (!isActiveWaypointGateway(gateway)) continue;
    const gatewayRef = `${gateway.metadata.namespace ?? ''}/${gateway.metadata.name}`;
    const uid = gateway.metadata.uid;
    if (uid === undefined || uid === '') {
      unowned.push(gatewayRef);
      continue;
    }
    for (const object of ownedWaypointObjects(gateway, uid, input.deployment)) {
      const key = objectKey(object);
      desired.set(key, {
        key,
        apiVersion: object.apiVersion,
        kind: object.kind,
        namespace: object.metadata.namespace ?? '',
        name: object.metadata.name,
        fingerprint: fingerprint(object),
        object,
        gateway: gatewayRef,
      });
    }
  }
  const apply = [...desired.values()].filter(
    (object) => input.reapplyAll === true || input.applied.get(object.key)?.fingerprint !== object.fingerprint,
  );
  // Deployments before the ServiceAccount they run as: reverse of the apply order.
  const remove = [...input.applied.values()].filter((object) => !desired.has(object.key)).reverse();
  return { desired, apply, remove, unowned };
}

/** What to remember of an object once it was applied. */
export function appliedRecord(object: DesiredObject): AppliedObject {
  const { key, apiVersion, kind, namespace, name } = object;
  return { key, apiVersion, kind, namespace, name, fingerprint: object.fingerprint };
}
