// Reads plain objects decoded from YAML/JSON into typed values, collecting every type error with its field path
// instead of stopping at the first (Kubernetes structural schema checks, done by hand).

import type { PolicyDiagnostic, PolicyErrorCode, PolicyWarningCode } from './policy-diagnostics';

export type PlainObject = Readonly<Record<string, unknown>>;

/** Parsed values are built field by field, then handed out as their readonly type. */
export type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export function isPlainObject(value: unknown): value is PlainObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Collects diagnostics for one object; the `object` label can be set once metadata is known. */
export class ObjectReader {
  readonly errors: PolicyDiagnostic[] = [];
  readonly warnings: PolicyDiagnostic[] = [];

  constructor(public object: string) {}

  error(code: PolicyErrorCode, field: string, message: string): void {
    this.errors.push({ code, object: this.object, field, message });
  }

  warn(code: PolicyWarningCode, field: string, message: string): void {
    this.warnings.push({ code, object: this.object, field, message });
  }

  /** A nested object; null and absent are both "not set" (Kubernetes drops nulls). */
  record(value: unknown, field: string): PlainObject | undefined {
    if (value === undefined || value === null) return undefined;
    if (!isPlainObject(value)) {
      this.error('ERR_POLICY_WRONG_TYPE', field, `${field} must be an object, got ${describe(value)}`);
      return undefined;
    }
    return value;
  }

  string(value: unknown, field: string): string | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') {
      this.error('ERR_POLICY_WRONG_TYPE', field, `${field} must be a string, got ${describe(value)}`);
      return undefined;
    }
    return value;
  }

  /** A list; an empty list stays distinguishable from an absent one (`from: []` is an error, no `from` is not). */
  array(value: unknown, field: string): readonly unknown[] | undefined {
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value)) {
      this.error('ERR_POLICY_WRONG_TYPE', field, `${field} must be a list, got ${describe(value)}`);
      return undefined;
    }
    return value;
  }

  /** A list of strings; wrong elements are reported and skipped. */
  stringList(value: unknown, field: string): string[] | undefined {
    const list = this.array(value, field);
    if (list === undefined) return undefined;
    const out: string[] = [];
    list.forEach((item, i) => {
      if (typeof item === 'string') out.push(item);
      else this.error('ERR_POLICY_WRONG_TYPE', `${field}[${i}]`, `${field}[${i}] must be a string, got ${describe(item)}`);
    });
    return out;
  }

  /** A map of string to string (labels, annotations). */
  stringMap(value: unknown, field: string): Record<string, string> | undefined {
    const obj = this.record(value, field);
    if (obj === undefined) return undefined;
    const out: Record<string, string> = {};
    for (const [key, item] of Object.entries(obj)) {
      if (typeof item === 'string') out[key] = item;
      else this.error('ERR_POLICY_WRONG_TYPE', `${field}.${key}`, `${field}.${key} must be a string, got ${describe(item)}`);
    }
    return out;
  }

  /** Warns about fields the schema does not know (a typo such as `principal:` would otherwise be ignored). */
  knownFields(obj: PlainObject, field: string, known: readonly string[]): void {
    for (const key of Object.keys(obj)) {
      if (!known.includes(key)) {
        const path = field === '' ? key : `${field}.${key}`;
        this.warn('WARN_POLICY_UNKNOWN_FIELD', path, `unknown field ${path} is ignored`);
      }
    }
  }
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value)}`;
}
