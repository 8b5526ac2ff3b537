// Every setting of the controlplane, its environment variable and its default, in one place (STYLE.md #5):
// parsed once at start, all problems reported together, the result frozen and shown on /debug/config_dump.

import { WAYPOINT_IMAGE } from '@weft/mesh-config';
import { z } from 'zod';

const port = z.coerce.number().int().min(0).max(65535);
const list = z
  .string()
  .transform((s) => s.split(',').map((x) => x.trim()).filter((x) => x !== ''));

/** A Kubernetes object name (RFC 1123 subdomain), or '' for "not set". */
const objectName = z
  .string()
  .max(253)
  .regex(/^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, 'must be a Kubernetes object name');

/** Environment variable → setting. Defaults follow istiod where it has one. */
const settings = z.object({
  /** Where configuration comes from: a watched manifest directory (the embedded default) or the Kubernetes API. */
  WEFT_CONFIG_SOURCE: z.enum(['manifests', 'kubernetes']).default('manifests'),
  /** The manifest directory (manifests mode). */
  WEFT_MANIFEST_DIR: z.string().default('./manifests'),
  /** Where manifest-mode object statuses (validation messages, redirection status) are written for CLIs. */
  WEFT_STATUS_FILE: z.string().default(''),
  /** Plaintext Delta ADS (istiod `grpc-xds`). */
  WEFT_XDS_PLAINTEXT_PORT: port.default(15010),
  /** Delta ADS and the CA over TLS (istiod `https-dns`). */
  WEFT_XDS_TLS_PORT: port.default(15012),
  /** /ready, /metrics, /debug/* (istiod `http-monitoring`). */
  WEFT_MONITORING_PORT: port.default(15014),
  WEFT_LISTEN_ADDRESS: z.string().default('0.0.0.0'),
  /** Directory of the CA: plug-in `cacerts` files, and where the self-signed root is persisted unless WEFT_CA_SECRET is set. */
  WEFT_CA_DIR: z.string().default('./var/ca'),
  /**
   * Kubernetes mode: the Secret in POD_NAMESPACE that keeps the self-signed root, as istiod's `istio-ca-secret`
   * (the Helm chart sets that name). '' keeps it in WEFT_CA_DIR.
   */
  WEFT_CA_SECRET: objectName.default(''),
  /** Manifest mode: the per-node ztunnel bootstrap tokens (see ca/caller-authenticator.ts for the format). */
  WEFT_BOOTSTRAP_TOKENS_FILE: z.string().default(''),
  /** Callers allowed to impersonate workloads on their node (istiod `CA_TRUSTED_NODE_ACCOUNTS`). */
  CA_TRUSTED_NODE_ACCOUNTS: list.default(['istio-system/ztunnel']),
  /** Workload certificate TTL when the request asks for none, and the cap (istiod's defaults: 24 h, 90 d). */
  DEFAULT_WORKLOAD_CERT_TTL_SECONDS: z.coerce.number().int().positive().default(86_400),
  MAX_WORKLOAD_CERT_TTL_SECONDS: z.coerce.number().int().positive().default(90 * 86_400),
  TRUST_DOMAIN: z.string().min(1).default('cluster.local'),
  CLUSTER_ID: z.string().min(1).default('Kubernetes'),
  /** Kubernetes cluster domain used in service hostnames. */
  CLUSTER_DOMAIN: z.string().min(1).default('cluster.local'),
  /** The mesh root namespace: mesh-wide policies live here. */
  ROOT_NAMESPACE: z.string().min(1).default('istio-system'),
  /** The namespace the controlplane runs in (its serving certificate names `istiod.<ns>.svc`). */
  POD_NAMESPACE: z.string().min(1).default('istio-system'),
  /** This replica's name (the downward API; default: the host name): its identity in the leader Lease. */
  POD_NAME: z.string().default(''),
  /** Extra DNS names for the 15012 serving certificate. */
  WEFT_SERVING_DNS_NAMES: list.default([]),
  /** The image of the waypoint Deployments the waypoint controller creates for `istio-waypoint` Gateways (kubernetes mode). */
  WAYPOINT_IMAGE: z.string().min(1).default(WAYPOINT_IMAGE),
  /** How long config changes are gathered before a push (istiod `PILOT_DEBOUNCE_AFTER`). */
  PILOT_DEBOUNCE_AFTER_MS: z.coerce.number().int().min(0).default(100),
  /** How long shutdown drains xDS streams before forcing them. */
  WEFT_DRAIN_DEADLINE_MS: z.coerce.number().int().min(0).default(5_000),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default('info'),
});

// Rules across settings. zod runs them only when the settings they read parsed, so each problem is reported once.
const schema = settings.superRefine((config, ctx) => {
  if (config.WEFT_CA_SECRET !== '' && config.WEFT_CONFIG_SOURCE !== 'kubernetes') {
    ctx.addIssue({
      code: 'custom',
      path: ['WEFT_CA_SECRET'],
      message: 'a Secret keeps the CA root only in Kubernetes mode (WEFT_CONFIG_SOURCE=kubernetes); unset it to keep the root in WEFT_CA_DIR',
    });
  }
});

export type ControlplaneConfig = Readonly<z.infer<typeof schema>>;

export type ConfigResult = { ok: true; config: ControlplaneConfig } | { ok: false; errors: string[] };

/** Parses the environment (or any string map) into the frozen config; every invalid variable is reported. */
export function parseControlplaneConfig(env: Readonly<Record<string, string | undefined>>): ConfigResult {
  const known = Object.fromEntries(Object.keys(settings.shape).map((key) => [key, env[key] === '' ? undefined : env[key]]));
  const result = schema.safeParse(known);
  if (!result.success) {
    return {
      ok: false,
      errors: result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`),
    };
  }
  return { ok: true, config: Object.freeze(result.data) };
}
