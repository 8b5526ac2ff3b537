// The contract between the mesh and wherever its configuration lives (a manifest directory or the API server):
// a versioned, immutable snapshot of the watched objects, batched change events, and a way to report status back.
import type { KubeObject } from '@weft/mesh-config';
import type { ConfigSourceError } from './config-source-error';

/** An immutable view of every object a source holds at one version. */
export interface ConfigSnapshot {
  /** Increases by one with every applied batch; 0 before `start()` resolves. */
  readonly version: number;
  readonly size: number;
  /** Looks an object up by `objectKey` (`Kind/namespace/name`). */
  get(key: string): KubeObject | undefined;
  /** Objects of one kind, optionally in one namespace, ordered by key. */
  list(kind: string, namespace?: string): readonly KubeObject[];
}

export interface ConfigChange {
  readonly added: readonly KubeObject[];
  readonly updated: readonly KubeObject[];
  readonly removed: readonly KubeObject[];
}

/**
 * One batch of changes (debounced), emitted after the snapshot at `version` became current. `start()` always
 * emits a first event (version 1, even when empty) carrying the initial objects as `added` and the problems
 * found reading them. Later events may carry only errors (nothing changed).
 */
export interface ConfigEvent {
  readonly version: number;
  readonly changed: ConfigChange;
  readonly errors: readonly ConfigSourceError[];
}

export type ConfigListener = (event: ConfigEvent) => void;

export interface ObjectCondition {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason?: string;
  readonly message?: string;
  readonly lastTransitionTime?: string;
}

/** Istio's `ValidationMessage` shape, flattened: a level, the field concerned and a sentence for the operator. */
export interface ValidationMessage {
  readonly level: 'error' | 'warning';
  readonly field: string;
  readonly message: string;
}

/**
 * What the mesh reports about one object: validation results, conditions, and annotations it would set
 * (the cni-node's `ambient.istio.io/redirection`).
 */
export interface ObjectStatus {
  readonly conditions?: readonly ObjectCondition[];
  readonly validationMessages?: readonly ValidationMessage[];
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface ConfigSource {
  /** Reads or lists everything once; resolves when the first snapshot is complete. */
  start(): Promise<void>;
  snapshot(): ConfigSnapshot;
  /** Returns the function that unsubscribes. Listeners are called synchronously, in subscription order. */
  subscribe(listener: ConfigListener): () => void;
  /** Records (or with `undefined` clears) the mesh's status for the object with this key. */
  reportStatus(key: string, status: ObjectStatus | undefined): void;
  statuses(): ReadonlyMap<string, ObjectStatus>;
  /** Stops every watcher and timer and flushes pending status writes. Idempotent. */
  close(): Promise<void>;
}

export interface ConfigSourceLogger {
  debug(message: string, fields?: Readonly<Record<string, unknown>>): void;
  info(message: string, fields?: Readonly<Record<string, unknown>>): void;
  warn(message: string, fields?: Readonly<Record<string, unknown>>): void;
  error(message: string, fields?: Readonly<Record<string, unknown>>): void;
}

const noop = (): void => undefined;
export const NOOP_LOGGER: ConfigSourceLogger = Object.freeze({ debug: noop, info: noop, warn: noop, error: noop });

/** Trailing debounce for change batches: long enough to fold an editor's save or `kubectl apply` burst into one. */
export const CHANGE_DEBOUNCE_MS = 100;
/** Upper bound on how long a steady stream of changes can delay an event. */
export const CHANGE_MAX_DELAY_MS = 1_000;

/** Kinds without a namespace; every other watched kind defaults to the `default` namespace. */
export const CLUSTER_SCOPED_KINDS: ReadonlySet<string> = new Set(['Namespace', 'Node']);
export const DEFAULT_NAMESPACE = 'default';
