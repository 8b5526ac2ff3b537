// Typed problems a config source finds in what it reads. They are values carried on events, never thrown at
// the reader: one bad manifest must not stop the others from serving.

export const CONFIG_SOURCE_ERROR_CODES = [
  'ERR_CONFIG_YAML_PARSE',
  'ERR_CONFIG_OBJECT_INVALID',
  'ERR_CONFIG_DUPLICATE_OBJECT',
  'ERR_CONFIG_UNKNOWN_KIND',
  'ERR_CONFIG_READ',
  'ERR_CONFIG_WATCH',
  'ERR_CONFIG_STATUS_WRITE',
] as const;
export type ConfigSourceErrorCode = (typeof CONFIG_SOURCE_ERROR_CODES)[number];

export type ConfigSourceErrorSeverity = 'error' | 'warning';

/** Where a problem was found; every field is optional because the Kubernetes source has no files. */
export interface ConfigSourceErrorLocation {
  /** Path of the manifest file, relative to the watched directory. */
  readonly file?: string;
  /** Zero-based index of the YAML document inside the file. */
  readonly documentIndex?: number;
  /** One-based line and column. */
  readonly line?: number;
  readonly column?: number;
  /** `objectKey` of the object concerned, when known. */
  readonly objectKey?: string;
}

export class ConfigSourceError extends Error {
  override readonly name = 'ConfigSourceError';

  constructor(
    readonly code: ConfigSourceErrorCode,
    message: string,
    readonly severity: ConfigSourceErrorSeverity,
    readonly location: ConfigSourceErrorLocation = {},
    readonly hint?: string,
  ) {
    super(message);
  }
}

function at(location: ConfigSourceErrorLocation): string {
  const parts: string[] = [];
  if (location.file !== undefined) parts.push(location.file);
  if (location.documentIndex !== undefined) parts.push(`document ${location.documentIndex}`);
  if (location.line !== undefined) parts.push(`line ${location.line}`);
  return parts.join(', ');
}

export function yamlParseError(location: ConfigSourceErrorLocation, reason: string): ConfigSourceError {
  return new ConfigSourceError(
    'ERR_CONFIG_YAML_PARSE',
    `cannot parse ${at(location)}: ${reason}`,
    'error',
    location,
    'the previous objects from this file keep serving until it parses again',
  );
}

export function objectInvalidError(location: ConfigSourceErrorLocation, reason: string): ConfigSourceError {
  return new ConfigSourceError(
    'ERR_CONFIG_OBJECT_INVALID',
    `invalid object in ${at(location)}: ${reason}`,
    'error',
    location,
    'every document needs apiVersion, kind and metadata.name',
  );
}

export function duplicateObjectError(
  location: ConfigSourceErrorLocation & { objectKey: string },
  keptFile: string,
): ConfigSourceError {
  return new ConfigSourceError(
    'ERR_CONFIG_DUPLICATE_OBJECT',
    `${location.objectKey} in ${at(location)} is already defined in ${keptFile}; ignoring this copy`,
    'error',
    location,
    'the definition in the first file by name order wins',
  );
}

export function unknownKindError(location: ConfigSourceErrorLocation, kind: string): ConfigSourceError {
  return new ConfigSourceError(
    'ERR_CONFIG_UNKNOWN_KIND',
    `ignoring kind ${kind} in ${at(location)}: the mesh does not read it`,
    'warning',
    location,
  );
}

export function readError(location: ConfigSourceErrorLocation, cause: unknown): ConfigSourceError {
  return new ConfigSourceError('ERR_CONFIG_READ', `cannot read ${at(location)}: ${describe(cause)}`, 'error', location);
}

export function watchError(what: string, cause: unknown, hint?: string): ConfigSourceError {
  return new ConfigSourceError('ERR_CONFIG_WATCH', `watch of ${what} failed: ${describe(cause)}`, 'error', {}, hint);
}

export function statusWriteError(target: string, cause: unknown): ConfigSourceError {
  return new ConfigSourceError(
    'ERR_CONFIG_STATUS_WRITE',
    `cannot write status of ${target}: ${describe(cause)}`,
    'error',
  );
}

export function describe(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
