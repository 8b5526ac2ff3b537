// Public entry of the waypoint L7 translation: Istio and Gateway API objects → the weft.l7.v1 resources waypoints
// fetch over Delta ADS (WaypointService, L7Authorization, RequestAuthentication), from the Services and waypoints
// translateMesh already computed. Pure and deterministic, like translateMesh; nothing throws for a bad object.

import type { L7Authorization, RequestAuthentication, Service, WaypointService } from '@weft/mesh-model';

import type { KubeObject } from './kube-object';
import { sortMessages } from './translate-mesh';
import { L7Messages, objectsOf, type L7Context } from './translate-l7-common';
import { translateL7Authorizations, translateRequestAuthentications } from './translate-l7-policies';
import { translateWaypointServices } from './translate-l7';
import { asRecord, type TranslateSettings, type TranslationMessage, type WaypointInfo } from './translate-types';

export interface WaypointL7Input {
  /** The same (validated) objects translateMesh read. */
  readonly objects: readonly KubeObject[];
  readonly settings: TranslateSettings;
  /** `TranslationResult.waypoints`. */
  readonly waypoints: readonly WaypointInfo[];
  /** `TranslationResult.services`: those with `waypoint` set get a WaypointService. */
  readonly services: readonly Service[];
}

export interface WaypointL7Result {
  /** Sorted by `<namespace>/<hostname>`. */
  readonly waypointServices: WaypointService[];
  /** Sorted by namespace, then name. */
  readonly l7Authorizations: L7Authorization[];
  readonly requestAuthentications: RequestAuthentication[];
  /** Everything skipped or not supported, naming the object and field; sorted like translateMesh's. */
  readonly messages: TranslationMessage[];
}

/** Later objects with the same kind/namespace/name replace earlier ones, as in translateMesh's inventory. */
function indexObjects(objects: readonly KubeObject[]): Map<string, KubeObject[]> {
  const unique = new Map<string, KubeObject>();
  for (const o of objects) unique.set(`${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`, o);
  const byKind = new Map<string, KubeObject[]>();
  for (const o of unique.values()) byKind.set(o.kind, [...(byKind.get(o.kind) ?? []), o]);
  return byKind;
}

export function translateWaypointL7(input: WaypointL7Input): WaypointL7Result {
  const context: L7Context = {
    settings: input.settings,
    servicesByHost: new Map(input.services.map((s) => [s.hostname, s])),
    objectsByKind: indexObjects(input.objects),
  };
  const messages = new L7Messages();
  for (const dr of objectsOf(context, 'DestinationRule')) {
    if (asRecord(dr.spec)?.['workloadSelector'] !== undefined) {
      messages.warn(dr, 'WARN_L7_DR_WORKLOAD_SELECTOR', 'a DestinationRule with workloadSelector applies to sidecars only; waypoints ignore it', 'spec.workloadSelector');
    }
  }
  const waypointServices = translateWaypointServices(input.services, input.waypoints, context, messages);
  const l7Authorizations = translateL7Authorizations(context, messages);
  const requestAuthentications = translateRequestAuthentications(context, messages);
  return { waypointServices, l7Authorizations, requestAuthentications, messages: sortMessages(messages.list) };
}

export { ISTIO_DEFAULT_RETRY_POLICY } from './translate-l7-retries';
export { waypointProtocolOf } from './translate-l7-ports';
