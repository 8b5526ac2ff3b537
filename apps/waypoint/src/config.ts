// Every setting of a waypoint, its environment variable and its default (the names Istio's waypoint pods get where
// they exist), parsed once at start with every problem reported together.

import { z } from 'zod';

const port = z.coerce.number().int().min(0).max(65535);

const schema = z.object({
  POD_NAME: z.string().min(1),
  POD_NAMESPACE: z.string().min(1),
  /** The waypoint's identity: `spiffe://<TRUST_DOMAIN>/ns/<POD_NAMESPACE>/sa/<SERVICE_ACCOUNT>`. */
  SERVICE_ACCOUNT: z.string().min(1),
  /** The Gateway (class istio-waypoint) this waypoint serves; defaults to the service account's name, as Istio names both after it. */
  GATEWAY_NAME: z.string().default(''),
  NODE_NAME: z.string().default(''),
  INSTANCE_IP: z.string().min(1).default('127.0.0.1'),
  CLUSTER_ID: z.string().min(1).default('Kubernetes'),
  TRUST_DOMAIN: z.string().min(1).default('cluster.local'),
  /** Delta ADS and the CA (istiod's 15012). */
  XDS_ADDRESS: z.string().min(1).default('istiod.istio-system.svc:15012'),
  CA_ADDRESS: z.string().default(''),
  XDS_ROOT_CA: z.string().min(1).default('/var/run/secrets/istio/root-cert.pem'),
  XDS_SERVER_NAME: z.string().default(''),
  /** The credential for xDS and the CA: a Kubernetes token, or a manifest-mode bootstrap token. */
  WEFT_TOKEN_FILE: z.string().min(1).default('/var/run/secrets/tokens/istio-token'),
  /**
   * Ask the CA for the waypoint's identity as an impersonated identity (manifest mode: the token is the node's).
   * Off: the token itself is the waypoint's service account token.
   */
  WEFT_IMPERSONATE: z.enum(['true', 'false']).default('false'),
  WORKLOAD_CERT_TTL_SECONDS: z.coerce.number().int().min(0).default(0),
  /** HBONE (the Gateway listener `mesh`). */
  HBONE_PORT: port.default(15008),
  ADMIN_PORT: port.default(15000),
  STATS_PORT: port.default(15020),
  READINESS_PORT: port.default(15021),
  WEFT_LISTEN_ADDRESS: z.string().default('0.0.0.0'),
  /** OTLP/HTTP traces: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, else `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`; none: no tracing. */
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.string().default(''),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().default(''),
  OTEL_SERVICE_NAME: z.string().default(''),
  WEFT_DRAIN_DEADLINE_MS: z.coerce.number().int().min(0).default(5_000),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default('info'),
});

export type WaypointConfig = Readonly<z.infer<typeof schema>> & {
  /** The Gateway name with its default applied. */
  readonly gatewayName: string;
  /** Where spans go, or undefined when tracing is off. */
  readonly tracesEndpoint: string | undefined;
};

export type WaypointConfigResult = { ok: true; config: WaypointConfig } | { ok: false; errors: string[] };

export function parseWaypointConfig(env: Readonly<Record<string, string | undefined>>): WaypointConfigResult {
  const known = Object.fromEntries(Object.keys(schema.shape).map((key) => [key, env[key] === '' ? undefined : env[key]]));
  const result = schema.safeParse(known);
  if (!result.success) return { ok: false, errors: result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`) };
  const c = result.data;
  const tracesEndpoint = c.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT !== '' ? c.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT : c.OTEL_EXPORTER_OTLP_ENDPOINT !== '' ? `${c.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/$/, '')}/v1/traces` : undefined;
  return { ok: true, config: Object.freeze({ ...c, gatewayName: c.GATEWAY_NAME !== '' ? c.GATEWAY_NAME : c.SERVICE_ACCOUNT, tracesEndpoint }) };
}
