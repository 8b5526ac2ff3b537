// The state file of a local cluster: what the run made (namespaces, interfaces, processes) so `down` — from any
// process, after a crash — stops exactly those PIDs and deletes exactly those namespaces. Parsing refuses a file
// that names anything outside the run's prefix, so a damaged or edited file cannot make `down` touch foreign names.

import { z } from 'zod';

import { isRunPrefix, ownedBy, underlayBridge } from './names';

export const STATE_FILE = 'state.json';
export const STATE_VERSION = 1;

export type ProcessRole = 'controlplane' | 'cni-node' | 'ztunnel' | 'app';

const pidSchema = z.number().int().positive();

const processSchema = z.object({
  name: z.string().min(1),
  role: z.enum(['controlplane', 'cni-node', 'ztunnel', 'app']),
  node: z.string().optional(),
  pid: pidSchema,
  /** Field 22 of /proc/<pid>/stat when started: a recycled PID never matches it. */
  startTime: z.string().regex(/^\d+$/),
  netns: z.string().min(1),
  argv: z.array(z.string()),
  log: z.string().min(1),
});

const nodeSchema = z.object({
  name: z.string().min(1),
  index: z.number().int().positive(),
  netns: z.string().min(1),
  underlayIp: z.string().min(1),
  podCidr: z.string().min(1),
  gateway: z.string().min(1),
  dir: z.string().min(1),
});

const stateSchema = z.object({
  version: z.literal(STATE_VERSION),
  prefix: z.string().refine(isRunPrefix, 'must be wt + 6 hex digits'),
  stateDir: z.string().min(1),
  createdAt: z.string(),
  /** `creating` until every process is ready; `up` after. */
  phase: z.enum(['creating', 'up']),
  underlay: z.string().min(1),
  bridge: z.string().min(1),
  controlplane: z.object({ node: z.string().min(1), address: z.string().min(1) }),
  nodes: z.array(nodeSchema),
  /** Every namespace the run created (recorded before it is created), in creation order. */
  netns: z.array(z.string().min(1)),
  /** Every interface the run created, with the namespace it was created in. */
  interfaces: z.array(z.object({ netns: z.string().min(1), name: z.string().min(1).max(15) })),
  /** Every long-running process the run started, in start order. */
  processes: z.array(processSchema),
});

export type RecordedProcess = z.infer<typeof processSchema>;
export type NodeState = z.infer<typeof nodeSchema>;
export type ClusterState = z.infer<typeof stateSchema>;

export class StateFileError extends Error {}

/** Parses and checks a state file; throws a {@link StateFileError} naming the field that is wrong. */
export function parseState(text: string, file = STATE_FILE): ClusterState {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new StateFileError(`${file} is not JSON: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
  const result = stateSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new StateFileError(`${file}: ${issue === undefined ? 'invalid' : `${issue.path.join('.') || '(root)'}: ${issue.message}`}`);
  }
  const state = result.data;
  const foreign = [
    ...state.netns,
    state.underlay,
    state.bridge,
    ...state.nodes.map((n) => n.netns),
    ...state.interfaces.flatMap((i) => [i.netns, i.name]),
    ...state.processes.map((p) => p.netns),
  ].filter((name) => !ownedBy(state.prefix, name));
  if (foreign.length > 0) throw new StateFileError(`${file}: names outside the run prefix ${state.prefix}: ${[...new Set(foreign)].join(', ')}`);
  return state;
}

export function serializeState(state: ClusterState): string {
  return `${JSON.stringify(state, null, 2)}\n`;
}

/** A fresh state with nothing made yet. */
export function emptyState(prefix: string, stateDir: string, controlplane: { node: string; address: string }, now = new Date()): ClusterState {
  return {
    version: STATE_VERSION,
    prefix,
    stateDir,
    createdAt: now.toISOString(),
    phase: 'creating',
    underlay: `${prefix}-underlay`,
    bridge: underlayBridge(prefix),
    controlplane,
    nodes: [],
    netns: [],
    interfaces: [],
    processes: [],
  };
}
