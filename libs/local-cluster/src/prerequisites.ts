// What a local cluster needs on the machine, checked before anything is made: failures name what to install or run.

import { existsSync } from 'node:fs';
import * as path from 'node:path';

import { hasTool } from './system';

/** Where the reference CNI plugins live (Debian package `containernetworking-plugins`). */
export const CNI_PLUGIN_DIR = '/usr/lib/cni';

/** The Debian/Ubuntu package that provides each tool. */
const PACKAGE_OF: Readonly<Record<string, string>> = {
  ip: 'iproute2',
  nsenter: 'util-linux',
  'iptables-nft-save': 'iptables',
  'iptables-nft-restore': 'iptables',
  'ip6tables-nft-save': 'iptables',
  ipset: 'ipset',
};

/** The built programs a cluster runs. */
export interface Binaries {
  readonly controlplane: string;
  readonly cniNode: string;
  readonly ztunnel: string;
  /** Run by the pods of a waypoint Deployment (image `weft/waypoint`). */
  readonly waypoint: string;
}

/** The workspace root: this file is `libs/local-cluster/{src,dist}/…`. */
export const WORKSPACE_ROOT = path.resolve(__dirname, '../../..');

export function defaultBinaries(root = WORKSPACE_ROOT): Binaries {
  return {
    controlplane: path.join(root, 'apps/controlplane/dist/main.js'),
    cniNode: path.join(root, 'apps/cni-node/dist/main.js'),
    ztunnel: path.join(root, 'apps/ztunnel/dist/main.js'),
    waypoint: path.join(root, 'apps/waypoint/dist/main.js'),
  };
}

export interface PrerequisiteProbe {
  readonly platform: string;
  readonly uid: number | undefined;
  hasTool(tool: string): boolean;
  exists(file: string): boolean;
}

const realProbe: PrerequisiteProbe = { platform: process.platform, uid: process.getuid?.(), hasTool, exists: existsSync };

/** Every reason the cluster cannot run here, each saying what to do (empty: all good). */
export function missingPrerequisites(binaries: Binaries = defaultBinaries(), probe: PrerequisiteProbe = realProbe): string[] {
  if (probe.platform !== 'linux') return ['the local cluster needs Linux (network namespaces)'];
  const problems: string[] = [];
  if (probe.uid !== 0) problems.push('the local cluster needs root (network namespaces, iptables): run it with sudo');
  const tools = Object.keys(PACKAGE_OF).filter((tool) => !probe.hasTool(tool));
  if (tools.length > 0) {
    const packages = [...new Set(tools.map((tool) => PACKAGE_OF[tool] ?? tool))];
    problems.push(`missing ${tools.join(', ')}: run bash tools/setup.sh (apt-get install ${packages.join(' ')})`);
  }
  const plugins = ['bridge', 'host-local', 'loopback'].filter((plugin) => !probe.exists(path.join(CNI_PLUGIN_DIR, plugin)));
  if (plugins.length > 0) problems.push(`missing CNI plugins ${plugins.map((p) => path.join(CNI_PLUGIN_DIR, p)).join(', ')}: run bash tools/setup.sh (apt-get install containernetworking-plugins)`);
  const unbuilt = (Object.entries(binaries) as [keyof Binaries, string][]).filter(([, file]) => !probe.exists(file)).map(([, file]) => file);
  if (unbuilt.length > 0) problems.push(`missing ${unbuilt.join(', ')}: run npx nx run-many -t build`);
  return problems;
}

export class PrerequisiteError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`the local cluster cannot run here:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

export function requirePrerequisites(binaries: Binaries = defaultBinaries()): void {
  const problems = missingPrerequisites(binaries);
  if (problems.length > 0) throw new PrerequisiteError(problems);
}
