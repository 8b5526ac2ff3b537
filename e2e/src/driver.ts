// The cluster-driver interface the scenarios are written against: what a test does to a cluster (apply, delete,
// exec, logs, label, scale) and what it reads from it (pods, ztunnel config and metrics, controlplane config errors,
// packets on the node network). The local network-namespace cluster implements it (local-driver.ts); the kind driver
// (kind-driver.ts) implements the same calls with kubectl, crictl and tcpdump on hosts that have Docker.

export interface ExecResult {
  /** The command's exit status (curl: 0 ok, 7 refused, 28 timed out, 56 reset…). */
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface PodView {
  readonly namespace: string;
  readonly name: string;
  readonly node: string;
  readonly ip: string | undefined;
  readonly labels: Readonly<Record<string, string>>;
  readonly ready: boolean;
  /** PIDs of the processes whose network namespace is the pod's (on Kubernetes, not the sandbox's pause process). */
  readonly pids: readonly number[];
  /** PIDs of the pod's containers' programs, as started. */
  readonly containerPids: readonly number[];
}

export type LabelTarget = { readonly kind: 'namespace'; readonly name: string } | { readonly kind: 'pod'; readonly namespace: string; readonly name: string };

/** A packet capture on the network between nodes; `stop` returns tcpdump's text output with payloads (-A). */
export interface Capture {
  stop(): Promise<string>;
}

export interface ClusterDriver {
  readonly nodes: readonly string[];
  /** Applies manifest files or directories (or YAML text given as `{ yaml }`). */
  apply(...sources: readonly (string | { readonly yaml: string })[]): Promise<void>;
  delete(...sources: readonly (string | { readonly yaml: string })[]): Promise<void>;
  /** Runs `argv` inside the pod (`name` may be `deployment/NAME`). Never throws for a non-zero exit. */
  exec(namespace: string, pod: string, argv: readonly string[], timeoutMs?: number): Promise<ExecResult>;
  logs(namespace: string, pod: string): Promise<string>;
  label(target: LabelTarget, labels: Readonly<Record<string, string | null>>): Promise<void>;
  scale(namespace: string, deployment: string, replicas: number): Promise<void>;
  pods(namespace: string, selector?: Readonly<Record<string, string>>): Promise<PodView[]>;
  /** The node's ztunnel /config_dump. */
  ztunnelConfig(node: string): Promise<ZtunnelConfigDump>;
  /** The node's ztunnel Prometheus text (port 15020). */
  ztunnelMetrics(node: string): Promise<string>;
  /** The controlplane's /debug/config_errors: rejected objects and validation messages. */
  configErrors(): Promise<ConfigErrors>;
  /** Starts capturing TCP packets between nodes. */
  capture(): Promise<Capture>;
  /** Waits until every ztunnel's config satisfies `check` (config pushes are asynchronous). */
  waitForZtunnels(check: (dump: ZtunnelConfigDump, node: string) => boolean, what: string, timeoutMs?: number): Promise<void>;
  /** Recent logs of every mesh process, for failure messages. */
  diagnostics(): string;
}

export interface ZtunnelWorkload {
  readonly uid: string;
  readonly name: string;
  readonly namespace: string;
  readonly workloadIps: readonly string[];
  readonly protocol: string;
  readonly serviceAccount: string;
  readonly node: string;
  readonly authorizationPolicies: readonly string[];
}

export interface ZtunnelConfigDump {
  readonly workloads: readonly ZtunnelWorkload[];
  readonly policies: readonly { readonly name: string; readonly namespace: string }[];
  readonly [key: string]: unknown;
}

export interface ConfigProblem {
  readonly level: string;
  readonly code: string;
  /** `<Kind> <namespace>/<name>`. */
  readonly object: string;
  readonly field: string;
  readonly message: string;
}

export interface ConfigErrors {
  readonly rejected: Readonly<Record<string, unknown>>;
  readonly problems: readonly ConfigProblem[];
}
