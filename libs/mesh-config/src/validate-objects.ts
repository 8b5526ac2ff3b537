// Entry point of validation: each object is checked on its own (by kind), then across objects; an object with any
// error is left out of `valid`, so the control plane keeps serving the last good configuration for it.

import type { KubeObject } from './kube-object';
import { validateCrossObject } from './validate-cross-object';
import { validateDestinationRuleSpec } from './validate-destination-rule';
import { validateGatewaySpec, validateHttpRouteSpec } from './validate-gateway-api';
import { FieldReader, isPlainObject, type PlainObject, type ValidationMessage } from './validate-reader';
import { validateRequestAuthenticationSpec } from './validate-request-authentication';
import { validateSecurityPolicy } from './validate-security-policy';
import { validateServiceEntrySpec } from './validate-service-entry';
import { validateVirtualServiceSpec } from './validate-virtual-service';

export interface ValidationOptions {
  /** Namespace of objects without `metadata.namespace` (kubectl uses the context's namespace); default `default`. */
  readonly defaultNamespace?: string;
  /** Mesh root namespace; default `istio-system`. */
  readonly rootNamespace?: string;
  /** Kubernetes cluster domain; default `cluster.local`. */
  readonly clusterDomain?: string;
}

export interface ValidationResult {
  /** The input objects without any error, in input order. */
  readonly valid: KubeObject[];
  readonly messages: ValidationMessage[];
}

type SpecValidator = (r: FieldReader, spec: PlainObject, name: string) => void;

const NETWORKING = 'networking.istio.io/';
const GATEWAY_API = 'gateway.networking.k8s.io/';
const SECURITY = 'security.istio.io/';

/** Spec validators by kind and API group (an Istio `networking.istio.io` Gateway is not a Gateway API one). */
const SPEC_VALIDATORS: readonly { readonly kind: string; readonly group: string; readonly validate: SpecValidator }[] = [
  { kind: 'VirtualService', group: NETWORKING, validate: validateVirtualServiceSpec },
  { kind: 'DestinationRule', group: NETWORKING, validate: validateDestinationRuleSpec },
  { kind: 'ServiceEntry', group: NETWORKING, validate: validateServiceEntrySpec },
  { kind: 'Gateway', group: GATEWAY_API, validate: validateGatewaySpec },
  { kind: 'HTTPRoute', group: GATEWAY_API, validate: validateHttpRouteSpec },
  { kind: 'RequestAuthentication', group: SECURITY, validate: validateRequestAuthenticationSpec },
];

/** Object label for messages, or a message when the object is not even Kubernetes-shaped. */
function checkShape(object: unknown, index: number, defaultNamespace: string): { label: string } | ValidationMessage {
  const fallback = `object #${index}`;
  if (!isPlainObject(object)) {
    return { level: 'error', code: 'ERR_OBJECT_SHAPE', object: fallback, field: '', message: 'a configuration object must be a map' };
  }
  const kind = typeof object['kind'] === 'string' ? object['kind'] : undefined;
  const meta = object['metadata'];
  const name = isPlainObject(meta) && typeof meta['name'] === 'string' && meta['name'] !== '' ? meta['name'] : undefined;
  const ns = isPlainObject(meta) && typeof meta['namespace'] === 'string' && meta['namespace'] !== '' ? meta['namespace'] : defaultNamespace;
  const label = `${kind ?? '<no kind>'} ${ns}/${name ?? '<unnamed>'}`;
  if (kind === undefined || typeof object['apiVersion'] !== 'string') {
    return { level: 'error', code: 'ERR_OBJECT_SHAPE', object: kind === undefined ? fallback : label, field: kind === undefined ? 'kind' : 'apiVersion', message: 'apiVersion and kind must be strings' };
  }
  if (name === undefined) return { level: 'error', code: 'ERR_OBJECT_SHAPE', object: label, field: 'metadata.name', message: 'metadata.name must be a non-empty string' };
  return { label };
}

/** Messages about one object on its own. Kinds without checks here (Service, Pod, …) yield none. */
export function validateObject(object: KubeObject, options: ValidationOptions = {}, index = 0): ValidationMessage[] {
  const defaultNamespace = options.defaultNamespace ?? 'default';
  const shape = checkShape(object, index, defaultNamespace);
  if (!('label' in shape)) return [shape];
  if ((object.kind === 'AuthorizationPolicy' || object.kind === 'PeerAuthentication') && object.apiVersion.startsWith(SECURITY)) {
    return validateSecurityPolicy(object, { defaultNamespace, ...(options.rootNamespace === undefined ? {} : { rootNamespace: options.rootNamespace }) });
  }
  const entry = SPEC_VALIDATORS.find((v) => v.kind === object.kind && object.apiVersion.startsWith(v.group));
  if (entry === undefined) return [];
  const reader = new FieldReader(shape.label);
  if (object.spec === undefined || object.spec === null) {
    reader.error('ERR_FIELD_MISSING', 'spec', `a ${object.kind} needs a spec`);
    return reader.messages;
  }
  const spec = reader.record(object.spec, 'spec');
  if (spec !== undefined) entry.validate(reader, spec, object.metadata.name);
  return reader.messages;
}

/**
 * Validates a whole configuration: per-object checks, then cross-object checks on the objects that passed them.
 * Never throws; malformed input of any shape becomes messages.
 */
export function validateObjects(objects: readonly KubeObject[], options: ValidationOptions = {}): ValidationResult {
  const messages: ValidationMessage[] = [];
  const passed: KubeObject[] = [];
  objects.forEach((object, i) => {
    const own = validateObject(object, options, i);
    messages.push(...own);
    if (!own.some((m) => m.level === 'error')) passed.push(object);
  });
  const cross = validateCrossObject(passed, {
    ...(options.defaultNamespace === undefined ? {} : { defaultNamespace: options.defaultNamespace }),
    ...(options.clusterDomain === undefined ? {} : { clusterDomain: options.clusterDomain }),
  });
  messages.push(...cross);
  const rejected = new Set(cross.filter((m) => m.level === 'error').map((m) => m.object));
  const ns = (o: KubeObject): string => o.metadata.namespace ?? options.defaultNamespace ?? 'default';
  const valid = passed.filter((o) => !rejected.has(`${o.kind} ${ns(o)}/${o.metadata.name}`));
  return { valid, messages };
}
