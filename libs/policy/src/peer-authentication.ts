// The Kubernetes object `security.istio.io/v1(beta1)` PeerAuthentication (istio/api peer_authentication.proto) and
// its parser with the checks of Istio's ValidatePeerAuthentication.

import { checkTypeMeta, parseObjectMeta, parseSelector, type ParseOptions } from './authorization-policy-parser';
import type { ObjectMeta, WorkloadSelector } from './authorization-policy';
import { isPlainObject, ObjectReader, type Mutable } from './object-reader';
import { objectLabel, type ParseResult } from './policy-diagnostics';

export type MtlsMode = 'UNSET' | 'DISABLE' | 'PERMISSIVE' | 'STRICT';

export const MTLS_MODES: readonly MtlsMode[] = ['UNSET', 'DISABLE', 'PERMISSIVE', 'STRICT'];

export interface MutualTls {
  /** UNSET inherits from the parent level (workload → namespace → mesh); the mesh default is PERMISSIVE. */
  readonly mode: MtlsMode;
}

export interface PeerAuthenticationSpec {
  readonly selector?: WorkloadSelector;
  readonly mtls?: MutualTls;
  /** Keyed by the workload's (container, i.e. target) port. Only valid with a selector. */
  readonly portLevelMtls?: Readonly<Record<number, MutualTls>>;
}

export interface PeerAuthentication {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata: ObjectMeta;
  readonly spec: PeerAuthenticationSpec;
}

export interface PeerAuthenticationParseOptions extends ParseOptions {
  /** Mesh root namespace, to warn about selector policies there (ambient ignores them). */
  readonly rootNamespace?: string;
}

function parseMode(reader: ObjectReader, value: unknown, field: string): MutualTls | undefined {
  const raw = reader.record(value, field);
  if (raw === undefined) return undefined;
  reader.knownFields(raw, field, ['mode']);
  const mode = reader.string(raw['mode'], `${field}.mode`);
  if (mode === undefined || mode === '') return { mode: 'UNSET' };
  if ((MTLS_MODES as readonly string[]).includes(mode)) return { mode: mode as MtlsMode };
  reader.error('ERR_POLICY_MTLS_MODE', `${field}.mode`, `unknown mTLS mode "${mode}": must be one of ${MTLS_MODES.join(', ')}`);
  return undefined;
}

/** Parses a PeerAuthentication manifest object; every problem is reported at once. */
export function parsePeerAuthentication(obj: unknown, options: PeerAuthenticationParseOptions = {}): ParseResult<PeerAuthentication> {
  const reader = new ObjectReader(objectLabel('PeerAuthentication', options.defaultNamespace ?? 'default', '<unnamed>'));
  if (!isPlainObject(obj)) {
    reader.error('ERR_POLICY_WRONG_TYPE', '', 'a PeerAuthentication must be an object');
    return { ok: false, errors: reader.errors };
  }
  const metadata = parseObjectMeta(reader, obj, 'PeerAuthentication', options);
  checkTypeMeta(reader, obj, 'PeerAuthentication', ['security.istio.io/v1', 'security.istio.io/v1beta1']);
  const raw = reader.record(obj['spec'], 'spec') ?? {};
  reader.knownFields(raw, 'spec', ['selector', 'mtls', 'portLevelMtls']);

  const spec: Mutable<PeerAuthenticationSpec> = {};
  const selector = parseSelector(reader, raw['selector']);
  if (selector !== undefined) spec.selector = selector;
  const mtls = parseMode(reader, raw['mtls'], 'spec.mtls');
  if (mtls !== undefined) spec.mtls = mtls;

  const portsRaw = reader.record(raw['portLevelMtls'], 'spec.portLevelMtls');
  if (portsRaw !== undefined) {
    const ports: Record<number, MutualTls> = {};
    const entries = Object.entries(portsRaw);
    if (entries.length === 0) {
      reader.error('ERR_POLICY_PORT_LEVEL_MTLS', 'spec.portLevelMtls', 'port level mTLS, if defined, must have at least one element');
    }
    // istio: "mesh/namespace peer authentication cannot have port level mTLS".
    if (Object.keys(selector?.matchLabels ?? {}).length === 0 && entries.length > 0) {
      reader.error('ERR_POLICY_PORT_LEVEL_MTLS', 'spec.portLevelMtls', 'mesh/namespace peer authentication cannot have port level mTLS');
    }
    for (const [key, value] of entries) {
      const field = `spec.portLevelMtls.${key}`;
      const port = /^[0-9]+$/.test(key) ? Number(key) : NaN;
      if (!(port >= 1 && port <= 65535)) reader.error('ERR_POLICY_PORT', field, `port must be in range 1..65535, got "${key}"`);
      const mode = parseMode(reader, value, field);
      if (mode !== undefined && port >= 1 && port <= 65535) ports[port] = mode;
    }
    spec.portLevelMtls = ports;
  }
  if (reader.errors.length > 0) return { ok: false, errors: reader.errors };

  const rootNamespace = options.rootNamespace ?? 'istio-system';
  if (metadata.namespace === rootNamespace && Object.keys(selector?.matchLabels ?? {}).length > 0) {
    reader.warn('WARN_PEER_AUTHENTICATION_ROOT_SELECTOR', 'spec.selector', `a PeerAuthentication with a selector in the root namespace ${rootNamespace} is ignored in ambient mode`);
  }
  const modes = [spec.mtls?.mode, ...Object.values(spec.portLevelMtls ?? {}).map((m) => m.mode)];
  if (modes.includes('DISABLE')) {
    reader.warn('WARN_PEER_AUTHENTICATION_DISABLE', 'spec.mtls.mode', 'DISABLE does not turn off mTLS between ambient workloads (ztunnel always uses HBONE mTLS); it only allows plaintext like PERMISSIVE');
  }
  return { ok: true, value: { metadata, spec }, warnings: reader.warnings };
}
