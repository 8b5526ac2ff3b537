// Parses the plain object decoded from an AuthorizationPolicy manifest: Istio's validation errors reject it, and
// warnings say where ambient will not enforce it as written (the same texts istiod puts in the policy status).

import {
  AUTHORIZATION_POLICY_ACTIONS,
  AUTHORIZATION_POLICY_API_VERSIONS,
  DRY_RUN_ANNOTATION,
  parseGoBool,
  type AuthorizationPolicy,
  type AuthorizationPolicyAction,
  type AuthorizationPolicySpec,
  type ObjectMeta,
  type PolicyTargetReference,
  type WorkloadSelector,
} from './authorization-policy';
import { parseRules } from './authorization-rule-parser';
import { isPlainObject, ObjectReader, type Mutable, type PlainObject } from './object-reader';
import { objectLabel, type ParseResult } from './policy-diagnostics';
import { toZtunnelAuthorization } from './ztunnel-conversion';

export interface ParseOptions {
  /** Namespace for manifests without `metadata.namespace` (kubectl uses the context's namespace). */
  readonly defaultNamespace?: string;
}

/** Kinds a targetRef may name (istio validation `allowedTargetRefs`), by canonical group. */
const ALLOWED_TARGET_KINDS: readonly string[] = [
  'core/Service',
  'networking.istio.io/ServiceEntry',
  'gateway.networking.k8s.io/Gateway',
  'gateway.networking.k8s.io/GatewayClass',
];

/** Reads `metadata` shared by Istio security objects; sets the reader's object label. */
export function parseObjectMeta(reader: ObjectReader, root: PlainObject, kind: string, options: ParseOptions): ObjectMeta {
  const raw = reader.record(root['metadata'], 'metadata') ?? {};
  const name = reader.string(raw['name'], 'metadata.name') ?? '';
  const namespace = reader.string(raw['namespace'], 'metadata.namespace') ?? options.defaultNamespace ?? 'default';
  reader.object = objectLabel(kind, namespace, name === '' ? '<unnamed>' : name);
  if (name === '') reader.error('ERR_POLICY_MISSING_FIELD', 'metadata.name', 'metadata.name must be set');
  const meta: Mutable<ObjectMeta> = { name, namespace };
  const annotations = reader.stringMap(raw['annotations'], 'metadata.annotations');
  if (annotations !== undefined) meta.annotations = annotations;
  const labels = reader.stringMap(raw['labels'], 'metadata.labels');
  if (labels !== undefined) meta.labels = labels;
  const created = reader.string(raw['creationTimestamp'], 'metadata.creationTimestamp');
  if (created !== undefined) meta.creationTimestamp = created;
  return meta;
}

export function checkTypeMeta(reader: ObjectReader, root: PlainObject, kind: string, apiVersions: readonly string[]): void {
  const apiVersion = reader.string(root['apiVersion'], 'apiVersion');
  if (apiVersion !== undefined && !apiVersions.includes(apiVersion)) {
    reader.error('ERR_POLICY_WRONG_KIND', 'apiVersion', `apiVersion must be one of ${apiVersions.join(', ')}, got ${apiVersion}`);
  }
  const actualKind = reader.string(root['kind'], 'kind');
  if (actualKind !== undefined && actualKind !== kind) reader.error('ERR_POLICY_WRONG_KIND', 'kind', `kind must be ${kind}, got ${actualKind}`);
}

/** istio `validateWorkloadSelector`. */
export function parseSelector(reader: ObjectReader, value: unknown): WorkloadSelector | undefined {
  const raw = reader.record(value, 'spec.selector');
  if (raw === undefined) return undefined;
  reader.knownFields(raw, 'spec.selector', ['matchLabels']);
  const matchLabels = reader.stringMap(raw['matchLabels'], 'spec.selector.matchLabels');
  for (const [key, label] of Object.entries(matchLabels ?? {})) {
    const field = `spec.selector.matchLabels.${key}`;
    if (key === '') reader.error('ERR_POLICY_SELECTOR', field, `empty key is not supported in selector: "${key}=${label}"`);
    if (key.includes('*') || label.includes('*')) reader.error('ERR_POLICY_SELECTOR', field, `wildcard is not supported in selector: "${key}=${label}"`);
  }
  if (Object.keys(matchLabels ?? {}).length === 0) {
    reader.warn('WARN_POLICY_SELECTOR_WITHOUT_LABELS', 'spec.selector', 'workload selector specified without labels');
  }
  return matchLabels === undefined ? {} : { matchLabels };
}

/** istio `validatePolicyTargetReference`. */
function parseTargetRef(reader: ObjectReader, value: unknown, field: string): PolicyTargetReference | undefined {
  const raw = reader.record(value, field);
  if (raw === undefined) return undefined;
  reader.knownFields(raw, field, ['group', 'kind', 'name', 'namespace']);
  const group = reader.string(raw['group'], `${field}.group`);
  const kind = reader.string(raw['kind'], `${field}.kind`) ?? '';
  const name = reader.string(raw['name'], `${field}.name`) ?? '';
  const namespace = reader.string(raw['namespace'], `${field}.namespace`);
  if (name === '') reader.error('ERR_POLICY_TARGET_REF', `${field}.name`, 'targetRef name must be set');
  if (namespace !== undefined && namespace !== '') {
    reader.error('ERR_POLICY_TARGET_REF', `${field}.namespace`, 'targetRef namespace must not be set; cross namespace referencing is not supported');
  }
  const canonical = `${group === undefined || group === '' ? 'core' : group}/${kind}`;
  if (!ALLOWED_TARGET_KINDS.includes(canonical)) {
    reader.error('ERR_POLICY_TARGET_REF', `${field}.kind`, `targetRef must be to a Service, ServiceEntry, Gateway or GatewayClass but was ${group ?? ''}/${kind}`);
  }
  const ref: Mutable<PolicyTargetReference> = { kind, name };
  if (group !== undefined) ref.group = group;
  if (namespace !== undefined) ref.namespace = namespace;
  return ref;
}

function parseAction(reader: ObjectReader, value: unknown): AuthorizationPolicyAction {
  const action = reader.string(value, 'spec.action');
  if (action === undefined || action === '') return 'ALLOW';
  if ((AUTHORIZATION_POLICY_ACTIONS as readonly string[]).includes(action)) return action as AuthorizationPolicyAction;
  reader.error('ERR_POLICY_UNKNOWN_ACTION', 'spec.action', `unknown action "${action}": must be one of ${AUTHORIZATION_POLICY_ACTIONS.join(', ')}`);
  return 'ALLOW';
}

/**
 * Parses `security.istio.io/v1(beta1)` AuthorizationPolicy. On success the value has `spec.action` defaulted and
 * unknown fields dropped; warnings carry istiod's status texts for what ztunnel will not enforce.
 */
export function parseAuthorizationPolicy(obj: unknown, options: ParseOptions = {}): ParseResult<AuthorizationPolicy> {
  const reader = new ObjectReader(objectLabel('AuthorizationPolicy', options.defaultNamespace ?? 'default', '<unnamed>'));
  if (!isPlainObject(obj)) {
    reader.error('ERR_POLICY_WRONG_TYPE', '', 'an AuthorizationPolicy must be an object');
    return { ok: false, errors: reader.errors };
  }
  const metadata = parseObjectMeta(reader, obj, 'AuthorizationPolicy', options);
  checkTypeMeta(reader, obj, 'AuthorizationPolicy', AUTHORIZATION_POLICY_API_VERSIONS);
  const dryRunValue = metadata.annotations?.[DRY_RUN_ANNOTATION];
  if (dryRunValue !== undefined && parseGoBool(dryRunValue) === undefined) {
    reader.warn('WARN_POLICY_DRY_RUN_VALUE', `metadata.annotations.${DRY_RUN_ANNOTATION}`, `"${dryRunValue}" is not a boolean; the policy is enforced (not a dry run)`);
  }
  const raw = reader.record(obj['spec'], 'spec') ?? {};
  reader.knownFields(raw, 'spec', ['selector', 'targetRef', 'targetRefs', 'action', 'provider', 'rules']);

  const spec: Mutable<AuthorizationPolicySpec> = {};
  const selector = parseSelector(reader, raw['selector']);
  if (selector !== undefined) spec.selector = selector;
  const targetRef = parseTargetRef(reader, raw['targetRef'], 'spec.targetRef');
  if (targetRef !== undefined) spec.targetRef = targetRef;
  const refs = reader.array(raw['targetRefs'], 'spec.targetRefs');
  if (refs !== undefined) {
    spec.targetRefs = refs
      .map((ref, i) => parseTargetRef(reader, ref, `spec.targetRefs[${i}]`))
      .filter((ref): ref is PolicyTargetReference => ref !== undefined);
  }
  const attachments = [selector !== undefined, targetRef !== undefined, (refs?.length ?? 0) > 0].filter(Boolean).length;
  if (attachments > 1) {
    reader.error('ERR_POLICY_SELECTOR_AND_TARGET_REF', selector !== undefined ? 'spec.selector' : 'spec.targetRef', 'only one of targetRefs or workloadSelector can be set');
  }

  const action = parseAction(reader, raw['action']);
  spec.action = action;
  const provider = reader.record(raw['provider'], 'spec.provider');
  if (provider !== undefined) {
    reader.knownFields(provider, 'spec.provider', ['name']);
    spec.provider = { name: reader.string(provider['name'], 'spec.provider.name') ?? '' };
  }
  const ztunnelBound = (refs?.length ?? 0) === 0 && targetRef === undefined;
  const rules = parseRules(reader, raw['rules'], { action, ztunnelBound });
  if (rules !== undefined) spec.rules = rules;

  if (action === 'CUSTOM') {
    if (rules === undefined) {
      reader.error('ERR_POLICY_WITHOUT_RULES', 'spec.rules', 'CUSTOM action without `rules` is meaningless as it will never be triggered, add an empty rule `{}` if you want it be triggered for every request');
    } else if (spec.provider === undefined || spec.provider.name === '') {
      reader.error('ERR_POLICY_CUSTOM_WITHOUT_PROVIDER', 'spec.provider.name', '`provider.name` must not be empty');
    }
  }
  if (provider !== undefined && action !== 'CUSTOM') {
    reader.error('ERR_POLICY_PROVIDER_WITHOUT_CUSTOM', 'spec.provider', `\`provider\` must not be with non CUSTOM action, found ${action}`);
  }
  if (action === 'DENY' && rules === undefined) {
    reader.error('ERR_POLICY_WITHOUT_RULES', 'spec.rules', 'DENY action without `rules` is meaningless as it will never be triggered, add an empty rule `{}` if you want it be triggered for every request');
  }
  if (reader.errors.length > 0) return { ok: false, errors: reader.errors };

  const policy: AuthorizationPolicy = { metadata, spec };
  if (ztunnelBound) {
    // What ztunnel will make of it, in istiod's words; dry-run support is a control-plane flag, not a property of
    // the object, so it is not reported here.
    const { messages } = toZtunnelAuthorization(policy, { enableDryRun: true });
    for (const m of messages) {
      const hint = m.code === 'WARN_ZTUNNEL_UNSUPPORTED_ACTION'
        ? ' (a policy without targetRefs is enforced by ztunnel only; attach it to a waypoint with targetRefs)'
        : '';
      reader.warn(m.code, m.field, m.message + hint);
    }
  }
  return { ok: true, value: policy, warnings: reader.warnings };
}
