// The whole translation: every Kubernetes/Istio object the mesh reads → the Workloads, Services and
// Authorizations istiod would send ztunnel (reference §4.4), plus the waypoints and every problem found. Pure and
// deterministic: the same objects in any order give the same, sorted result; nothing throws for a bad object.

import type { Service, Workload } from '@weft/mesh-model';

import type { KubeObject } from './kube-object';
import { translateAuthorizations } from './translate-authorizations';
import { buildInventory } from './translate-inventory';
import {
  selectServiceEntryServices,
  translateServiceEntry,
  translateServiceEntryWorkloads,
  type ServiceEntryService,
} from './translate-service-entries';
import { translateService } from './translate-services';
import {
  compareStrings,
  translateSettings,
  type TranslateMeshOptions,
  type TranslationMessage,
  type TranslationResult,
  type WaypointInfo,
} from './translate-types';
import { collectWaypoints } from './translate-waypoints';
import { translatePod } from './translate-workloads';

export interface TranslateMeshInput extends TranslateMeshOptions {
  readonly objects: readonly KubeObject[];
}

const LEVEL_ORDER = { error: 0, warning: 1, info: 2 } as const;

/** Sorted by object, field, code, then text; exact duplicates (one namespace label seen by many pods) dropped. */
export function sortMessages(messages: readonly TranslationMessage[]): TranslationMessage[] {
  const unique = new Map<string, TranslationMessage>();
  for (const m of messages) unique.set(JSON.stringify([m.object, m.field ?? '', m.code, m.level, m.message]), m);
  return [...unique.values()].sort(
    (a, b) =>
      compareStrings(a.object, b.object) ||
      compareStrings(a.field ?? '', b.field ?? '') ||
      LEVEL_ORDER[a.level] - LEVEL_ORDER[b.level] ||
      compareStrings(a.code, b.code) ||
      compareStrings(a.message, b.message),
  );
}

export function translateMesh(input: TranslateMeshInput): TranslationResult {
  const settings = translateSettings(input);
  const inventory = buildInventory(input.objects);
  const waypointIndex = collectWaypoints(inventory, settings);
  const messages: TranslationMessage[] = [];

  const authz = translateAuthorizations(inventory, settings);
  messages.push(...authz.messages);

  const services: Service[] = [];
  for (const object of inventory.services) {
    const translated = translateService(object, inventory, waypointIndex, settings);
    if (translated.service !== undefined) services.push(translated.service);
    messages.push(...translated.messages);
  }
  const candidates: ServiceEntryService[] = [];
  for (const object of inventory.serviceEntries) {
    const translated = translateServiceEntry(object, inventory, waypointIndex, settings);
    candidates.push(...translated.services);
    messages.push(...translated.messages);
  }
  const selection = selectServiceEntryServices(services, candidates);
  services.push(...selection.selected.map((s) => s.service));
  messages.push(...selection.messages);

  const workloads: Workload[] = [];
  const context = {
    inventory,
    waypoints: waypointIndex,
    selectorPolicies: authz.selectorPolicies,
    peerAuthentications: authz.peerAuthentications,
    settings,
    serviceEntryServices: selection.selected,
  };
  for (const pod of inventory.pods) {
    const translated = translatePod(pod, context);
    if (translated.workload !== undefined) workloads.push(translated.workload);
    messages.push(...translated.messages);
  }
  for (const object of inventory.serviceEntries) {
    const own = selection.selected.filter((s) => s.source === object);
    const translated = translateServiceEntryWorkloads(object, own, context);
    workloads.push(...translated.workloads);
    messages.push(...translated.messages);
  }

  const waypoints: WaypointInfo[] = [...waypointIndex.values()].map((entry) => entry.info);
  return {
    workloads: workloads.sort((a, b) => compareStrings(a.uid, b.uid)),
    services: services.sort((a, b) => compareStrings(a.namespace, b.namespace) || compareStrings(a.hostname, b.hostname)),
    authorizations: authz.authorizations,
    waypoints: waypoints.sort((a, b) => compareStrings(a.namespace, b.namespace) || compareStrings(a.name, b.name)),
    messages: sortMessages(messages),
  };
}
