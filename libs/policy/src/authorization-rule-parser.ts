// Parses and validates `spec.rules` of an AuthorizationPolicy with the checks of Istio's ValidateAuthorizationPolicy
// (pkg/config/validation), reporting every problem with the path of the offending field.

import type {
  AuthorizationPolicyAction,
  Condition,
  Operation,
  Rule,
  Source,
} from './authorization-policy';
import { SPIFFE_PREFIX } from './match-core';
import type { Mutable, ObjectReader, PlainObject } from './object-reader';
import {
  ipBlockProblem,
  pathTemplateProblem,
  portProblem,
  serviceAccountProblem,
  whenKeyProblem,
  whenValueProblem,
} from './policy-field-validation';

const SOURCE_FIELDS = [
  'principals',
  'notPrincipals',
  'requestPrincipals',
  'notRequestPrincipals',
  'namespaces',
  'notNamespaces',
  'serviceAccounts',
  'notServiceAccounts',
  'ipBlocks',
  'notIpBlocks',
  'remoteIpBlocks',
  'notRemoteIpBlocks',
  'trustDomains',
  'notTrustDomains',
] as const satisfies readonly (keyof Source)[];

const OPERATION_FIELDS = [
  'hosts',
  'notHosts',
  'ports',
  'notPorts',
  'methods',
  'notMethods',
  'paths',
  'notPaths',
] as const satisfies readonly (keyof Operation)[];

/** Source fields Istio rejects in a CUSTOM policy ("... is currently not supported with CUSTOM action"). */
const CUSTOM_UNSUPPORTED_SOURCE_FIELDS: readonly (keyof Source)[] = [
  'namespaces',
  'notNamespaces',
  'serviceAccounts',
  'notServiceAccounts',
  'principals',
  'notPrincipals',
  'requestPrincipals',
  'notRequestPrincipals',
];

export interface RuleContext {
  readonly action: AuthorizationPolicyAction;
  /** No targetRefs: the policy is enforced by ztunnel at L4 (§6.2). */
  readonly ztunnelBound: boolean;
}

type ValueErrorCode = 'ERR_POLICY_IP_BLOCK' | 'ERR_POLICY_PORT' | 'ERR_POLICY_SERVICE_ACCOUNT_FORMAT' | 'ERR_POLICY_PATH_TEMPLATE';

/** Runs an Istio value check over a list; empty values are reported separately by `checkNotEmptyStrings`. */
function checkValues(
  reader: ObjectReader,
  field: string,
  values: readonly string[],
  check: (v: string) => string | undefined,
  code: ValueErrorCode,
): void {
  values.forEach((value, i) => {
    if (value === '') return;
    const problem = check(value);
    if (problem !== undefined) reader.error(code, `${field}[${i}]`, problem);
  });
}

function checkNotEmptyStrings(reader: ObjectReader, field: string, values: readonly string[]): void {
  values.forEach((value, i) => {
    if (value === '') reader.error('ERR_POLICY_EMPTY_VALUE', `${field}[${i}]`, `empty value not allowed in ${field}`);
  });
}

function warnSpiffePrincipals(reader: ObjectReader, field: string, values: readonly string[]): void {
  values.forEach((value, i) => {
    if (!value.startsWith(SPIFFE_PREFIX)) return;
    reader.warn(
      'WARN_POLICY_SPIFFE_PRINCIPAL',
      `${field}[${i}]`,
      `principal "${value}" is written with "${SPIFFE_PREFIX}" and never matches (principals are compared without ` +
        `the scheme, see istio/ztunnel#1901); write "${value.slice(SPIFFE_PREFIX.length)}"`,
    );
  });
}

function parseSource(reader: ObjectReader, raw: PlainObject, field: string, ctx: RuleContext): Source {
  reader.knownFields(raw, field, SOURCE_FIELDS);
  const source: Mutable<Source> = {};
  for (const name of SOURCE_FIELDS) {
    const list = reader.stringList(raw[name], `${field}.${name}`);
    if (list !== undefined) source[name] = list;
  }
  const count = (...names: (keyof Source)[]): number => names.reduce((n, k) => n + (source[k]?.length ?? 0), 0);
  if (count(...SOURCE_FIELDS) === 0) {
    reader.error('ERR_POLICY_EMPTY_SOURCE', field, `${field} must not be empty`);
  }
  const identityFields = count('principals', 'notPrincipals', 'namespaces', 'notNamespaces');
  if (identityFields > 0 && count('serviceAccounts', 'notServiceAccounts') > 0) {
    reader.error(
      'ERR_POLICY_SERVICE_ACCOUNTS_COMBINED',
      field,
      `cannot set serviceAccounts with namespaces or principals in ${field}`,
    );
  }
  for (const name of SOURCE_FIELDS) {
    const values = source[name] ?? [];
    const path = `${field}.${name}`;
    checkNotEmptyStrings(reader, path, values);
    if (name.toLowerCase().endsWith('ipblocks')) {
      checkValues(reader, path, values, ipBlockProblem, 'ERR_POLICY_IP_BLOCK');
    }
    if (name === 'serviceAccounts' || name === 'notServiceAccounts') {
      checkValues(reader, path, values, serviceAccountProblem, 'ERR_POLICY_SERVICE_ACCOUNT_FORMAT');
      // istio CheckServiceAccount: "may not have more than 16 values".
      if (values.length > 16) {
        reader.error('ERR_POLICY_SERVICE_ACCOUNT_FORMAT', path, `${path} may not have more than 16 values`);
      }
    }
    if (name === 'principals' || name === 'notPrincipals') warnSpiffePrincipals(reader, path, values);
    if (ctx.action === 'CUSTOM' && CUSTOM_UNSUPPORTED_SOURCE_FIELDS.includes(name) && values.length > 0) {
      reader.error('ERR_POLICY_CUSTOM_UNSUPPORTED_FIELD', path, `${name} is currently not supported with CUSTOM action`);
    }
    if ((name === 'trustDomains' || name === 'notTrustDomains') && values.length > 0 && ctx.ztunnelBound) {
      reader.warn(
        'WARN_POLICY_TRUST_DOMAINS',
        path,
        `${name} is not enforced at L4 by ztunnel: istiod treats it like an HTTP attribute ` +
          `(an ALLOW rule using it is omitted, a DENY rule is enforced without it); attach the policy to a waypoint`,
      );
    }
  }
  return source;
}

function parseOperation(reader: ObjectReader, raw: PlainObject, field: string): Operation {
  reader.knownFields(raw, field, OPERATION_FIELDS);
  const operation: Mutable<Operation> = {};
  for (const name of OPERATION_FIELDS) {
    const list = reader.stringList(raw[name], `${field}.${name}`);
    if (list !== undefined) operation[name] = list;
  }
  if (OPERATION_FIELDS.every((name) => (operation[name]?.length ?? 0) === 0)) {
    reader.error('ERR_POLICY_EMPTY_OPERATION', field, `${field} must not be empty`);
  }
  for (const name of OPERATION_FIELDS) {
    const values = operation[name] ?? [];
    const path = `${field}.${name}`;
    checkNotEmptyStrings(reader, path, values);
    if (name === 'ports' || name === 'notPorts') {
      checkValues(reader, path, values, portProblem, 'ERR_POLICY_PORT');
    }
    if (name === 'paths' || name === 'notPaths') {
      checkValues(reader, path, values, pathTemplateProblem, 'ERR_POLICY_PATH_TEMPLATE');
    }
  }
  return operation;
}

function parseCondition(reader: ObjectReader, raw: PlainObject, field: string, ctx: RuleContext): Condition | undefined {
  reader.knownFields(raw, field, ['key', 'values', 'notValues']);
  const key = reader.string(raw['key'], `${field}.key`);
  const values = reader.stringList(raw['values'], `${field}.values`);
  const notValues = reader.stringList(raw['notValues'], `${field}.notValues`);
  if (key === undefined || key === '') {
    // A key of the wrong type was already reported by `reader.string`.
    if (raw['key'] === undefined || key === '') {
      reader.error('ERR_POLICY_MISSING_FIELD', `${field}.key`, '`key` must not be empty');
    }
    return undefined;
  }
  const keyProblem = whenKeyProblem(key);
  if (keyProblem !== undefined) reader.error('ERR_POLICY_WHEN_KEY', `${field}.key`, keyProblem);
  if ((values?.length ?? 0) === 0 && (notValues?.length ?? 0) === 0) {
    reader.error('ERR_POLICY_WHEN_WITHOUT_VALUES', field, `at least one of values or notValues must be set for key ${key}`);
  }
  for (const [list, name] of [[values ?? [], 'values'], [notValues ?? [], 'notValues']] as const) {
    checkNotEmptyStrings(reader, `${field}.${name}`, list);
    list.forEach((value, i) => {
      const problem = value === '' ? undefined : whenValueProblem(key, value);
      if (problem === undefined) return;
      reader.error(problem.code, `${field}.${name}[${i}]`, `invalid ${name} for key ${key}: ${problem.message}`);
    });
  }
  if (key === 'source.principal') {
    warnSpiffePrincipals(reader, `${field}.values`, values ?? []);
    warnSpiffePrincipals(reader, `${field}.notValues`, notValues ?? []);
  }
  const customUnsupported = ['source.namespace', 'source.serviceAccount', 'source.principal'].includes(key) || key.startsWith('request.auth.');
  if (ctx.action === 'CUSTOM' && customUnsupported) {
    reader.error('ERR_POLICY_CUSTOM_UNSUPPORTED_FIELD', `${field}.key`, `${key} is currently not supported with CUSTOM action`);
  }
  const condition: Mutable<Condition> = { key };
  if (values !== undefined) condition.values = values;
  if (notValues !== undefined) condition.notValues = notValues;
  return condition;
}

/** Parses one list of `from`/`to` entries, each wrapping one `source`/`operation` object. */
function parseEntries<T>(
  reader: ObjectReader,
  value: unknown,
  field: string,
  wrapper: 'source' | 'operation',
  parse: (raw: PlainObject, path: string) => T,
): T[] | undefined {
  const list = reader.array(value, field);
  if (list === undefined) return undefined;
  if (list.length === 0) reader.error('ERR_POLICY_EMPTY_LIST', field, `${field} must not be empty when set`);
  const out: T[] = [];
  list.forEach((item, i) => {
    const entry = reader.record(item, `${field}[${i}]`);
    if (entry === undefined) {
      if (item === null || item === undefined) reader.error('ERR_POLICY_MISSING_FIELD', `${field}[${i}]`, `${field}[${i}] must not be null`);
      return;
    }
    reader.knownFields(entry, `${field}[${i}]`, [wrapper]);
    const path = `${field}[${i}].${wrapper}`;
    const inner = reader.record(entry[wrapper], path);
    if (inner === undefined) {
      if (entry[wrapper] === undefined || entry[wrapper] === null) reader.error('ERR_POLICY_MISSING_FIELD', path, `${path} must be set`);
      return;
    }
    out.push(parse(inner, path));
  });
  return out;
}

/** Parses `spec.rules`; undefined when absent (which Istio distinguishes from `rules: []` for DENY and CUSTOM). */
export function parseRules(reader: ObjectReader, value: unknown, ctx: RuleContext): Rule[] | undefined {
  const list = reader.array(value, 'spec.rules');
  if (list === undefined) return undefined;
  const rules: Rule[] = [];
  list.forEach((item, i) => {
    const field = `spec.rules[${i}]`;
    if (item === null || item === undefined) {
      reader.error('ERR_POLICY_MISSING_FIELD', field, `rule must not be null, found at rule ${i}`);
      return;
    }
    const raw = reader.record(item, field);
    if (raw === undefined) return;
    reader.knownFields(raw, field, ['from', 'to', 'when']);
    const rule: Mutable<Rule> = {};
    const from = parseEntries(reader, raw['from'], `${field}.from`, 'source', (s, p) => parseSource(reader, s, p, ctx));
    if (from !== undefined) rule.from = from.map((source) => ({ source }));
    const to = parseEntries(reader, raw['to'], `${field}.to`, 'operation', (o, p) => parseOperation(reader, o, p));
    if (to !== undefined) rule.to = to.map((operation) => ({ operation }));
    const when = reader.array(raw['when'], `${field}.when`);
    if (when !== undefined) {
      const conditions: Condition[] = [];
      when.forEach((c, j) => {
        const path = `${field}.when[${j}]`;
        const obj = reader.record(c, path);
        if (obj === undefined) {
          if (c === null || c === undefined) reader.error('ERR_POLICY_MISSING_FIELD', path, 'when field cannot be nil');
          return;
        }
        const condition = parseCondition(reader, obj, path, ctx);
        if (condition !== undefined) conditions.push(condition);
      });
      rule.when = conditions;
    }
    rules.push(rule);
  });
  return rules;
}
