// AuthorizationPolicy and PeerAuthentication are parsed by @weft/policy (Istio's validation plus ztunnel's status
// texts); this maps its diagnostics to ValidationMessages so every kind reports the same way.

import { parseAuthorizationPolicy, parsePeerAuthentication, type PolicyDiagnostic } from '@weft/policy';
import type { KubeObject } from './kube-object';
import type { ValidationLevel, ValidationMessage } from './validate-reader';

export interface SecurityPolicyOptions {
  readonly defaultNamespace?: string;
  readonly rootNamespace?: string;
}

function toMessages(level: ValidationLevel, diagnostics: readonly PolicyDiagnostic[]): ValidationMessage[] {
  return diagnostics.map((d) => ({ level, code: d.code, object: d.object, field: d.field, message: d.message }));
}

/** Messages for an AuthorizationPolicy or PeerAuthentication; errors mean the object is rejected. */
export function validateSecurityPolicy(object: KubeObject, options: SecurityPolicyOptions): ValidationMessage[] {
  const parseOptions = {
    ...(options.defaultNamespace === undefined ? {} : { defaultNamespace: options.defaultNamespace }),
    ...(options.rootNamespace === undefined ? {} : { rootNamespace: options.rootNamespace }),
  };
  const result = object.kind === 'AuthorizationPolicy'
    ? parseAuthorizationPolicy(object, parseOptions)
    : parsePeerAuthentication(object, parseOptions);
  return result.ok ? toMessages('warning', result.warnings) : toMessages('error', result.errors);
}
