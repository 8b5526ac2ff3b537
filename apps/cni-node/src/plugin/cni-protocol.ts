// The CNI 1.0.0 plugin protocol for Weft's chained plugin, as pure functions: read the invocation (environment and
// the network config on stdin), and render every reply — the unchanged prevResult, VERSION, and errors in the
// spec's JSON shape. The executable (plugin-main.ts) does the I/O.

export const SUPPORTED_CNI_VERSIONS: readonly string[] = ['0.3.0', '0.3.1', '0.4.0', '1.0.0'];
export const PLUGIN_TYPE = 'weft-cni';

/** Well-known error codes of the CNI spec (SPEC.md "Error"), and the one Weft adds for "not redirected". */
export const CNI_ERRORS = {
  incompatibleVersion: 1,
  unsupportedField: 2,
  containerUnknown: 3,
  invalidEnvironment: 4,
  ioFailure: 5,
  decodeFailure: 6,
  invalidConfig: 7,
  tryAgainLater: 11,
  /** Plugin-specific (codes ≥ 100): the pod is ambient but its traffic could not be redirected. */
  redirectionFailed: 100,
} as const;

export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'VERSION';

export interface WeftPluginConfig {
  readonly cniVersion: string;
  readonly name: string;
  readonly type: string;
  /** The agent's unix socket (`<cni_agent_run_dir>/pluginevent.sock`). */
  readonly agentSocket: string;
  /** How long ADD waits for the agent. */
  readonly agentTimeoutMs: number;
  /** Pods in these namespaces are passed through without asking the agent. */
  readonly excludeNamespaces: readonly string[];
  readonly prevResult: Readonly<Record<string, unknown>> | undefined;
}

export interface CniInvocation {
  readonly command: CniCommand;
  readonly containerId: string;
  readonly netns: string;
  readonly ifName: string;
  /** `CNI_ARGS` as a map: `K8S_POD_NAMESPACE`, `K8S_POD_NAME`, `K8S_POD_UID`, … */
  readonly args: Readonly<Record<string, string>>;
  readonly config: WeftPluginConfig;
}

export interface CniError {
  readonly code: number;
  readonly msg: string;
  readonly details?: string;
}

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: CniError };

const DEFAULT_AGENT_SOCKET = '/var/run/weft-cni/pluginevent.sock';
const DEFAULT_AGENT_TIMEOUT_MS = 5_000;

function record(value: unknown): Readonly<Record<string, unknown>> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** `CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0` → a map. */
export function parseCniArgs(text: string): Record<string, string> {
  const args: Record<string, string> = {};
  for (const pair of text.split(';')) {
    const at = pair.indexOf('=');
    if (at > 0) args[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return args;
}

function fail(code: number, msg: string, details?: string): Parsed<never> {
  return { ok: false, error: details === undefined ? { code, msg } : { code, msg, details } };
}

/** The network configuration on stdin, with Weft's own keys checked and defaulted. */
export function parsePluginConfig(stdin: string): Parsed<WeftPluginConfig> {
  let document: unknown;
  try {
    document = JSON.parse(stdin);
  } catch (cause) {
    return fail(CNI_ERRORS.decodeFailure, 'network configuration on stdin is not JSON', String(cause));
  }
  const config = record(document);
  if (config === undefined) return fail(CNI_ERRORS.decodeFailure, 'network configuration on stdin is not a JSON object');
  const cniVersion = config['cniVersion'];
  if (typeof cniVersion !== 'string' || cniVersion === '') return fail(CNI_ERRORS.invalidConfig, 'cniVersion is missing');
  if (!SUPPORTED_CNI_VERSIONS.includes(cniVersion)) {
    return fail(CNI_ERRORS.incompatibleVersion, `cniVersion ${cniVersion} is not supported`, `supported: ${SUPPORTED_CNI_VERSIONS.join(', ')}`);
  }
  const agentSocket = config['agentSocket'] ?? DEFAULT_AGENT_SOCKET;
  if (typeof agentSocket !== 'string' || !agentSocket.startsWith('/')) {
    return fail(CNI_ERRORS.invalidConfig, 'agentSocket must be an absolute path');
  }
  const timeout = config['agentTimeoutMs'] ?? DEFAULT_AGENT_TIMEOUT_MS;
  if (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout <= 0) {
    return fail(CNI_ERRORS.invalidConfig, 'agentTimeoutMs must be a positive whole number of milliseconds');
  }
  const exclude = config['excludeNamespaces'] ?? [];
  if (!Array.isArray(exclude) || !exclude.every((ns): ns is string => typeof ns === 'string')) {
    return fail(CNI_ERRORS.invalidConfig, 'excludeNamespaces must be a list of namespace names');
  }
  const prevResult = config['prevResult'];
  if (prevResult !== undefined && record(prevResult) === undefined) {
    return fail(CNI_ERRORS.invalidConfig, 'prevResult must be an object');
  }
  return {
    ok: true,
    value: {
      cniVersion,
      name: typeof config['name'] === 'string' ? config['name'] : '',
      type: typeof config['type'] === 'string' ? config['type'] : PLUGIN_TYPE,
      agentSocket,
      agentTimeoutMs: timeout,
      excludeNamespaces: exclude,
      prevResult: record(prevResult),
    },
  };
}

const COMMANDS: readonly CniCommand[] = ['ADD', 'DEL', 'CHECK', 'VERSION'];

/** The whole invocation; VERSION needs no config, the others need the spec's environment variables. */
export function parseInvocation(env: Readonly<Record<string, string | undefined>>, stdin: string): Parsed<CniInvocation> {
  const command = env['CNI_COMMAND'];
  if (command === undefined || !COMMANDS.includes(command as CniCommand)) {
    return fail(CNI_ERRORS.invalidEnvironment, `CNI_COMMAND "${command ?? ''}" is not one of ${COMMANDS.join(', ')}`);
  }
  const config = parsePluginConfig(stdin);
  if (!config.ok) return config;
  const containerId = env['CNI_CONTAINERID'] ?? '';
  const netns = env['CNI_NETNS'] ?? '';
  const ifName = env['CNI_IFNAME'] ?? '';
  if (command !== 'VERSION') {
    const missing = [
      containerId === '' ? 'CNI_CONTAINERID' : undefined,
      ifName === '' ? 'CNI_IFNAME' : undefined,
      // DEL may come after the netns is gone; ADD and CHECK need it.
      command !== 'DEL' && netns === '' ? 'CNI_NETNS' : undefined,
    ].filter((name): name is string => name !== undefined);
    if (missing.length > 0) return fail(CNI_ERRORS.invalidEnvironment, `missing ${missing.join(', ')}`);
    if (command === 'CHECK' && ['0.3.0', '0.3.1'].includes(config.value.cniVersion)) {
      return fail(CNI_ERRORS.incompatibleVersion, `CHECK needs cniVersion 0.4.0 or later, the config has ${config.value.cniVersion}`);
    }
  }
  return {
    ok: true,
    value: {
      command: command as CniCommand,
      containerId,
      netns,
      ifName,
      args: parseCniArgs(env['CNI_ARGS'] ?? ''),
      config: config.value,
    },
  };
}

/** The VERSION reply. */
export function versionReply(): string {
  return JSON.stringify({ cniVersion: '1.0.0', supportedVersions: SUPPORTED_CNI_VERSIONS });
}

/** The ADD reply of a chained plugin that changes nothing: prevResult, as the config's version. */
export function passThroughReply(config: WeftPluginConfig): string {
  return JSON.stringify({ ...(config.prevResult ?? {}), cniVersion: config.cniVersion });
}

export function errorReply(error: CniError, cniVersion = '1.0.0'): string {
  return JSON.stringify({ cniVersion, ...error });
}

/** The pod's IPs from prevResult (`ips[].address` as CIDR) for the agent. */
export function podAddresses(prevResult: Readonly<Record<string, unknown>> | undefined): string[] {
  const ips = prevResult?.['ips'];
  if (!Array.isArray(ips)) return [];
  return ips
    .map((entry) => record(entry)?.['address'])
    .filter((address): address is string => typeof address === 'string')
    .map((cidr) => cidr.split('/')[0] ?? cidr);
}

/** What the plugin POSTs to the agent's `/cmdadd`. */
export interface AgentAddRequest {
  readonly netns: string;
  readonly containerId: string;
  readonly podName: string;
  readonly podNamespace: string;
  readonly podUid: string;
  readonly ips: readonly string[];
}

/** The agent's 200 answer: whether the pod was enrolled. Any other status is a failure whose body says why. */
export interface AgentAddReply {
  readonly ambient: boolean;
  readonly message: string;
}

export type AddPlan =
  | { readonly kind: 'pass-through'; readonly reason: string }
  | { readonly kind: 'ask-agent'; readonly request: AgentAddRequest };

/** ADD: pods that are not Kubernetes pods or sit in an excluded namespace never wait for the agent. */
export function planAdd(invocation: CniInvocation): AddPlan {
  const podName = invocation.args['K8S_POD_NAME'] ?? '';
  const podNamespace = invocation.args['K8S_POD_NAMESPACE'] ?? '';
  if (podName === '' || podNamespace === '') return { kind: 'pass-through', reason: 'not a Kubernetes pod (no K8S_POD_NAME)' };
  if (invocation.config.excludeNamespaces.includes(podNamespace)) {
    return { kind: 'pass-through', reason: `namespace ${podNamespace} is excluded` };
  }
  return {
    kind: 'ask-agent',
    request: {
      netns: invocation.netns,
      containerId: invocation.containerId,
      podName,
      podNamespace,
      podUid: invocation.args['K8S_POD_UID'] ?? '',
      ips: podAddresses(invocation.config.prevResult),
    },
  };
}

export type AgentOutcome =
  | { readonly kind: 'reply'; readonly status: number; readonly body: string }
  | { readonly kind: 'unreachable'; readonly reason: string };

/**
 * ADD's answer from the agent's: 200 passes prevResult through; anything else fails the ADD so the runtime retries
 * and the pod never runs unredirected (istio's plugin does the same).
 */
export function addResult(config: WeftPluginConfig, request: AgentAddRequest, outcome: AgentOutcome): { ok: true; stdout: string } | { ok: false; stdout: string } {
  const pod = `${request.podNamespace}/${request.podName}`;
  if (outcome.kind === 'unreachable') {
    const error = { code: CNI_ERRORS.tryAgainLater, msg: `weft cni-node agent unreachable for pod ${pod}`, details: outcome.reason };
    return { ok: false, stdout: errorReply(error, config.cniVersion) };
  }
  if (outcome.status !== 200) {
    const error = { code: CNI_ERRORS.redirectionFailed, msg: `pod ${pod} is ambient but its traffic could not be redirected`, details: outcome.body.trim() };
    return { ok: false, stdout: errorReply(error, config.cniVersion) };
  }
  return { ok: true, stdout: passThroughReply(config) };
}
