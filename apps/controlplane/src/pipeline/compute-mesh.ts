// The controlplane's whole computation from objects to served resources, as one pure function: validate every
// object, keep serving the last good version of any that turned invalid, translate what is left into ztunnel's
// resources, and gather every problem with the key of the object it is about. app.ts only feeds it snapshots.

import {
  objectKey,
  objectRef,
  translateMesh,
  translateSettings,
  translateWaypointL7,
  validateObjects,
  type KubeObject,
  type TranslateMeshOptions,
  type WaypointInfo,
} from '@weft/mesh-config';
import type { MeshResources } from '@weft/xds';

import { mergeWithLastGood } from './last-good-objects';

export type ProblemLevel = 'error' | 'warning' | 'info';

/** One validation or translation message, tied to the object it names. */
export interface ConfigProblem {
  /** `Kind/namespace/name`; the status is reported under this key. */
  readonly key: string;
  /** `Kind namespace/name`, as the message names it. */
  readonly object: string;
  readonly level: ProblemLevel;
  readonly code: string;
  /** Path in the object, `` for the object as a whole. */
  readonly field: string;
  readonly message: string;
  readonly stage: 'validation' | 'translation';
}

/** How an invalid object is treated: its last good version serves, or it is left out entirely. */
export type Disposition = 'last-good' | 'excluded';

export interface MeshComputation {
  readonly resources: MeshResources;
  readonly waypoints: readonly WaypointInfo[];
  readonly problems: readonly ConfigProblem[];
  /** Invalid objects by key, and how each is served. */
  readonly rejected: ReadonlyMap<string, Disposition>;
  /** Memory for the next computation. */
  readonly lastGood: ReadonlyMap<string, KubeObject>;
}

export type MeshSettings = Required<TranslateMeshOptions>;

export function computeMesh(
  objects: readonly KubeObject[],
  previousLastGood: ReadonlyMap<string, KubeObject>,
  settings: MeshSettings,
): MeshComputation {
  const validation = validateObjects(objects, {
    rootNamespace: settings.rootNamespace,
    clusterDomain: settings.domainSuffix,
  });
  const valid = new Set(validation.valid);
  const invalidKeys = new Set(objects.filter((object) => !valid.has(object)).map(objectKey));
  const merged = mergeWithLastGood(objects, invalidKeys, previousLastGood);
  const translation = translateMesh({ objects: merged.effective, ...settings });
  const l7 = translateWaypointL7({
    objects: merged.effective,
    settings: translateSettings(settings),
    waypoints: translation.waypoints,
    services: translation.services,
  });

  // Messages name objects as `Kind ns/name`; the status needs the `Kind/ns/name` key.
  const keyByRef = new Map(objects.map((object) => [objectRef(object), objectKey(object)]));
  const keyOf = (ref: string): string => keyByRef.get(ref) ?? '';
  const problems: ConfigProblem[] = [
    ...validation.messages.map((m) => ({
      key: keyOf(m.object),
      object: m.object,
      level: m.level,
      code: m.code,
      field: m.field,
      message: m.message,
      stage: 'validation' as const,
    })),
    ...[...translation.messages, ...l7.messages].map((m) => ({
      key: keyOf(m.object),
      object: m.object,
      level: m.level,
      code: m.code,
      field: m.field ?? '',
      message: m.message,
      stage: 'translation' as const,
    })),
  ];

  const rejected = new Map<string, Disposition>([
    ...merged.heldBack.map((key) => [key, 'last-good'] as const),
    ...merged.excluded.map((key) => [key, 'excluded'] as const),
  ]);
  return {
    resources: {
      workloads: translation.workloads,
      services: translation.services,
      authorizations: translation.authorizations,
      waypointServices: l7.waypointServices,
      l7Authorizations: l7.l7Authorizations,
      requestAuthentications: l7.requestAuthentications,
    },
    waypoints: translation.waypoints,
    problems,
    rejected,
    lastGood: merged.lastGood,
  };
}
