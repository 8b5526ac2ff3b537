// Applies what services.ts computes: the ClusterIP NAT rules in every node netns (kube-proxy's job) and every pod's
// hosts and resolv.conf (cluster DNS's). Pod files live in /etc/netns/<pod netns>/, which `ip netns exec` binds over
// /etc for every program it starts there; they are rewritten in place so programs already running see new Services.

import { closeSync, existsSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import * as path from 'node:path';

import { readManifests, type KubeObject } from './manifests';
import type { LocalCluster } from './cluster';
import { hostsFile, NAT_JUMPS, natRules, podInfo, resolvConf, serviceInfo, type PodInfo, type ServiceInfo } from './services';
import { execIn, netnsEtcDir, netnsExists, removeNetnsEtc, run } from './system';

function manifestObjects(cluster: LocalCluster, prefix: string): KubeObject[] {
  if (!existsSync(cluster.manifests)) return [];
  const objects: KubeObject[] = [];
  for (const file of readdirSync(cluster.manifests)) {
    if (!file.startsWith(prefix) || !file.endsWith('.yaml')) continue;
    try {
      objects.push(...readManifests(path.join(cluster.manifests, file)));
    } catch {
      // Being rewritten or not ours to judge: the next sync reads it again.
    }
  }
  return objects;
}

export function clusterServices(cluster: LocalCluster): ServiceInfo[] {
  return manifestObjects(cluster, 'service.').flatMap((o) => serviceInfo(o) ?? []);
}

export function clusterPods(cluster: LocalCluster): PodInfo[] {
  return manifestObjects(cluster, 'pod.').flatMap((o) => podInfo(o) ?? []);
}

/** Writes a pod's hosts and resolv.conf (before its programs start, and again whenever Services change). */
export function writePodEtc(netns: string, pod: { readonly namespace: string; readonly name: string; readonly ip: string | undefined }, services: readonly ServiceInfo[]): void {
  const dir = netnsEtcDir(netns);
  mkdirSync(dir, { recursive: true });
  rewriteInPlace(path.join(dir, 'hosts'), hostsFile(pod, services));
  rewriteInPlace(path.join(dir, 'resolv.conf'), resolvConf(pod.namespace));
}

/**
 * Rewrites a file in place — not by rename: a bind mount keeps pointing at the inode it was made from — and only
 * when its content changes. New content is written over the old before the file is cut to length, so a reader
 * racing the rewrite never sees an empty file.
 */
function rewriteInPlace(file: string, text: string): void {
  const current = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
  if (current === text) return;
  const fd = openSync(file, current === undefined ? 'w' : 'r+');
  try {
    const bytes = Buffer.from(text);
    writeSync(fd, bytes, 0, bytes.length, 0);
    ftruncateSync(fd, bytes.length);
  } finally {
    closeSync(fd);
  }
}

export const removePodEtc = removeNetnsEtc;

/** Replaces the node's service NAT rules (our chains only) and adds the jumps to them once. */
export function applyNodeRules(netns: string, rules: string): void {
  execIn(netns, 'sh', '-c', `printf '%s' "$0" | iptables-nft-restore --noflush`, rules);
  for (const [from, to] of NAT_JUMPS) {
    try {
      execIn(netns, 'iptables-nft', '-t', 'nat', '-C', from, '-j', to);
    } catch {
      execIn(netns, 'iptables-nft', '-t', 'nat', '-A', from, '-j', to);
    }
  }
}

/** Brings every node's NAT rules and every pod's /etc files in line with the Services and pods of the cluster. */
export function syncServiceNetworking(cluster: LocalCluster, pods: readonly { readonly namespace: string; readonly name: string; readonly netns: string }[]): void {
  const services = clusterServices(cluster);
  const podInfos = clusterPods(cluster);
  for (const node of cluster.nodes) {
    if (netnsExists(node.netns)) applyNodeRules(node.netns, natRules(services, podInfos, node.podCidr));
  }
  for (const pod of pods) {
    if (!netnsExists(pod.netns)) continue;
    const info = podInfos.find((p) => p.namespace === pod.namespace && p.name === pod.name);
    writePodEtc(pod.netns, { namespace: pod.namespace, name: pod.name, ip: info?.ip }, services);
  }
}

/** `iptables-save -t nat` of a node (for tests and troubleshooting). */
export function nodeNatRules(cluster: LocalCluster, node: string): string {
  return run('ip', ['netns', 'exec', cluster.node(node).netns, 'iptables-nft-save', '-t', 'nat']);
}
