// Names and addresses of a local cluster (DESIGN.md §5), as pure functions: every namespace and interface name
// carries the run's prefix, and every address is private and lives only inside namespaces the run created.

import { randomBytes } from 'node:crypto';

/** The state directory when neither `--state-dir` nor `$WEFT_LOCAL_STATE` says otherwise. */
export const DEFAULT_STATE_DIR = '/var/lib/weft/local';

/** `$WEFT_LOCAL_STATE`, else {@link DEFAULT_STATE_DIR}. */
export function defaultStateDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const fromEnv = env['WEFT_LOCAL_STATE'];
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : DEFAULT_STATE_DIR;
}

export const MIN_NODES = 1;
export const MAX_NODES = 16;

/** Services' ClusterIPs (allocated from 10.96.0.10 by `local apply`). */
export const SERVICE_CIDR = '10.96.0.0/12';

/** The node network (on the underlay bridge); node i has `10.88.0.(10+i)`. */
export const UNDERLAY_CIDR = '10.88.0.0/24';

/** A run prefix: `wt` + 6 hex digits, short enough that `<prefix>n16` still fits a 15-character interface name. */
export function newRunPrefix(random: Buffer = randomBytes(3)): string {
  return `wt${random.subarray(0, 3).toString('hex').padStart(6, '0')}`;
}

export function isRunPrefix(value: string): boolean {
  return /^wt[0-9a-f]{6}$/.test(value);
}

/** `node-a`, `node-b`, … for 1-based indexes up to {@link MAX_NODES}. */
export function nodeName(index: number): string {
  if (!Number.isInteger(index) || index < MIN_NODES || index > MAX_NODES) throw new Error(`node index ${index} is outside ${MIN_NODES}..${MAX_NODES}`);
  return `node-${String.fromCharCode(96 + index)}`;
}

export interface NodeSpec {
  readonly name: string;
  /** 1-based. */
  readonly index: number;
  /** The node's address on the underlay bridge. */
  readonly underlayIp: string;
  /** The node's pod CIDR (host-local allocates from it; host-gw routes lead to it). */
  readonly podCidr: string;
  /** The pod bridge's address: the pods' default gateway. */
  readonly gateway: string;
}

export function nodeSpecs(count: number): NodeSpec[] {
  if (!Number.isInteger(count) || count < MIN_NODES || count > MAX_NODES) throw new Error(`--nodes takes ${MIN_NODES}..${MAX_NODES}, not ${count}`);
  return Array.from({ length: count }, (_, i) => ({
    name: nodeName(i + 1),
    index: i + 1,
    underlayIp: `10.88.0.${11 + i}`,
    podCidr: `10.244.${i + 1}.0/24`,
    gateway: `10.244.${i + 1}.1`,
  }));
}

/** A namespace of the run: `<prefix>-<suffix>`. */
export function netnsName(prefix: string, suffix: string): string {
  if (!/^[a-z0-9]([a-z0-9.-]{0,40}[a-z0-9])?$/.test(suffix)) throw new Error(`"${suffix}" is not a valid namespace suffix (lowercase letters, digits, '.', '-')`);
  return `${prefix}-${suffix}`;
}

/** The underlay bridge (in the underlay netns): what tcpdump watches. */
export const underlayBridge = (prefix: string): string => `${prefix}u`;
/** The underlay end of node i's veth; its peer is `eth0` in the node netns. */
export const nodePort = (prefix: string, index: number): string => `${prefix}n${index}`;
/** The pod bridge the CNI bridge plugin creates inside each node netns. */
export const podBridge = (prefix: string): string => `${prefix}b`;

/** Whether a name (netns or interface) belongs to the run with this prefix. */
export function ownedBy(prefix: string, name: string): boolean {
  return name.startsWith(prefix) && name.length > prefix.length;
}

/** The bootstrap token node `node` presents to the controlplane. */
export function bootstrapToken(prefix: string, node: string, random: Buffer = randomBytes(16)): string {
  return `ztunnel-${node}-${prefix}-${random.toString('hex')}`;
}
