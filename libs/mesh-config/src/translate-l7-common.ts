// Shared pieces of the waypoint L7 translation: the context every step reads (settings, the Services the mesh knows
// by hostname), Istio's short-name resolution and host matching, and defensive readers for the Istio value types
// (StringMatch, Headers, durations) that VirtualService, DestinationRule and HTTPRoute share.

import { re2PatternProblem, type HeaderOperations, type L7StringMatch, type Service } from '@weft/mesh-model';

import type { KubeObject } from './kube-object';
import {
  asArray,
  asRecord,
  asString,
  asStringMap,
  compareStrings,
  message,
  type TranslateSettings,
  type TranslationMessage,
  type TranslationMessageLevel,
} from './translate-types';
import { parseGoDuration } from './validate-reader';

/** What every L7 step reads besides the object it translates. */
export interface L7Context {
  readonly settings: TranslateSettings;
  /** Every Service the mesh translated (bound or not), by hostname: destinations resolve their namespace here. */
  readonly servicesByHost: ReadonlyMap<string, Service>;
  /** Every object of the snapshot, by kind. */
  readonly objectsByKind: ReadonlyMap<string, readonly KubeObject[]>;
}

/** Collects the messages of one translation step about one object. */
export class L7Messages {
  readonly list: TranslationMessage[] = [];

  warn(object: Pick<KubeObject, 'kind' | 'metadata'>, code: `WARN_L7_${string}`, text: string, field?: string): void {
    this.add(object, 'warning', code, text, field);
  }

  add(object: Pick<KubeObject, 'kind' | 'metadata'>, level: TranslationMessageLevel, code: `WARN_L7_${string}`, text: string, field?: string): void {
    this.list.push(message(object, level, code, text, field));
  }
}

export function objectsOf(context: L7Context, kind: string): readonly KubeObject[] {
  return context.objectsByKind.get(kind) ?? [];
}

/** Oldest first (creationTimestamp), then namespace/name: the order Istio resolves conflicts between objects in. */
export function byAge(a: KubeObject, b: KubeObject): number {
  return (
    compareStrings(a.metadata.creationTimestamp ?? '', b.metadata.creationTimestamp ?? '') ||
    compareStrings(a.metadata.namespace ?? '', b.metadata.namespace ?? '') ||
    compareStrings(a.metadata.name, b.metadata.name)
  );
}

/**
 * istio `ResolveShortnameToFQDN`: a name without a dot is a Kubernetes short name in the object's namespace
 * (`reviews` → `reviews.<ns>.svc.<domain>`); anything with a dot, and `*`, is taken as written.
 */
export function resolveHost(host: string, namespace: string, domainSuffix: string): string {
  if (host === '*' || host.includes('.') || host.includes(':')) return host;
  return `${host}.${namespace}.svc.${domainSuffix}`;
}

/** Whether a (resolved) host selects `hostname`: equal, or a `*` / `*.suffix` wildcard covering it. */
export function hostMatches(pattern: string, hostname: string): 'exact' | 'wildcard' | undefined {
  if (pattern === hostname) return 'exact';
  if (pattern === '*') return 'wildcard';
  if (pattern.startsWith('*.') && hostname.endsWith(pattern.slice(1))) return 'wildcard';
  return undefined;
}

/**
 * `name.ns` and `name.ns.svc` resolve through Kubernetes DNS search paths, but Istio takes them as fully qualified
 * and they then match no service; returns the FQDN such a host was probably meant as.
 */
export function dottedShortName(host: string, domainSuffix: string): string | undefined {
  const parts = host.split('.');
  if (parts.length === 2) return `${host}.svc.${domainSuffix}`;
  if (parts.length === 3 && parts[2] === 'svc') return `${host}.${domainSuffix}`;
  return undefined;
}

/** `exportTo` as Istio reads it: absent or `*` everywhere, `.` only the object's namespace, else the listed ones. */
export function visibleTo(object: KubeObject, namespace: string): boolean {
  const exportTo = asArray(asRecord(object.spec)?.['exportTo']).map(asString).filter((v): v is string => v !== undefined);
  if (exportTo.length === 0) return true;
  return exportTo.some((e) => e === '*' || e === namespace || (e === '.' && object.metadata.namespace === namespace));
}

/** A Go duration string in milliseconds; undefined when absent or not a duration (the validator reported it). */
export function durationMs(value: unknown): number | undefined {
  const text = asString(value);
  if (text === undefined) return undefined;
  const ms = parseGoDuration(text);
  return ms === undefined || ms < 0 ? undefined : ms;
}

export type StringMatchRead = { readonly ok: true; readonly match: L7StringMatch } | { readonly ok: false; readonly problem: string };

/** Istio `StringMatch{exact|prefix|regex}`; an empty object is "any value" (header presence). */
export function readStringMatch(value: unknown): StringMatchRead {
  const m = asRecord(value);
  if (m === undefined) return { ok: false, problem: 'not a StringMatch object' };
  const exact = asString(m['exact']);
  const prefix = asString(m['prefix']);
  const regex = asString(m['regex']);
  if (exact !== undefined) return { ok: true, match: { kind: 'exact', value: exact } };
  if (prefix !== undefined) return { ok: true, match: { kind: 'prefix', value: prefix } };
  if (regex !== undefined) {
    const problem = re2PatternProblem(regex);
    return problem === undefined ? { ok: true, match: { kind: 'regex', value: regex } } : { ok: false, problem: `regex ${JSON.stringify(regex)}: ${problem}` };
  }
  return { ok: true, match: { kind: 'any' } };
}

/** Istio `Headers.HeaderOperations{set, add, remove}`; absent when the object sets nothing. */
export function readHeaderOperations(value: unknown): HeaderOperations | undefined {
  const ops = asRecord(value);
  if (ops === undefined) return undefined;
  const remove = asArray(ops['remove']).map(asString).filter((v): v is string => v !== undefined && v !== '');
  const set = withoutEmptyKeys(asStringMap(ops['set']));
  const add = withoutEmptyKeys(asStringMap(ops['add']));
  if (Object.keys(set).length === 0 && Object.keys(add).length === 0 && remove.length === 0) return undefined;
  return { set, add, remove };
}

function withoutEmptyKeys(map: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(map).filter(([k]) => k !== ''));
}

/** A plain number or an integer (Istio's `Percent{value}` carries a double). */
export function asFiniteNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** Keeps the keys whose value is defined, so absent optional fields stay absent in the translated values. */
export function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
