// Every setting of ztunnel, its environment variable and its default (Istio ztunnel's names where it has them),
// parsed once at start with every problem reported together.

import { z } from 'zod';

const port = z.coerce.number().int().min(0).max(65535);

/** `uid=namespace/name/serviceAccount@127.0.0.x>targetIp:port` entries, `;`-separated (loopback mode only). */
const loopbackPods = z.string().transform((text, ctx) => {
  const pods: { uid: string; namespace: string; name: string; serviceAccount: string; address: string; outbound?: { address: string; port: number } }[] = [];
  for (const entry of text.split(';').map((e) => e.trim()).filter((e) => e !== '')) {
    const match = /^([^=]+)=([^/]+)\/([^/]+)\/([^@]+)@([0-9.]+)(?:>([0-9a-fA-F.:]+):(\d+))?$/.exec(entry);
    if (match === null) {
      ctx.addIssue({ code: 'custom', message: `"${entry}" is not uid=namespace/name/serviceAccount@127.0.0.x[>ip:port]` });
      continue;
    }
    const [, uid = '', namespace = '', name = '', serviceAccount = '', address = '', outIp, outPort] = match;
    pods.push({
      uid,
      namespace,
      name,
      serviceAccount,
      address,
      ...(outIp === undefined || outPort === undefined ? {} : { outbound: { address: outIp, port: Number(outPort) } }),
    });
  }
  return pods;
});

const schema = z.object({
  /** `inpod`: listeners inside each pod's netns, pods from the CNI agent over ZDS. `loopback`: tests/development. */
  WEFT_ZTUNNEL_MODE: z.enum(['inpod', 'loopback']).default('inpod'),
  NODE_NAME: z.string().min(1),
  POD_NAME: z.string().min(1).default('ztunnel'),
  POD_NAMESPACE: z.string().min(1).default('istio-system'),
  INSTANCE_IP: z.string().min(1).default('127.0.0.1'),
  CLUSTER_ID: z.string().min(1).default('Kubernetes'),
  TRUST_DOMAIN: z.string().min(1).default('cluster.local'),
  /** Delta ADS and the CA (istiod's 15012). */
  XDS_ADDRESS: z.string().min(1).default('istiod.istio-system.svc:15012'),
  CA_ADDRESS: z.string().default(''),
  /** The mesh root certificate that signs the controlplane's serving certificate. */
  XDS_ROOT_CA: z.string().min(1).default('/var/run/secrets/istio/root-cert.pem'),
  /** The TLS name to expect from the controlplane (default: the host of XDS_ADDRESS). */
  XDS_SERVER_NAME: z.string().default(''),
  /** ztunnel's own credential for xDS and the CA: a Kubernetes token, or a manifest-mode bootstrap token. */
  WEFT_TOKEN_FILE: z.string().min(1).default('/var/run/secrets/tokens/istio-token'),
  /** The CNI agent's ZDS socket (Istio `INPOD_UDS`). */
  INPOD_UDS: z.string().min(1).default('/var/run/ztunnel/ztunnel.sock'),
  WEFT_LOOPBACK_PODS: loopbackPods.default([]),
  /** Workload certificate TTL asked of the CA (0: the CA's default). */
  WORKLOAD_CERT_TTL_SECONDS: z.coerce.number().int().min(0).default(0),
  ADMIN_PORT: port.default(15000),
  STATS_PORT: port.default(15020),
  READINESS_PORT: port.default(15021),
  /** Where the stats and readiness ports listen; admin is always 127.0.0.1. */
  WEFT_LISTEN_ADDRESS: z.string().default('0.0.0.0'),
  /** How long a connection waits for its certificate before failing. */
  WEFT_CERT_WAIT_MS: z.coerce.number().int().min(0).default(10_000),
  WEFT_DRAIN_DEADLINE_MS: z.coerce.number().int().min(0).default(5_000),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default('info'),
});

export type ZtunnelConfig = Readonly<z.infer<typeof schema>>;
export type ZtunnelConfigResult = { ok: true; config: ZtunnelConfig } | { ok: false; errors: string[] };

export function parseZtunnelConfig(env: Readonly<Record<string, string | undefined>>): ZtunnelConfigResult {
  const known = Object.fromEntries(Object.keys(schema.shape).map((key) => [key, env[key] === '' ? undefined : env[key]]));
  const result = schema.safeParse(known);
  if (!result.success) return { ok: false, errors: result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`) };
  const config = result.data;
  const problems: string[] = [];
  if (config.WEFT_ZTUNNEL_MODE === 'loopback' && config.WEFT_LOOPBACK_PODS.length === 0) {
    problems.push('WEFT_LOOPBACK_PODS: loopback mode needs at least one pod');
  }
  return problems.length > 0 ? { ok: false, errors: problems } : { ok: true, config: Object.freeze(config) };
}
