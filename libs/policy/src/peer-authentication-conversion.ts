// PeerAuthentication in ambient (§6.6): STRICT is enforced by ztunnel as L4 DENY policies. Mirrors istiod's
// ambient/authorization.go (convertedSelectorPeerAuthentications, convertPeerAuthentication) and policies.go,
// including its precedence quirks, so the same objects give the same result as in Istio.

import { EMPTY_MATCH, type Authorization, type AuthorizationMatch, type AuthorizationRule } from '@weft/mesh-model';

import type { PeerAuthentication, MtlsMode } from './peer-authentication';
import { DEFAULT_ROOT_NAMESPACE } from './ztunnel-conversion';

/** Name of istiod's static "deny without a peer identity" policy (`_` because it is illegal in Kubernetes names). */
export const STATIC_STRICT_POLICY_NAME = 'istio_converted_static_strict';

const DENY_WITHOUT_IDENTITY: AuthorizationMatch = { ...EMPTY_MATCH, notPrincipals: [{ kind: 'presence' }] };

/** `<root>/istio_converted_static_strict`: pushed whenever any PeerAuthentication exists. */
export function staticStrictAuthorization(rootNamespace: string = DEFAULT_ROOT_NAMESPACE): Authorization {
  return {
    name: STATIC_STRICT_POLICY_NAME,
    namespace: rootNamespace,
    scope: 'WORKLOAD_SELECTOR',
    action: 'DENY',
    rules: [{ clauses: [{ matches: [DENY_WITHOUT_IDENTITY] }] }],
    dryRun: false,
  };
}

/** istio `model.GetAmbientPolicyConfigName` for a PeerAuthentication. */
export function convertedPeerAuthenticationName(name: string): string {
  return `converted_peer_authentication_${name}`;
}

export interface WorkloadRef {
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
}

const modeOf = (pa: PeerAuthentication | undefined): MtlsMode => pa?.spec.mtls?.mode ?? 'UNSET';
const hasLabels = (pa: PeerAuthentication): boolean => Object.keys(pa.spec.selector?.matchLabels ?? {}).length > 0;

function timestamp(pa: PeerAuthentication): number {
  // A missing timestamp is Go's zero time, older than any real one.
  const t = pa.metadata.creationTimestamp === undefined ? NaN : Date.parse(pa.metadata.creationTimestamp);
  return Number.isNaN(t) ? Number.NEGATIVE_INFINITY : t;
}

/** istio `getOldestPeerAuthn`: strictly older replaces, so the first of equals wins. */
function oldest(candidates: readonly PeerAuthentication[]): PeerAuthentication | undefined {
  let found: PeerAuthentication | undefined;
  for (const pa of candidates) if (found === undefined || timestamp(pa) < timestamp(found)) found = pa;
  return found;
}

function selects(pa: PeerAuthentication, workload: WorkloadRef): boolean {
  return Object.entries(pa.spec.selector?.matchLabels ?? {}).every(([k, v]) => workload.labels[k] === v);
}

/** The mesh, namespace and workload policies that apply to a workload, oldest first on conflict. */
export interface PeerAuthenticationLevels {
  readonly mesh?: PeerAuthentication;
  readonly namespace?: PeerAuthentication;
  readonly workload?: PeerAuthentication;
}

/**
 * Picks the effective policy of each level: selector-less policies in the root namespace are mesh-level, others in
 * the workload's namespace namespace-level; selector policies in the workload's namespace that select it are
 * workload-level. Selector policies in the root namespace are ignored in ambient.
 */
export function peerAuthenticationLevels(
  workload: WorkloadRef,
  peerAuthentications: readonly PeerAuthentication[],
  rootNamespace: string = DEFAULT_ROOT_NAMESPACE,
): PeerAuthenticationLevels {
  const mesh: PeerAuthentication[] = [];
  const namespace: PeerAuthentication[] = [];
  const selected: PeerAuthentication[] = [];
  for (const pa of peerAuthentications) {
    const ns = pa.metadata.namespace;
    if (!hasLabels(pa)) {
      if (ns === rootNamespace) mesh.push(pa);
      else if (ns === workload.namespace) namespace.push(pa);
    } else if (ns !== rootNamespace && ns === workload.namespace && selects(pa, workload)) {
      selected.push(pa);
    }
  }
  const levels: { mesh?: PeerAuthentication; namespace?: PeerAuthentication; workload?: PeerAuthentication } = {};
  const m = oldest(mesh);
  if (m !== undefined) levels.mesh = m;
  const n = oldest(namespace);
  if (n !== undefined) levels.namespace = n;
  const w = oldest(selected);
  if (w !== undefined) levels.workload = w;
  return levels;
}

export type EffectiveMtlsMode = 'STRICT' | 'PERMISSIVE' | 'DISABLE';

/**
 * The workload's top-level mTLS mode: the most specific non-UNSET level wins (mesh → namespace → workload);
 * PERMISSIVE when nothing is set. Port-level settings are enforced through the converted policies
 * (`peerAuthenticationPolicyKeys`, `convertPortLevelPeerAuthentication`), whose istiod quirks a per-port mode here
 * could not express.
 */
export function effectiveMtlsMode(
  workload: WorkloadRef,
  peerAuthentications: readonly PeerAuthentication[],
  rootNamespace: string = DEFAULT_ROOT_NAMESPACE,
): EffectiveMtlsMode {
  const levels = peerAuthenticationLevels(workload, peerAuthentications, rootNamespace);
  let mode: EffectiveMtlsMode = 'PERMISSIVE';
  for (const m of [modeOf(levels.mesh), modeOf(levels.namespace), modeOf(levels.workload)]) {
    if (m !== 'UNSET') mode = m;
  }
  return mode;
}

const portModes = (pa: PeerAuthentication): MtlsMode[] => Object.values(pa.spec.portLevelMtls ?? {}).map((m) => m.mode);

/**
 * istio `convertedSelectorPeerAuthentications`: the Authorization keys to add to the workload's
 * `authorization_policies` — the static STRICT policy and/or the workload's converted port-level policy.
 */
export function peerAuthenticationPolicyKeys(
  workload: WorkloadRef,
  peerAuthentications: readonly PeerAuthentication[],
  rootNamespace: string = DEFAULT_ROOT_NAMESPACE,
): string[] {
  const { mesh, namespace, workload: selected } = peerAuthenticationLevels(workload, peerAuthentications, rootNamespace);
  let strict = modeOf(mesh) === 'STRICT';
  if (namespace !== undefined && modeOf(namespace) !== 'UNSET') strict = modeOf(namespace) === 'STRICT';
  let portPolicyKey = '';
  if (selected !== undefined) {
    const mode = modeOf(selected);
    if (mode === 'STRICT') strict = true;
    if (mode === 'PERMISSIVE' || mode === 'DISABLE') strict = false;
    const ports = portModes(selected);
    const key = `${selected.metadata.namespace}/${convertedPeerAuthenticationName(selected.metadata.name)}`;
    if (selected.spec.portLevelMtls !== undefined) {
      if (mode === 'STRICT') {
        if (ports.some((m) => m === 'PERMISSIVE' || m === 'DISABLE')) {
          portPolicyKey = key;
          strict = false; // the converted policy carries the STRICT default itself
        }
      } else if (mode === 'PERMISSIVE' || mode === 'DISABLE') {
        if (ports.includes('STRICT')) portPolicyKey = key;
      } else if (strict) {
        // Inherited STRICT: only a PERMISSIVE port (not DISABLE) makes the workload policy take over.
        if (ports.includes('PERMISSIVE')) {
          portPolicyKey = key;
          strict = false;
        }
      } else if (ports.includes('STRICT')) {
        portPolicyKey = key;
      }
    }
  }
  const keys = new Set<string>();
  if (strict) keys.add(`${rootNamespace}/${STATIC_STRICT_POLICY_NAME}`);
  if (portPolicyKey !== '') keys.add(portPolicyKey);
  return [...keys].sort();
}

/** istio policies.go: the namespace/root policies `convertPeerAuthentication` merges with (selector unset, oldest). */
function parentPolicies(pa: PeerAuthentication, all: readonly PeerAuthentication[], rootNamespace: string) {
  const unselected = (ns: string) => all.filter((p) => p.metadata.namespace === ns && p.spec.selector === undefined);
  return { ns: oldest(unselected(pa.metadata.namespace)), root: oldest(unselected(rootNamespace)) };
}

/**
 * istio `convertPeerAuthentication`: a workload PeerAuthentication with port-level mTLS as the per-workload DENY
 * `<ns>/converted_peer_authentication_<name>`, or undefined when istiod sends nothing for it. Ports are target ports.
 * Reproduces istiod exactly, including that a STRICT port under a PERMISSIVE/DISABLE workload mode is skipped when
 * the mesh policy is STRICT and the namespace policy is absent or UNSET.
 */
export function convertPortLevelPeerAuthentication(
  pa: PeerAuthentication,
  peerAuthentications: readonly PeerAuthentication[],
  rootNamespace: string = DEFAULT_ROOT_NAMESPACE,
): Authorization | undefined {
  const portLevel = pa.spec.portLevelMtls ?? {};
  if (pa.metadata.namespace === rootNamespace || pa.spec.selector === undefined || Object.keys(portLevel).length === 0) {
    return undefined;
  }
  const { ns, root } = parentPolicies(pa, peerAuthentications, rootNamespace);
  const mode = modeOf(pa);
  const nsMode = ns === undefined ? undefined : modeOf(ns);
  const rootMode = root === undefined ? undefined : modeOf(root);
  const clauses: AuthorizationRule['clauses'][number][] = [];
  const rules: AuthorizationRule[] = [];
  if (mode === 'STRICT') clauses.push({ matches: [DENY_WITHOUT_IDENTITY] });

  let foundNonStrictPort = false;
  const ports = Object.keys(portLevel).map(Number).sort((a, b) => a - b);
  for (const port of ports) {
    const portMode = portLevel[port]?.mode ?? 'UNSET';
    if (portMode === 'STRICT') {
      // Operator precedence as in istiod: the third alternative is not guarded by "workload mode UNSET".
      const parentStrict =
        mode === 'STRICT' ||
        (mode === 'UNSET' && nsMode === 'STRICT') ||
        ((nsMode === undefined || nsMode === 'UNSET') && rootMode === 'STRICT');
      if (parentStrict) continue;
      // Rules of one group are AND'ed, so each STRICT port gets its own group.
      rules.push({ clauses: [{ matches: [{ ...DENY_WITHOUT_IDENTITY, destinationPorts: [port] }] }] });
    } else if (portMode === 'PERMISSIVE' || portMode === 'DISABLE') {
      if (mode === 'PERMISSIVE' || mode === 'DISABLE') continue;
      if (
        mode === 'UNSET' &&
        ((nsMode !== undefined && nsMode !== 'STRICT') ||
          (nsMode === undefined && rootMode !== undefined && rootMode !== 'STRICT') ||
          (nsMode === undefined && rootMode === undefined))
      ) {
        continue;
      }
      foundNonStrictPort = true;
      // Deny only when the connection is not to this port: the exception for plaintext.
      clauses.push({ matches: [{ ...EMPTY_MATCH, notDestinationPorts: [port] }] });
    }
  }
  if (mode === 'STRICT' && !foundNonStrictPort) return undefined; // plain STRICT: the static policy covers it
  if (clauses.length === 0 && rules.length === 0) return undefined;
  const mergeStrict =
    (rootMode === 'STRICT' && (nsMode === undefined || nsMode === 'UNSET' || nsMode === 'STRICT')) || nsMode === 'STRICT';
  if (mergeStrict && foundNonStrictPort) clauses.push({ matches: [DENY_WITHOUT_IDENTITY] });
  if (clauses.length > 0) rules.push({ clauses });
  return {
    name: convertedPeerAuthenticationName(pa.metadata.name),
    namespace: pa.metadata.namespace,
    scope: 'WORKLOAD_SELECTOR',
    action: 'DENY',
    rules,
    dryRun: false,
  };
}
