// Typed problems found while parsing or converting policy objects. Codes are stable (operators and tests match on
// them, never on message text); every diagnostic names the object and the field it is about.

export type PolicyErrorCode =
  | 'ERR_POLICY_WRONG_TYPE'
  | 'ERR_POLICY_MISSING_FIELD'
  | 'ERR_POLICY_WRONG_KIND'
  | 'ERR_POLICY_SELECTOR_AND_TARGET_REF'
  | 'ERR_POLICY_SELECTOR'
  | 'ERR_POLICY_TARGET_REF'
  | 'ERR_POLICY_UNKNOWN_ACTION'
  | 'ERR_POLICY_CUSTOM_WITHOUT_PROVIDER'
  | 'ERR_POLICY_PROVIDER_WITHOUT_CUSTOM'
  | 'ERR_POLICY_CUSTOM_UNSUPPORTED_FIELD'
  | 'ERR_POLICY_WITHOUT_RULES'
  | 'ERR_POLICY_EMPTY_LIST'
  | 'ERR_POLICY_EMPTY_SOURCE'
  | 'ERR_POLICY_EMPTY_OPERATION'
  | 'ERR_POLICY_EMPTY_VALUE'
  | 'ERR_POLICY_SERVICE_ACCOUNTS_COMBINED'
  | 'ERR_POLICY_SERVICE_ACCOUNT_FORMAT'
  | 'ERR_POLICY_PATH_TEMPLATE'
  | 'ERR_POLICY_PORT'
  | 'ERR_POLICY_IP_BLOCK'
  | 'ERR_POLICY_WHEN_KEY'
  | 'ERR_POLICY_WHEN_WITHOUT_VALUES'
  | 'ERR_POLICY_MTLS_MODE'
  | 'ERR_POLICY_PORT_LEVEL_MTLS';

export type PolicyWarningCode =
  | 'WARN_POLICY_UNKNOWN_FIELD'
  | 'WARN_POLICY_SPIFFE_PRINCIPAL'
  | 'WARN_POLICY_SELECTOR_WITHOUT_LABELS'
  | 'WARN_POLICY_DRY_RUN_VALUE'
  | 'WARN_POLICY_TRUST_DOMAINS'
  | 'WARN_ZTUNNEL_HTTP_ATTRIBUTES'
  | 'WARN_ZTUNNEL_UNSUPPORTED_ACTION'
  | 'WARN_ZTUNNEL_DRY_RUN_DISABLED'
  | 'WARN_PEER_AUTHENTICATION_ROOT_SELECTOR'
  | 'WARN_PEER_AUTHENTICATION_DISABLE';

export type PolicyDiagnosticCode = PolicyErrorCode | PolicyWarningCode;

export interface PolicyDiagnostic {
  readonly code: PolicyDiagnosticCode;
  /** `<Kind> <namespace>/<name>`, e.g. `AuthorizationPolicy default/httpbin-access`. */
  readonly object: string;
  /** Path inside the object, e.g. `spec.rules[0].from[0].source.principals[1]`; `` for the object itself. */
  readonly field: string;
  readonly message: string;
}

/** A diagnostic that does not reject the object. */
export type PolicyWarning = PolicyDiagnostic & { readonly code: PolicyWarningCode };

/** Every problem is reported at once; nothing throws. */
export type ParseResult<T> =
  | { readonly ok: true; readonly value: T; readonly warnings: readonly PolicyDiagnostic[] }
  | { readonly ok: false; readonly errors: readonly PolicyDiagnostic[] };

export function objectLabel(kind: string, namespace: string, name: string): string {
  return `${kind} ${namespace}/${name}`;
}
