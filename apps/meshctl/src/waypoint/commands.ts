// `meshctl waypoint …` against the local cluster: apply/delete write or remove the Gateway (the cluster deploys the
// waypoint for it, as istiod's gateway controller does), list shows each waypoint and whether its pods are Ready.

import { readdirSync } from 'node:fs';
import * as path from 'node:path';

import { applyObjects, clusterPods, deleteObjects, labelObject, LocalCluster, NoClusterError, readManifests, type KubeObject } from '@weft/local-cluster';
import { GATEWAY_NAME_LABEL, isWaypointGateway, waypointGateway } from '@weft/mesh-config';
import { stringify } from 'yaml';

import type { Output } from '../local/commands';
import type { WaypointCommand } from './parse';

function load(stateDir: string, io: Output): LocalCluster | undefined {
  try {
    return LocalCluster.load(stateDir);
  } catch (cause) {
    if (cause instanceof NoClusterError) {
      io.err(`meshctl: ${cause.message}\n`);
      return undefined;
    }
    throw cause;
  }
}

/** The waypoint Gateways of the cluster (in `namespace`, or all), sorted. */
function waypointGateways(cluster: LocalCluster, namespace: string | undefined): KubeObject[] {
  return readdirSync(cluster.manifests)
    .filter((f) => f.startsWith('gateway.') && f.endsWith('.yaml'))
    .flatMap((f) => readManifests(path.join(cluster.manifests, f)))
    .filter((g) => isWaypointGateway(g) && (namespace === undefined || (g.metadata?.namespace ?? 'default') === namespace))
    .sort((a, b) => `${a.metadata?.namespace ?? ''}/${a.metadata?.name ?? ''}`.localeCompare(`${b.metadata?.namespace ?? ''}/${b.metadata?.name ?? ''}`));
}

export async function runWaypoint(command: WaypointCommand, io: Output): Promise<number> {
  if (command.kind === 'waypoint-generate') {
    io.out(stringify(waypointGateway({ namespace: command.namespace, name: command.name, ...(command.for === undefined ? {} : { for: command.for }) })));
    return 0;
  }
  const cluster = load(command.stateDir, io);
  if (cluster === undefined) return 1;
  switch (command.kind) {
    case 'waypoint-apply': {
      const gateway = waypointGateway({ namespace: command.namespace, name: command.name, ...(command.for === undefined ? {} : { for: command.for }) });
      const report = await applyObjects(cluster, [gateway as unknown as KubeObject]);
      for (const warning of report.warnings) io.err(`Warning: ${warning}\n`);
      io.out(`✅ waypoint ${command.namespace}/${command.name} applied\n`);
      if (command.enrollNamespace) {
        labelObject(cluster, { kind: 'namespace', name: command.namespace }, [{ key: 'istio.io/use-waypoint', value: command.name }], true);
        io.out(`✅ namespace ${command.namespace} labeled with "istio.io/use-waypoint: ${command.name}"\n`);
      }
      return 0;
    }
    case 'waypoint-list': {
      const gateways = waypointGateways(cluster, command.namespace);
      if (gateways.length === 0) {
        io.out(command.namespace === undefined ? 'No waypoints found.\n' : `No waypoints found in namespace ${command.namespace}.\n`);
        return 0;
      }
      const pods = clusterPods(cluster);
      const rows = gateways.map((g) => {
        const ns = g.metadata?.namespace ?? 'default';
        const name = g.metadata?.name ?? '';
        const mine = pods.filter((p) => p.namespace === ns && p.labels[GATEWAY_NAME_LABEL] === name);
        const programmed = mine.length > 0 && mine.every((p) => p.ready);
        return [ns, name, g.metadata?.labels?.['istio.io/waypoint-for'] ?? 'service', programmed ? 'True' : 'False'];
      });
      const header = ['NAMESPACE', 'NAME', 'TRAFFIC TYPE', 'PROGRAMMED'];
      const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
      io.out([header, ...rows].map((r) => r.map((c, i) => (c ?? '').padEnd(widths[i] ?? 0)).join(' ').trimEnd()).join('\n') + '\n');
      return 0;
    }
    case 'waypoint-delete': {
      const names = command.all ? waypointGateways(cluster, command.namespace).map((g) => g.metadata?.name ?? '') : command.names;
      for (const name of names) {
        const report = await deleteObjects(cluster, [{ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name, namespace: command.namespace }, spec: { gatewayClassName: 'istio-waypoint' } }]);
        const missing = report.lines.some((l) => l === `gateway/${name} not found`);
        io.out(missing ? `waypoint ${command.namespace}/${name} not found\n` : `✅ waypoint ${command.namespace}/${name} deleted\n`);
      }
      return 0;
    }
  }
}
