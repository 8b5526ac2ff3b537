// Who ztunnel says it is on the xDS stream (reference §4.1): the Envoy-style Node id istiod parses, and the node
// metadata Struct. Pure: config.ts hands in values it has already read from the environment.

/** The parts of ztunnel's configuration that name it to the controlplane. */
export interface XdsNodeInput {
  /** `INSTANCE_IP` first; every pod IP goes into `INSTANCE_IPS`. */
  readonly instanceIps: readonly string[];
  readonly podName: string;
  readonly podNamespace: string;
  readonly nodeName: string;
  /** `ISTIO_META_*` / `ISTIO_METAJSON_*` entries, already parsed (see `proxyMetadataFromEnv`). */
  readonly proxyMetadata?: Readonly<Record<string, unknown>>;
}

export interface XdsNode {
  readonly id: string;
  readonly metadata: Readonly<Record<string, unknown>>;
}

const META_PREFIX = 'ISTIO_META_';
const METAJSON_PREFIX = 'ISTIO_METAJSON_';

/**
 * `ztunnel~<INSTANCE_IP>~<POD_NAME>.<POD_NAMESPACE>~<POD_NAMESPACE>.svc.cluster.local` and a metadata Struct with
 * NAME, NAMESPACE, INSTANCE_IPS and NODE_NAME over the proxy metadata. ztunnel writes the `svc.cluster.local` suffix
 * literally, whatever the cluster domain (istiod only splits the id on `~`).
 */
export function buildXdsNode(input: XdsNodeInput): XdsNode {
  const instanceIp = input.instanceIps[0] ?? '';
  const ns = input.podNamespace;
  return {
    id: `ztunnel~${instanceIp}~${input.podName}.${ns}~${ns}.svc.cluster.local`,
    metadata: {
      ...input.proxyMetadata,
      NAME: input.podName,
      NAMESPACE: ns,
      INSTANCE_IPS: input.instanceIps.join(','),
      NODE_NAME: input.nodeName,
    },
  };
}

export type ProxyMetadataResult =
  | { readonly ok: true; readonly metadata: Readonly<Record<string, unknown>> }
  | { readonly ok: false; readonly errors: readonly string[] };

/**
 * The proxy metadata ztunnel copies from its environment: every `ISTIO_META_<KEY>` as a string under `<KEY>`, and every
 * `ISTIO_METAJSON_<KEY>` parsed as JSON under `<KEY>` (JSON wins when both name a key, as in pilot-agent). Every
 * unparseable JSON value is reported, so config.ts can list all problems at once.
 */
export function proxyMetadataFromEnv(env: Readonly<Record<string, string | undefined>>): ProxyMetadataResult {
  const metadata: Record<string, unknown> = {};
  const errors: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || !name.startsWith(META_PREFIX) || name.length === META_PREFIX.length) continue;
    metadata[name.slice(META_PREFIX.length)] = value;
  }
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || !name.startsWith(METAJSON_PREFIX) || name.length === METAJSON_PREFIX.length) continue;
    try {
      metadata[name.slice(METAJSON_PREFIX.length)] = JSON.parse(value) as unknown;
    } catch (err) {
      errors.push(`${name} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return errors.length === 0 ? { ok: true, metadata } : { ok: false, errors };
}
