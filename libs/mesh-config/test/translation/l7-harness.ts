// Test harness for the waypoint L7 translation: a `default` namespace enrolled in a ready waypoint, plus whatever
// objects a test adds, run through translateMesh and then translateWaypointL7 as the control plane would.

import type { WaypointService } from '@weft/mesh-model';

import type { KubeObject, KubeObjectMeta } from '../../src/kube-object';
import { translateWaypointL7, type WaypointL7Result } from '../../src/l7-translation';
import { translateMesh } from '../../src/translate-mesh';
import { translateSettings } from '../../src/translate-types';
import { namespace, service, waypointGateway, waypointPod } from './kube-builders';

export function enrolledMesh(): KubeObject[] {
  return [namespace('default', { 'istio.io/use-waypoint': 'waypoint' }), waypointGateway('waypoint'), waypointPod('waypoint')];
}

export function httpService(name: string, ns = 'default', ports: unknown[] = [{ name: 'http', port: 80, targetPort: 8080 }]): KubeObject {
  return service(name, { clusterIP: '10.96.0.1', ports }, { namespace: ns });
}

export function istioObject(kind: string, name: string, spec: Record<string, unknown>, meta: Partial<KubeObjectMeta> = {}): KubeObject {
  const apiVersion =
    kind === 'HTTPRoute' || kind === 'Gateway'
      ? 'gateway.networking.k8s.io/v1'
      : kind === 'VirtualService' || kind === 'DestinationRule' || kind === 'ServiceEntry'
        ? 'networking.istio.io/v1'
        : 'security.istio.io/v1';
  return { apiVersion, kind, metadata: { namespace: 'default', ...meta, name }, spec };
}

export function translateL7(objects: readonly KubeObject[]): WaypointL7Result {
  const all = [...enrolledMesh(), ...objects];
  const mesh = translateMesh({ objects: all });
  return translateWaypointL7({ objects: all, settings: translateSettings(), waypoints: mesh.waypoints, services: mesh.services });
}

/** The WaypointService of `<name>.default.svc.cluster.local` (throws when there is none, to fail the test clearly). */
export function waypointService(result: WaypointL7Result, name: string, ns = 'default'): WaypointService {
  const found = result.waypointServices.find((s) => s.hostname === `${name}.${ns}.svc.cluster.local`);
  if (found === undefined) throw new Error(`no WaypointService for ${name}.${ns}; have ${result.waypointServices.map((s) => s.hostname).join(', ')}`);
  return found;
}

export function codes(result: WaypointL7Result): string[] {
  return result.messages.map((m) => `${m.object} ${m.field ?? ''} ${m.code}`);
}
