// A structural check of Kubernetes objects against the API's own type tables (the attribute maps that
// @kubernetes/client-node generates from the OpenAPI spec): every field must exist on its type and hold the right
// JSON type. It catches what an API server with strict field validation refuses (`kubectl apply` fails on an
// unknown field) and what a YAML typo turns into (a port as a string). Pure: the type tables come in as a lookup.

export interface AttributeType {
  readonly baseName: string;
  readonly type: string;
  readonly format: string;
}

/** The attributes of a generated model type (e.g. `V1Container`), or undefined for an unknown type name. */
export type TypeLookup = (typeName: string) => readonly AttributeType[] | undefined;

/** The generated type name of a top-level object: `apps/v1` `Deployment` → `V1Deployment`. */
export function rootTypeName(apiVersion: string, kind: string): string {
  const version = apiVersion.includes('/') ? apiVersion.slice(apiVersion.indexOf('/') + 1) : apiVersion;
  return `${version.charAt(0).toUpperCase()}${version.slice(1)}${kind}`;
}

const ARRAY = /^Array<(.+)>$/;
const MAP = /^\{ \[key: string\]: (.+); \}$/;

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** Problems of `value` read as `typeName`, each naming the field path. */
export function structuralProblems(value: unknown, typeName: string, lookup: TypeLookup, at = ''): string[] {
  const where = at === '' ? '(root)' : at;
  const wrong = (expected: string): string[] => [`${where}: expected ${expected}, got ${jsonType(value)}`];
  switch (typeName) {
    case 'any':
      return [];
    case 'string':
    case 'Date':
      return typeof value === 'string' ? [] : wrong('a string');
    case 'boolean':
      return typeof value === 'boolean' ? [] : wrong('a boolean');
    case 'number':
      return typeof value === 'number' ? [] : wrong('a number');
    case 'IntOrString':
      return typeof value === 'string' || (typeof value === 'number' && Number.isInteger(value)) ? [] : wrong('an integer or a string');
  }
  const array = ARRAY.exec(typeName);
  if (array !== null) {
    if (!Array.isArray(value)) return wrong('a list');
    return value.flatMap((item, index) => structuralProblems(item, array[1] ?? 'any', lookup, `${at}[${index}]`));
  }
  const map = MAP.exec(typeName);
  if (map !== null) {
    if (jsonType(value) !== 'object') return wrong('a map');
    return Object.entries(value as Record<string, unknown>).flatMap(([key, item]) => structuralProblems(item, map[1] ?? 'any', lookup, `${at}.${key}`));
  }
  const attributes = lookup(typeName);
  if (attributes === undefined) return [`${where}: no type ${typeName} to check against`];
  if (jsonType(value) !== 'object') return wrong(`an object (${typeName})`);
  const problems: string[] = [];
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    const attribute = attributes.find((a) => a.baseName === key);
    const path = at === '' ? key : `${at}.${key}`;
    if (attribute === undefined) {
      problems.push(`${path}: unknown field of ${typeName}`);
      continue;
    }
    if (attribute.type === 'number' && (attribute.format === 'int32' || attribute.format === 'int64') && typeof item === 'number' && !Number.isInteger(item)) {
      problems.push(`${path}: expected an integer, got ${item}`);
      continue;
    }
    problems.push(...structuralProblems(item, attribute.type, lookup, path));
  }
  return problems;
}
