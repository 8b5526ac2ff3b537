// AuthorizationPolicy and PeerAuthentication → ztunnel `Authorization` (reference §6.2, §6.6), after istiod's
// ambient authorization.go. Parsing and conversion are @weft/policy's; this step only collects, reports and indexes
// the selector-scoped results that workloads list by name.

import { authorizationKey, type Authorization } from '@weft/mesh-model';
import {
  convertPortLevelPeerAuthentication,
  parseAuthorizationPolicy,
  parsePeerAuthentication,
  staticStrictAuthorization,
  toZtunnelAuthorization,
  type PeerAuthentication,
  type PolicyDiagnostic,
} from '@weft/policy';

import type { KubeObject } from './kube-object';
import type { MeshInventory } from './translate-inventory';
import { compareStrings, selectorMatches, type TranslateSettings, type TranslationMessage } from './translate-types';

/** A WORKLOAD_SELECTOR Authorization and the labels it selects, for `Workload.authorization_policies`. */
export interface SelectorPolicy {
  readonly key: string;
  readonly namespace: string;
  readonly matchLabels: Readonly<Record<string, string>>;
}

export interface AuthorizationTranslation {
  /** Sorted by namespace, then name. */
  readonly authorizations: Authorization[];
  readonly selectorPolicies: readonly SelectorPolicy[];
  /** Valid PeerAuthentications, for the per-workload keys (`peerAuthenticationPolicyKeys`). */
  readonly peerAuthentications: readonly PeerAuthentication[];
  readonly messages: readonly TranslationMessage[];
}

function toMessage(diagnostic: PolicyDiagnostic): TranslationMessage {
  const level = diagnostic.code.startsWith('ERR_') ? 'error' : 'warning';
  const { object, code, message } = diagnostic;
  return diagnostic.field === '' ? { level, object, code, message } : { level, object, field: diagnostic.field, code, message };
}

function excluded(object: KubeObject, errors: readonly PolicyDiagnostic[]): TranslationMessage[] {
  // An invalid policy is left out, as the API server's validating webhook would have rejected it.
  return errors.map(toMessage).map((m) => ({ ...m, message: `${m.message} (${object.kind} not translated)` }));
}

/**
 * istiod `AuthorizationPolicies` collection: each valid policy converted for ztunnel; targetRef'd (waypoint)
 * policies, CUSTOM/AUDIT and dry-run ones give no Authorization. Parse warnings and conversion messages are both
 * reported, once each.
 */
export function translateAuthorizationPolicies(
  inventory: MeshInventory,
  settings: TranslateSettings,
): { authorizations: Authorization[]; selectorPolicies: SelectorPolicy[]; messages: TranslationMessage[] } {
  const authorizations: Authorization[] = [];
  const selectorPolicies: SelectorPolicy[] = [];
  const messages: TranslationMessage[] = [];
  for (const object of inventory.authorizationPolicies) {
    const parsed = parseAuthorizationPolicy(object);
    if (!parsed.ok) {
      messages.push(...excluded(object, parsed.errors));
      continue;
    }
    const seen = new Set(parsed.warnings.map((w) => `${w.code} ${w.field}`));
    messages.push(...parsed.warnings.map(toMessage));
    const conversion = toZtunnelAuthorization(parsed.value, { rootNamespace: settings.rootNamespace });
    messages.push(...conversion.messages.filter((m) => !seen.has(`${m.code} ${m.field}`)).map(toMessage));
    const authorization = conversion.authorization;
    if (authorization === undefined) continue;
    authorizations.push(authorization);
    if (authorization.scope === 'WORKLOAD_SELECTOR') {
      selectorPolicies.push({
        key: authorizationKey(authorization.namespace, authorization.name),
        namespace: authorization.namespace,
        matchLabels: parsed.value.spec.selector?.matchLabels ?? {},
      });
    }
  }
  return { authorizations, selectorPolicies, messages };
}

/**
 * §6.6: the static STRICT DENY whenever any PeerAuthentication exists, plus the converted port-level policy of
 * each workload PeerAuthentication that needs one.
 */
export function translatePeerAuthentications(
  inventory: MeshInventory,
  settings: TranslateSettings,
): { authorizations: Authorization[]; peerAuthentications: PeerAuthentication[]; messages: TranslationMessage[] } {
  const peerAuthentications: PeerAuthentication[] = [];
  const messages: TranslationMessage[] = [];
  for (const object of inventory.peerAuthentications) {
    const parsed = parsePeerAuthentication(object, { rootNamespace: settings.rootNamespace });
    if (!parsed.ok) {
      messages.push(...excluded(object, parsed.errors));
      continue;
    }
    messages.push(...parsed.warnings.map(toMessage));
    peerAuthentications.push(parsed.value);
  }
  const authorizations: Authorization[] = [];
  if (peerAuthentications.length > 0) authorizations.push(staticStrictAuthorization(settings.rootNamespace));
  for (const pa of peerAuthentications) {
    const converted = convertPortLevelPeerAuthentication(pa, peerAuthentications, settings.rootNamespace);
    if (converted !== undefined) authorizations.push(converted);
  }
  return { authorizations, peerAuthentications, messages };
}

export function translateAuthorizations(inventory: MeshInventory, settings: TranslateSettings): AuthorizationTranslation {
  const policies = translateAuthorizationPolicies(inventory, settings);
  const peer = translatePeerAuthentications(inventory, settings);
  const authorizations = [...policies.authorizations, ...peer.authorizations].sort(
    (a, b) => compareStrings(a.namespace, b.namespace) || compareStrings(a.name, b.name),
  );
  return {
    authorizations,
    selectorPolicies: policies.selectorPolicies,
    peerAuthentications: peer.peerAuthentications,
    messages: [...policies.messages, ...peer.messages],
  };
}

/**
 * A workload's `authorization_policies` in istiod's order (buildWorkloadPolicies): its selector policies sorted by
 * key, then the converted PeerAuthentication keys in the order the conversion gives them.
 */
export function workloadPolicyKeys(selectorKeys: readonly string[], peerAuthenticationKeys: readonly string[]): string[] {
  return [...new Set([...[...selectorKeys].sort(compareStrings), ...peerAuthenticationKeys])];
}

/**
 * istiod `selectorPolicies`: keys of the selector policies in the workload's namespace, or in the root namespace,
 * whose `matchLabels` are a subset of the workload's labels. Labels absent altogether (nil to istiod's
 * `krt.FilterSelects`) filter nothing: every such policy applies.
 */
export function selectorPolicyKeys(
  workload: { readonly namespace: string; readonly labels: Readonly<Record<string, string>> | undefined },
  policies: readonly SelectorPolicy[],
  rootNamespace: string,
): string[] {
  const { namespace, labels } = workload;
  return policies
    .filter((p) => (p.namespace === namespace || p.namespace === rootNamespace) && (labels === undefined || selectorMatches(p.matchLabels, labels)))
    .map((p) => p.key);
}
