// Turns the text of one manifest file into Kubernetes-shaped objects and typed problems. Pure: the directory
// source does the reading. JSON files go through the same YAML parser (JSON is YAML 1.2) so they get line numbers.
import { parseAllDocuments } from 'yaml';
import { WATCHED_KINDS, type KubeObject } from '@weft/mesh-config';
import { CLUSTER_SCOPED_KINDS, DEFAULT_NAMESPACE } from './config-source';
import {
  objectInvalidError,
  unknownKindError,
  yamlParseError,
  type ConfigSourceError,
  type ConfigSourceErrorLocation,
} from './config-source-error';

export interface ParsedManifest {
  /** Watched objects, `List`s expanded, namespaces defaulted. */
  readonly objects: readonly KubeObject[];
  /** Parse and validation problems (errors) and ignored kinds (warnings). */
  readonly errors: readonly ConfigSourceError[];
}

const WATCHED: ReadonlySet<string> = new Set(WATCHED_KINDS);

/** `file` is only used to name the file in problems. */
export function parseManifest(file: string, text: string): ParsedManifest {
  const objects: KubeObject[] = [];
  const errors: ConfigSourceError[] = [];
  const documents = parseAllDocuments(text, { prettyErrors: true, uniqueKeys: true });
  // parseAllDocuments returns an EmptyStream (an array) for a file with no documents.
  documents.forEach((document, documentIndex) => {
    if (document.errors.length > 0) {
      for (const problem of document.errors) {
        const pos = problem.linePos?.[0];
        errors.push(
          yamlParseError(
            { file, documentIndex, line: pos?.line, column: pos?.col },
            firstLine(problem.message),
          ),
        );
      }
      return;
    }
    // The document's range starts at its `---` marker; its contents start where the object does.
    const line = lineOf(text, document.contents?.range[0] ?? document.range[0]);
    const value: unknown = document.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) return; // an empty document (`---` at the end of a file)
    collect(value, { file, documentIndex, line }, objects, errors);
  });
  return { objects, errors };
}

function collect(
  value: unknown,
  location: ConfigSourceErrorLocation,
  objects: KubeObject[],
  errors: ConfigSourceError[],
): void {
  if (!isRecord(value)) {
    errors.push(objectInvalidError(location, 'the document is not a mapping'));
    return;
  }
  const { apiVersion, kind } = value;
  if (typeof kind === 'string' && kind.endsWith('List') && Array.isArray(value.items)) {
    // `kubectl get -o yaml` output: v1 List (or a typed FooList) holding the objects in `items`.
    for (const item of value.items) collect(item, location, objects, errors);
    return;
  }
  const metadata = value.metadata;
  const missing: string[] = [];
  if (typeof apiVersion !== 'string' || apiVersion === '') missing.push('apiVersion');
  if (typeof kind !== 'string' || kind === '') missing.push('kind');
  if (!isRecord(metadata) || typeof metadata.name !== 'string' || metadata.name === '') missing.push('metadata.name');
  if (missing.length > 0 || !isRecord(metadata) || typeof kind !== 'string') {
    errors.push(objectInvalidError(location, `missing ${missing.join(', ')}`));
    return;
  }
  if (metadata.namespace !== undefined && typeof metadata.namespace !== 'string') {
    errors.push(objectInvalidError(location, 'metadata.namespace must be a string'));
    return;
  }
  const objectLocation = { ...location, objectKey: `${kind}/${String(metadata.namespace ?? '')}/${metadata.name}` };
  if (!WATCHED.has(kind)) {
    errors.push(unknownKindError(objectLocation, kind));
    return;
  }
  objects.push(withNamespace(value as unknown as KubeObject));
}

/** Namespaced kinds without a namespace land in `default` (as `kubectl apply` would); cluster-scoped lose it. */
export function withNamespace(object: KubeObject): KubeObject {
  const { namespace, ...rest } = object.metadata;
  if (CLUSTER_SCOPED_KINDS.has(object.kind)) {
    return namespace === undefined ? object : { ...object, metadata: rest };
  }
  if (namespace !== undefined && namespace !== '') return object;
  return { ...object, metadata: { ...rest, namespace: DEFAULT_NAMESPACE } };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

function firstLine(message: string): string {
  return message.split('\n', 1)[0] ?? message;
}
