// Typed, path-aware reads of plain manifest values for the validators: every wrong type becomes a message naming the
// object and the field, never an exception (Kubernetes' structural schema checks, done by hand).

export type ValidationLevel = 'error' | 'warning';

/** One problem with one object. Codes are stable (`ERR_VS_RETRY_ON_UNKNOWN`); match on them, not on the text. */
export interface ValidationMessage {
  readonly level: ValidationLevel;
  readonly code: string;
  /** `<Kind> <namespace>/<name>`, e.g. `VirtualService default/reviews`. */
  readonly object: string;
  /** Path inside the object, e.g. `spec.http[0].retries.retryOn`; `` for the object itself. */
  readonly field: string;
  readonly message: string;
}

export type PlainObject = Readonly<Record<string, unknown>>;

export function isPlainObject(value: unknown): value is PlainObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function describeValue(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value)}`;
}

// Go's time.ParseDuration grammar: one or more `<decimal><unit>` terms, optionally signed.
const DURATION_TERM = '([0-9]*\\.?[0-9]+|[0-9]+\\.)(ns|us|µs|μs|ms|s|m|h)';
const UNIT_MS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds of a Go duration string (`2s`, `1.5s`, `500ms`, `1m30s`, `0`); undefined when it is not one. */
export function parseGoDuration(text: string): number | undefined {
  let rest = text;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    sign = rest.startsWith('-') ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') return undefined;
  let total = 0;
  const term = new RegExp(DURATION_TERM, 'y');
  while (term.lastIndex < rest.length) {
    const m = term.exec(rest);
    if (m === null) return undefined;
    total += Number(m[1]) * (UNIT_MS[m[2] ?? ''] ?? NaN);
  }
  return Number.isFinite(total) ? sign * total : undefined;
}

/** Collects the messages about one object. Every read returns undefined for "absent or wrong" (null is absent). */
export class FieldReader {
  readonly messages: ValidationMessage[] = [];

  constructor(readonly object: string) {}

  error(code: string, field: string, message: string): void {
    this.messages.push({ level: 'error', code, object: this.object, field, message });
  }

  warn(code: string, field: string, message: string): void {
    this.messages.push({ level: 'warning', code, object: this.object, field, message });
  }

  get hasErrors(): boolean {
    return this.messages.some((m) => m.level === 'error');
  }

  private wrongType(field: string, expected: string, value: unknown): undefined {
    this.error('ERR_FIELD_WRONG_TYPE', field, `${field} must be ${expected}, got ${describeValue(value)}`);
    return undefined;
  }

  record(value: unknown, field: string): PlainObject | undefined {
    if (value === undefined || value === null) return undefined;
    return isPlainObject(value) ? value : this.wrongType(field, 'an object', value);
  }

  string(value: unknown, field: string): string | undefined {
    if (value === undefined || value === null) return undefined;
    return typeof value === 'string' ? value : this.wrongType(field, 'a string', value);
  }

  boolean(value: unknown, field: string): boolean | undefined {
    if (value === undefined || value === null) return undefined;
    return typeof value === 'boolean' ? value : this.wrongType(field, 'a boolean', value);
  }

  array(value: unknown, field: string): readonly unknown[] | undefined {
    if (value === undefined || value === null) return undefined;
    return Array.isArray(value) ? value : this.wrongType(field, 'a list', value);
  }

  /** Each element of a list, with its path; a wrong list type is reported once. */
  each(value: unknown, field: string): readonly (readonly [unknown, string])[] {
    return (this.array(value, field) ?? []).map((item, i) => [item, `${field}[${i}]`] as const);
  }

  /** Each element of a list of objects; wrong elements are reported and skipped. */
  eachRecord(value: unknown, field: string): readonly (readonly [PlainObject, string])[] {
    const out: (readonly [PlainObject, string])[] = [];
    for (const [item, path] of this.each(value, field)) {
      const obj = this.record(item, path);
      if (obj !== undefined) out.push([obj, path]);
    }
    return out;
  }

  stringList(value: unknown, field: string): string[] | undefined {
    const list = this.array(value, field);
    if (list === undefined) return undefined;
    return list.flatMap((item, i) => {
      const s = this.string(item, `${field}[${i}]`);
      return s === undefined ? [] : [s];
    });
  }

  stringMap(value: unknown, field: string): Record<string, string> | undefined {
    const obj = this.record(value, field);
    if (obj === undefined) return undefined;
    const out: Record<string, string> = {};
    for (const [key, item] of Object.entries(obj)) {
      const s = this.string(item, `${field}.${key}`);
      if (s !== undefined) out[key] = s;
    }
    return out;
  }

  /** An integer within [min, max]; protobuf JSON also accepts integers written as strings ("5"). */
  integer(value: unknown, field: string, code: string, min: number, max: number = Number.MAX_SAFE_INTEGER): number | undefined {
    if (value === undefined || value === null) return undefined;
    const n = typeof value === 'string' && /^-?[0-9]+$/.test(value) ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isInteger(n)) return this.wrongType(field, 'an integer', value);
    if (n < min || n > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in range ${min}..${max}`;
      this.error(code, field, `${field} must be ${range}, got ${n}`);
      return undefined;
    }
    return n;
  }

  /** A number within [min, max] (Istio `Percent.value` is a double). */
  number(value: unknown, field: string, code: string, min: number, max: number): number | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number' || !Number.isFinite(value)) return this.wrongType(field, 'a number', value);
    if (value < min || value > max) {
      this.error(code, field, `${field} must be in range ${min}..${max}, got ${value}`);
      return undefined;
    }
    return value;
  }

  /** A non-negative Go duration (`2s`, `1.5s`, `500ms`, `1m`), in milliseconds. */
  duration(value: unknown, field: string, code: string): number | undefined {
    const text = this.string(value, field);
    if (text === undefined) return undefined;
    const ms = parseGoDuration(text);
    if (ms === undefined || ms < 0) {
      this.error(code, field, `${field} "${text}" is not a valid duration (use e.g. 2s, 1.5s, 500ms, 1m)`);
      return undefined;
    }
    return ms;
  }

  /** A string that must be one of `allowed` (reported with the list). */
  oneOf<T extends string>(value: unknown, field: string, code: string, allowed: readonly T[]): T | undefined {
    const text = this.string(value, field);
    if (text === undefined) return undefined;
    if ((allowed as readonly string[]).includes(text)) return text as T;
    this.error(code, field, `${field} "${text}" is not supported: must be one of ${allowed.join(', ')}`);
    return undefined;
  }
}
