// Every setting of the cni-node agent, its environment variable and its default, parsed once at start with all
// problems reported together. Defaults follow istio-cni's Helm values where it has one.

import { z } from 'zod';

const list = z.string().transform((s) => s.split(',').map((x) => x.trim()).filter((x) => x !== ''));
const flag = z.enum(['true', 'false']).transform((v) => v === 'true');

const schema = z.object({
  /** The node this agent serves: only pods with this `spec.nodeName` are enrolled. */
  NODE_NAME: z.string().min(1),
  WEFT_CONFIG_SOURCE: z.enum(['manifests', 'kubernetes']).default('manifests'),
  WEFT_MANIFEST_DIR: z.string().default('./manifests'),
  /** Manifest mode: where this agent's pod statuses (the redirection annotation) are written. */
  WEFT_STATUS_FILE: z.string().default(''),
  /** Plugin socket, netns memory (istio `cni_agent_run_dir`). */
  WEFT_CNI_RUN_DIR: z.string().default('/var/run/weft-cni'),
  /** The ZDS socket ztunnel dials. */
  WEFT_ZDS_SOCKET: z.string().default('/var/run/ztunnel/ztunnel.sock'),
  /** The mesh namespace; ztunnel's own pods there are never enrolled. */
  POD_NAMESPACE: z.string().min(1).default('istio-system'),
  /** istio-cni `excludeNamespaces`. */
  EXCLUDE_NAMESPACES: list.default(['kube-system']),
  /**
   * istio `AMBIENT_DNS_CAPTURE` (Istio's default is on). Off here until ztunnel has its DNS proxy on 15053: capturing
   * DNS with nothing listening there would break name resolution in every enrolled pod.
   */
  AMBIENT_DNS_CAPTURE: flag.default(false),
  /** `auto` picks the backend the node already uses. */
  WEFT_IPTABLES_BACKEND: z.enum(['auto', 'nft', 'legacy']).default('auto'),
  /** Install the node rule that lets kubelet probes reach enrolled pods. */
  WEFT_HOST_PROBE_RULES: flag.default(true),
  /** Install the chained plugin into the node's CNI config at start, and remove it on shutdown. */
  WEFT_CNI_INSTALL: flag.default(true),
  WEFT_CNI_BIN_DIR: z.string().default('/opt/cni/bin'),
  WEFT_CNI_NET_DIR: z.string().default('/etc/cni/net.d'),
  /**
   * How the installed plugin gets a Node runtime. `bundled`: Node, its loader, its shared libraries and the plugin are
   * copied into `<WEFT_CNI_BIN_DIR>/weft-cni.d/`, as a Kubernetes node needs (the runtime runs the plugin on the host,
   * outside this container). `host`: the launcher runs this process's Node on the built plugin in place, for a node
   * that shares the agent's filesystem (the local cluster).
   */
  WEFT_CNI_PLUGIN_RUNTIME: z.enum(['bundled', 'host']).default('bundled'),
  /**
   * Kubernetes: the DaemonSet running this agent. On shutdown, while it exists and is not being deleted, this is a
   * restart or upgrade: the plugin and node rules stay (pods created meanwhile fail ADD and are retried rather than
   * start unredirected), as istio-cni does. Empty: always clean up.
   */
  WEFT_CNI_DAEMONSET: z.string().default(''),
  /**
   * The node's /proc as mounted in this container (the chart: /host/proc): where the netns of pods started before
   * this agent is found, by pod UID. Empty: only pods whose CNI ADD the agent saw can be enrolled.
   */
  WEFT_HOST_PROC: z.string().default(''),
  /** /readyz, /healthz, /metrics, /debug/pods (istio-cni serves readiness on 8000). */
  WEFT_HEALTH_PORT: z.coerce.number().int().min(0).max(65535).default(8000),
  WEFT_LISTEN_ADDRESS: z.string().default('0.0.0.0'),
  WEFT_DRAIN_DEADLINE_MS: z.coerce.number().int().min(0).default(5_000),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default('info'),
});

export type CniNodeConfig = Readonly<z.infer<typeof schema>>;

export type CniNodeConfigResult = { ok: true; config: CniNodeConfig } | { ok: false; errors: string[] };

export function parseCniNodeConfig(env: Readonly<Record<string, string | undefined>>): CniNodeConfigResult {
  const known = Object.fromEntries(Object.keys(schema.shape).map((key) => [key, env[key] === '' ? undefined : env[key]]));
  const result = schema.safeParse(known);
  if (!result.success) {
    return { ok: false, errors: result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`) };
  }
  return { ok: true, config: Object.freeze(result.data) };
}
