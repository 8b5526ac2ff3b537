// Waypoint datapath benchmark: the built controlplane, two built ztunnels in loopback mode and the built waypoint run as
// child processes, with the app server (datapath-server.ts, HTTP mode) as another; the bench process is the client.
// HTTP/1.1 keep-alive request/response load over three paths measured in the same run: directly to the app, through
// ztunnel only (client → ztunnel A :15001 → HBONE → ztunnel B :15008 → app) and through the waypoint (client →
// ztunnel A → HBONE → waypoint :15008 → HBONE → ztunnel B → app). Every mesh figure is printed next to the direct one,
// and the waypoint's CPU next to its design target. Figures only: nothing passes or fails. See README.md.

import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';

import { benchMain, onCleanup, progress } from './bench-runtime';
import { freePorts, procMemory, workspaceRoot, type MemoryKb } from './controlplane-process';
import { destroyAllSockets, fixedRate, HttpConnection, maxRate, openHttp, type MaxRateResult, type RateResult, type Target } from './datapath-load';
import { REQUEST_BYTES, RESPONSE_BYTES } from './datapath-server';
import { mb, round1, table } from './report';
import {
  CpuWindow,
  ensureAppsBuilt,
  killDatapathBench,
  loopbackPodEntry,
  spawnChild,
  startBenchControlplane,
  startLoopbackZtunnel,
  waitFor,
  waitZtunnelReady,
  warningsIn,
  writeMeshFiles,
  xdsClientEnv,
  type Child,
  type LoopbackPod,
} from './ztunnel-process';

const USAGE = `Usage: node dist/waypoint-datapath.js [options]
  --rate N              offered request rate of the fixed-load runs, per second (default 1000)
  --rate-s N            duration of each fixed-load run, seconds (default 10)
  --rr-connections N    persistent HTTP/1.1 connections per path (default 32)
  --max-s N             duration of each closed-loop maximum-rate run, seconds (default 5)
  --log-level L         LOG_LEVEL of the ztunnels and the waypoint (default info, as deployed)
  --skip-build          do not rebuild controlplane/ztunnel/waypoint when their dist looks stale (only warn)
  --waypoint-node-args=A  extra node flags for the waypoint process, space-separated, e.g.
                        --waypoint-node-args="--cpu-prof --cpu-prof-dir=/tmp/prof" (written when the waypoint exits)
  --help
`;

/** The waypoint design target, printed next to the figure (see README.md). */
const TARGETS = { waypointCoresPer1000Rps: 0.25 } as const;

// Loopback addresses (127.0.10.x, as in the ztunnel bench; not 127.0.0.2/3, which the component tests use). Three client
// pods on node A because a loopback pod's 15001 stands for one destination: one for each Service.
const CLIENT_ZTUNNEL_POD: LoopbackPod = { uid: 'bench-client', name: 'client', serviceAccount: 'client', address: '127.0.10.2', node: 'node-a' };
const CLIENT_WAYPOINT_POD: LoopbackPod = { uid: 'bench-client-wp', name: 'client-wp', serviceAccount: 'client', address: '127.0.10.5', node: 'node-a' };
const CLIENT_WAYPOINT_TCP_POD: LoopbackPod = { uid: 'bench-client-wp-tcp', name: 'client-wp-tcp', serviceAccount: 'client', address: '127.0.10.6', node: 'node-a' };
const SERVER_POD: LoopbackPod = { uid: 'bench-server', name: 'server', serviceAccount: 'server', address: '127.0.10.3', node: 'node-b' };
const WAYPOINT_POD = { uid: 'bench-waypoint', name: 'waypoint-0', serviceAccount: 'waypoint', address: '127.0.10.4', node: 'node-b' } as const;
const GATEWAY_NAME = 'waypoint';
const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';
/** Service without a waypoint: the "ztunnel only" path. */
const ZTUNNEL_SERVICE = { name: 'server-ztunnel', vip: '10.96.10.80' } as const;
/** The same backend, bound to the waypoint with `istio.io/use-waypoint`. */
const WAYPOINT_SERVICE = { name: 'server-waypoint', vip: '10.96.10.81' } as const;
/**
 * The same backend bound to the waypoint on a port named `tcp`: the waypoint passes the connection through without
 * HTTP, so this path costs the waypoint its two HBONE legs and nothing else.
 */
const WAYPOINT_TCP_SERVICE = { name: 'server-waypoint-tcp', vip: '10.96.10.82' } as const;
const WAYPOINT_SERVICE_VIP = '10.96.10.15';
const SERVICE_PORT = 80;
const APP_PORT = 8080;
const HBONE_PORT = 15008;
const TOKENS = { 'node-a': 'bench-ztunnel-node-a-token-0123456789abcdef0123456789', 'node-b': 'bench-ztunnel-node-b-token-0123456789abcdef0123456789' } as const;

const hostname = (service: string): string => `${service}.default.svc.cluster.local`;

interface Options {
  readonly rate: number;
  readonly rateSeconds: number;
  readonly rrConnections: number;
  readonly maxSeconds: number;
  readonly logLevel: string;
  readonly skipBuild: boolean;
  /** Node flags put before the waypoint's script, for profiling it under the bench's load. */
  readonly waypointNodeArgs: readonly string[];
}

function parseOptions(argv: readonly string[]): Options | undefined {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      rate: { type: 'string' },
      'rate-s': { type: 'string' },
      'rr-connections': { type: 'string' },
      'max-s': { type: 'string' },
      'log-level': { type: 'string' },
      'skip-build': { type: 'boolean' },
      'waypoint-node-args': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help === true) return undefined;
  const num = (name: string, raw: string | undefined, fallback: number, min: number): number => {
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min) throw new Error(`--${name} must be a number >= ${min}, got ${raw}`);
    return value;
  };
  const logLevel = values['log-level'] ?? 'info';
  if (!['trace', 'debug', 'info', 'warn', 'error'].includes(logLevel)) throw new Error(`--log-level: unknown level ${logLevel}`);
  return {
    rate: num('rate', values.rate, 1000, 1),
    rateSeconds: num('rate-s', values['rate-s'], 10, 1),
    rrConnections: Math.round(num('rr-connections', values['rr-connections'], 32, 1)),
    maxSeconds: num('max-s', values['max-s'], 5, 1),
    logLevel,
    skipBuild: values['skip-build'] === true,
    waypointNodeArgs: (values['waypoint-node-args'] ?? '').split(' ').filter((arg) => arg !== ''),
  };
}

let tempDir: string | undefined;

// ---- the mesh ----

function podObject(pod: LoopbackPod, labels: Record<string, string>, annotations: Record<string, string>): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: pod.name, namespace: 'default', uid: pod.uid, labels, annotations },
    spec: { nodeName: pod.node, serviceAccountName: pod.serviceAccount, containers: [{ name: 'app', ports: [{ name: 'http', containerPort: APP_PORT }] }] },
    status: { phase: 'Running', podIP: pod.address, podIPs: [{ ip: pod.address }], conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

const captured = { 'ambient.istio.io/redirection': 'enabled' };

function appService(service: { readonly name: string; readonly vip: string }, labels: Record<string, string>, portName = 'http'): object {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: service.name, namespace: 'default', labels },
    spec: { clusterIP: service.vip, clusterIPs: [service.vip], selector: { app: 'server' }, ports: [{ name: portName, port: SERVICE_PORT, targetPort: APP_PORT }] },
  };
}

/**
 * What a cluster would hold after `istioctl waypoint apply` and the gateway controller's deployment (labels as in
 * libs/mesh-config/src/waypoint-deployment.ts), with the waypoint pod at a loopback address: the waypoint is not
 * captured (`istio.io/dataplane-mode: none`) and listens itself on 127.0.10.4:15008.
 */
const MANIFESTS: readonly object[] = [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default', labels: { 'istio.io/dataplane-mode': 'ambient' } } },
  podObject(CLIENT_ZTUNNEL_POD, { app: 'client' }, captured),
  podObject(CLIENT_WAYPOINT_POD, { app: 'client' }, captured),
  podObject(CLIENT_WAYPOINT_TCP_POD, { app: 'client' }, captured),
  podObject(SERVER_POD, { app: 'server' }, captured),
  {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name: GATEWAY_NAME, namespace: 'default', labels: { 'istio.io/waypoint-for': 'service' } },
    spec: { gatewayClassName: 'istio-waypoint', listeners: [{ name: 'mesh', port: HBONE_PORT, protocol: 'HBONE' }] },
  },
  {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: WAYPOINT_POD.name,
      namespace: 'default',
      uid: WAYPOINT_POD.uid,
      labels: {
        [GATEWAY_NAME_LABEL]: GATEWAY_NAME,
        'gateway.istio.io/managed': 'istio.io-mesh-controller',
        'istio.io/dataplane-mode': 'none',
        'sidecar.istio.io/inject': 'false',
        'service.istio.io/canonical-name': GATEWAY_NAME,
        'service.istio.io/canonical-revision': 'latest',
      },
    },
    spec: {
      nodeName: WAYPOINT_POD.node,
      serviceAccountName: WAYPOINT_POD.serviceAccount,
      containers: [{ name: 'istio-proxy', ports: [{ name: 'status-port', containerPort: 15021 }, { name: 'mesh', containerPort: HBONE_PORT }] }],
    },
    status: { phase: 'Running', podIP: WAYPOINT_POD.address, podIPs: [{ ip: WAYPOINT_POD.address }], conditions: [{ type: 'Ready', status: 'True' }] },
  },
  {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: GATEWAY_NAME, namespace: 'default', labels: { [GATEWAY_NAME_LABEL]: GATEWAY_NAME, 'gateway.istio.io/managed': 'istio.io-mesh-controller' } },
    spec: {
      clusterIP: WAYPOINT_SERVICE_VIP,
      clusterIPs: [WAYPOINT_SERVICE_VIP],
      selector: { [GATEWAY_NAME_LABEL]: GATEWAY_NAME },
      ports: [
        { name: 'status-port', port: 15021, protocol: 'TCP', appProtocol: 'tcp' },
        { name: 'mesh', port: HBONE_PORT, protocol: 'TCP', appProtocol: 'all' },
      ],
    },
  },
  appService(ZTUNNEL_SERVICE, {}),
  appService(WAYPOINT_SERVICE, { 'istio.io/use-waypoint': GATEWAY_NAME }),
  appService(WAYPOINT_TCP_SERVICE, { 'istio.io/use-waypoint': GATEWAY_NAME }, 'tcp'),
];

interface WaypointChild extends Child {
  readonly ports: { readonly admin: number; readonly stats: number; readonly readiness: number };
}

// ---- the measurements ----

type PathName = 'direct' | 'ztunnel' | 'waypoint' | 'waypointTcp';
const PATHS: readonly PathName[] = ['direct', 'ztunnel', 'waypoint', 'waypointTcp'];
const PATH_LABELS: Readonly<Record<PathName, string>> = { direct: 'direct', ztunnel: 'ztunnel only', waypoint: 'through waypoint', waypointTcp: 'waypoint, TCP port' };

interface PathFigures {
  readonly fixed: RateResult;
  readonly fixedCores: Record<string, number>;
  /** Of `fixedCores`, the system time: the kernel's share (syscalls, TCP/IP on loopback, waking the other processes). */
  readonly fixedKernelCores: Record<string, number>;
  /** Responses other than 200 during the run (and the last status line seen), counted in rps and latency too. */
  readonly fixedFailed: Failures;
  readonly max: MaxRateResult;
  readonly maxCores: Record<string, number>;
  readonly maxFailed: Failures;
}

interface Failures {
  readonly count: number;
  readonly last: string;
}

/** Non-200 responses on `connections` since `before` (a {@link failedSoFar} taken at the start of the run). */
function failedSoFar(connections: readonly HttpConnection[]): number {
  return connections.reduce((sum, c) => sum + c.failed, 0);
}

function failuresSince(connections: readonly HttpConnection[], before: number): Failures {
  return { count: failedSoFar(connections) - before, last: connections.map((c) => c.lastFailure).find((line) => line !== '') ?? '' };
}

async function run(options: Options): Promise<void> {
  const root = workspaceRoot(__dirname);
  ensureAppsBuilt(root, ['controlplane', 'ztunnel', 'waypoint'], options.skipBuild);

  const runStart = performance.now();
  const dir = mkdtempSync(path.join(tmpdir(), 'weft-bench-waypoint-'));
  tempDir = dir;
  onCleanup('remove temp dir', () => {
    rmSync(dir, { recursive: true, force: true });
    tempDir = undefined;
  });
  const manifests = await writeMeshFiles(dir, MANIFESTS, TOKENS);

  const [xdsPlaintext, xdsTls, monitoringPort, ...childPorts] = await freePorts(12);
  if (xdsPlaintext === undefined || xdsTls === undefined || monitoringPort === undefined || childPorts.length !== 9) throw new Error('no free ports');

  // 1. The controlplane.
  const controlplane = await startBenchControlplane(root, dir, manifests, { xdsPlaintext, xdsTls, monitoring: monitoringPort });
  progress(`controlplane ready, pid ${controlplane.pid}`);

  // 2. The app server (HTTP/1.1).
  const server = spawnChild('app server', process.execPath, [path.join(__dirname, 'datapath-server.js'), SERVER_POD.address, String(APP_PORT), 'http'], {}, path.join(dir, 'server.log'));
  onCleanup('stop the app server', () => server.stop(1_000));
  await waitFor('the app server', server, 10_000, async () => server.tail().includes('listening'));

  // 3. The ztunnels: A holds both client pods, B the server pod.
  const vipTarget = (vip: string): string => `${vip}:${SERVICE_PORT}`;
  const a = startLoopbackZtunnel({
    root,
    dir,
    xdsTls,
    node: 'node-a',
    pods: [
      loopbackPodEntry(CLIENT_ZTUNNEL_POD, vipTarget(ZTUNNEL_SERVICE.vip)),
      loopbackPodEntry(CLIENT_WAYPOINT_POD, vipTarget(WAYPOINT_SERVICE.vip)),
      loopbackPodEntry(CLIENT_WAYPOINT_TCP_POD, vipTarget(WAYPOINT_TCP_SERVICE.vip)),
    ].join(';'),
    ports: childPorts.slice(0, 3),
    logLevel: options.logLevel,
  });
  const b = startLoopbackZtunnel({ root, dir, xdsTls, node: 'node-b', pods: loopbackPodEntry(SERVER_POD, `${SERVER_POD.address}:${APP_PORT}`), ports: childPorts.slice(3, 6), logLevel: options.logLevel });

  // 4. The waypoint, on node B's bootstrap token (the CA lets a node's token impersonate a pod on that node).
  const [admin = 0, stats = 0, readiness = 0] = childPorts.slice(6, 9);
  const waypoint: WaypointChild = Object.assign(
    spawnChild(
      'waypoint',
      process.execPath,
      [...options.waypointNodeArgs, path.join(root, 'apps/waypoint/dist/main.js')],
      {
        POD_NAME: WAYPOINT_POD.name,
        POD_NAMESPACE: 'default',
        SERVICE_ACCOUNT: WAYPOINT_POD.serviceAccount,
        GATEWAY_NAME,
        INSTANCE_IP: WAYPOINT_POD.address,
        NODE_NAME: WAYPOINT_POD.node,
        ...xdsClientEnv(dir, xdsTls, WAYPOINT_POD.node),
        WEFT_IMPERSONATE: 'true',
        WEFT_LISTEN_ADDRESS: WAYPOINT_POD.address,
        HBONE_PORT: String(HBONE_PORT),
        ADMIN_PORT: String(admin),
        STATS_PORT: String(stats),
        READINESS_PORT: String(readiness),
        WEFT_DRAIN_DEADLINE_MS: '500',
        LOG_LEVEL: options.logLevel,
      },
      path.join(dir, 'waypoint.log'),
    ),
    { ports: { admin, stats, readiness } },
  );
  onCleanup('stop the waypoint', () => waypoint.stop(3_000));

  for (const z of [a, b]) await waitZtunnelReady(z);
  await waitFor('waypoint ready', waypoint, 30_000, async () => (await fetch(`http://${WAYPOINT_POD.address}:${readiness}/healthz/ready`)).ok);

  const targets: Readonly<Record<PathName, { readonly target: Target; readonly host: string }>> = {
    direct: { target: { host: SERVER_POD.address, port: APP_PORT }, host: hostname(ZTUNNEL_SERVICE.name) },
    ztunnel: { target: { host: CLIENT_ZTUNNEL_POD.address, port: 15001 }, host: hostname(ZTUNNEL_SERVICE.name) },
    waypoint: { target: { host: CLIENT_WAYPOINT_POD.address, port: 15001 }, host: hostname(WAYPOINT_SERVICE.name) },
    waypointTcp: { target: { host: CLIENT_WAYPOINT_TCP_POD.address, port: 15001 }, host: hostname(WAYPOINT_TCP_SERVICE.name) },
  };
  // A first request on each path; the waypoint path needs ztunnel A to know the binding and the waypoint its service.
  for (const name of PATHS) {
    const { target, host } = targets[name];
    let lastError = '';
    await waitFor(`a first request ${PATH_LABELS[name]}`, name === 'waypoint' || name === 'waypointTcp' ? waypoint : a, 30_000, async () => {
      const connection = await HttpConnection.open(target, host);
      try {
        await connection.request();
        lastError = connection.lastFailure;
        return connection.failed === 0;
      } catch (cause) {
        lastError = String(cause);
        return false;
      } finally {
        connection.close();
      }
    }).catch((cause: unknown) => {
      throw new Error(`${String(cause)}\nlast request error: ${lastError}`);
    });
  }
  progress(`ztunnels (A pid ${a.pid}, B pid ${b.pid}), waypoint (pid ${waypoint.pid}) and app server (pid ${server.pid}) ready; all four paths work`);
  const pids = { a: a.pid, b: b.pid, waypoint: waypoint.pid, server: server.pid, bench: 'self' as const };
  const alive = (): void => {
    for (const child of [a, b, waypoint, server]) {
      const status = child.exitStatus();
      if (status !== undefined) throw new Error(`${child.name} exited (${status}):\n${child.tail()}`);
    }
  };
  /** A failed request says where: the warnings the mesh logged and the waypoint's last lines (the temp dir goes). */
  const explained = async <T>(what: string, measure: () => Promise<T>): Promise<T> => {
    try {
      return await measure();
    } catch (cause) {
      const warnings = [...new Set([a, b, waypoint].flatMap((child) => warningsIn(child)))].slice(0, 10);
      throw new Error(`${what}: ${String(cause)}\nwarnings logged: ${warnings.join(' | ') || 'none'}\nwaypoint log:\n${waypoint.tail(10)}`, { cause });
    }
  };

  // 5. Persistent connections per path, a closed-loop warm-up of each, then the fixed-rate runs and the maximum-rate
  //    runs, each over the four paths in turn.
  const connections = {} as Record<PathName, HttpConnection[]>;
  for (const name of PATHS) connections[name] = await openHttp(targets[name].target, options.rrConnections, targets[name].host);
  onCleanup('close request/response connections', () => {
    for (const name of PATHS) for (const c of connections[name]) c.close();
  });
  for (const name of PATHS) await explained(`warm-up ${PATH_LABELS[name]}`, () => maxRate(connections[name], 0, 1_000));
  alive();

  const timeoutMs = options.rateSeconds * 1000 + 60_000;
  const fixed = {} as Record<PathName, { result: RateResult; cores: Record<string, number>; kernelCores: Record<string, number>; failed: Failures }>;
  for (const name of PATHS) {
    const before = failedSoFar(connections[name]);
    const window = new CpuWindow(pids);
    const result = await explained(`fixed rate ${PATH_LABELS[name]}`, () => fixedRate(connections[name], options.rate, options.rateSeconds, timeoutMs));
    const cores = window.cores();
    const failed = failuresSince(connections[name], before);
    fixed[name] = { result, cores, kernelCores: window.kernelCores(), failed };
    progress(
      `fixed ${options.rate} rps ${PATH_LABELS[name]}: achieved ${round1(result.achieved)}, p50 ${round1(result.p50Ms)} ms, p99 ${round1(result.p99Ms)} ms, ` +
        `${failed.count} non-200${failed.count > 0 ? ` (${failed.last})` : ''}; ` +
        `cores A ${(cores['a'] ?? 0).toFixed(3)}, waypoint ${(cores['waypoint'] ?? 0).toFixed(3)}, B ${(cores['b'] ?? 0).toFixed(3)}`,
    );
    alive();
  }
  const max = {} as Record<PathName, { result: MaxRateResult; cores: Record<string, number>; failed: Failures }>;
  for (const name of PATHS) {
    const before = failedSoFar(connections[name]);
    const window = new CpuWindow(pids);
    const result = await explained(`max rate ${PATH_LABELS[name]}`, () => maxRate(connections[name], 500, options.maxSeconds * 1000));
    const failed = failuresSince(connections[name], before);
    max[name] = { result, cores: window.cores(), failed };
    progress(`max rate ${PATH_LABELS[name]}: ${round1(result.rps)} rps, ${failed.count} non-200${failed.count > 0 ? ` (${failed.last})` : ''}`);
    alive();
  }

  const figures = Object.fromEntries(
    PATHS.map((name) => [
      name,
      {
        fixed: fixed[name].result,
        fixedCores: fixed[name].cores,
        fixedKernelCores: fixed[name].kernelCores,
        fixedFailed: fixed[name].failed,
        max: max[name].result,
        maxCores: max[name].cores,
        maxFailed: max[name].failed,
      },
    ]),
  ) as Record<PathName, PathFigures>;
  printReport({
    options,
    figures,
    memory: { waypoint: procMemory(waypoint.pid), a: procMemory(a.pid), b: procMemory(b.pid), controlplane: controlplane.memory() },
    warnings: [...new Set([a, b, waypoint].flatMap((child) => warningsIn(child)))],
    runMs: performance.now() - runStart,
  });
}

// ---- the report ----

interface ReportInput {
  readonly options: Options;
  readonly figures: Readonly<Record<PathName, PathFigures>>;
  readonly memory: { readonly waypoint: MemoryKb; readonly a: MemoryKb; readonly b: MemoryKb; readonly controlplane: MemoryKb };
  /** Distinct messages the ztunnels and the waypoint logged at warn or above. */
  readonly warnings: readonly string[];
  readonly runMs: number;
}

const ratio = (value: number, base: number | undefined): number | undefined => (base === undefined || !(base > 0) ? undefined : value / base);
const times = (value: number | undefined): string => (value === undefined || Number.isNaN(value) ? 'n/a' : `${value.toFixed(2)}x`);
const cores = (value: number | undefined): string => (value === undefined ? '-' : value.toFixed(3));
const ms = (value: number): string => value.toFixed(2);
const r3 = (value: number | undefined): number | null => (value === undefined || Number.isNaN(value) ? null : Math.round(value * 1000) / 1000);

function printReport(input: ReportInput): void {
  const { options, figures, memory } = input;
  const direct = figures.direct;
  const wp = figures.waypoint;
  /** Waypoint cores during the fixed-rate run, scaled to 1000 achieved rps. */
  const waypointPer1000 = (wp.fixedCores['waypoint'] ?? NaN) * (1000 / wp.fixed.achieved);
  /** The same at the closed-loop maximum: less sensitive to other load on the host than the fixed-rate figure. */
  const waypointPer1000AtMax = (wp.maxCores['waypoint'] ?? NaN) * (1000 / wp.max.rps);
  /** The waypoint's cost without HTTP (a TCP port: its two HBONE legs), at the fixed rate. */
  const tcp = figures.waypointTcp;
  const tcpPer1000 = (tcp.fixedCores['waypoint'] ?? NaN) * (1000 / tcp.fixed.achieved);
  const tcpPer1000AtMax = (tcp.maxCores['waypoint'] ?? NaN) * (1000 / tcp.max.rps);
  /** The kernel's part of the two fixed-rate figures above (system time). */
  const kernelPer1000 = (wp.fixedKernelCores['waypoint'] ?? NaN) * (1000 / wp.fixed.achieved);
  const tcpKernelPer1000 = (tcp.fixedKernelCores['waypoint'] ?? NaN) * (1000 / tcp.fixed.achieved);
  /** The columns of the comparison with direct, in the order of its header. */
  const meshPaths = [figures.ztunnel, wp, tcp];
  const coreColumns = (c: Record<string, number>): string[] => [cores(c['a']), cores(c['waypoint']), cores(c['b']), cores(c['server']), cores(c['bench'])];
  const out: string[] = [];
  out.push(
    '',
    'waypoint datapath benchmark: HTTP/1.1 keep-alive request/response over four paths, in the same run:',
    '  direct              client -> app',
    '  ztunnel only        client -> ztunnel A :15001 -> HBONE -> ztunnel B :15008 -> app',
    '  through waypoint    client -> ztunnel A :15001 -> HBONE -> waypoint :15008 -> HBONE -> ztunnel B :15008 -> app',
    '  waypoint, TCP port  the same hops to a port named tcp: the waypoint passes bytes through without HTTP',
    'Controlplane, both ztunnels (loopback mode), the waypoint and the app are child processes; the bench process is the',
    `client. Host: ${cpus().length} CPUs, node ${process.version}, ztunnel/waypoint LOG_LEVEL=${options.logLevel}.`,
    '',
    `Request/response: POST with ${REQUEST_BYTES / 1024} KiB body -> 200 with ${RESPONSE_BYTES / 1024} KiB body, ${options.rrConnections} persistent connections per path (cores = CPU time / wall time)`,
    table(
      ['run', 'rps', 'non-200', 'p50 ms', 'p99 ms', 'max ms', 'ztunnel A cores', 'waypoint cores', 'ztunnel B cores', 'app cores', 'client cores'],
      [
        ...PATHS.map((name) => {
          const f = figures[name].fixed;
          return [`fixed ${options.rate} rps, ${options.rateSeconds} s, ${PATH_LABELS[name]}`, round1(f.achieved), String(figures[name].fixedFailed.count), ms(f.p50Ms), ms(f.p99Ms), ms(f.maxMs), ...coreColumns(figures[name].fixedCores)];
        }),
        ...PATHS.map((name) => [`max rate (closed loop), ${options.maxSeconds} s, ${PATH_LABELS[name]}`, round1(figures[name].max.rps), String(figures[name].maxFailed.count), '', '', '', ...coreColumns(figures[name].maxCores)]),
      ],
    ),
    '',
    'Against direct (same run)',
    table(
      ['measure', 'ztunnel only', 'through waypoint', 'waypoint, TCP port'],
      [
        ['max request rate / direct', ...meshPaths.map((f) => times(ratio(f.max.rps, direct.max.rps)))],
        [`p50 latency at ${options.rate} rps / direct`, ...meshPaths.map((f) => times(ratio(f.fixed.p50Ms, direct.fixed.p50Ms)))],
        [`p99 latency at ${options.rate} rps / direct`, ...meshPaths.map((f) => times(ratio(f.fixed.p99Ms, direct.fixed.p99Ms)))],
        [`p50 latency added at ${options.rate} rps, ms`, ...meshPaths.map((f) => ms(f.fixed.p50Ms - direct.fixed.p50Ms))],
      ],
    ),
    '',
    'Against the design target (figures only; nothing fails on it)',
    table(
      ['measure', 'figure', 'target'],
      [
        [`waypoint cores at ${options.rate} rps offered (${round1(wp.fixed.achieved)} achieved)`, cores(wp.fixedCores['waypoint']), '-'],
        ['waypoint cores per 1000 rps', cores(waypointPer1000), `<= ${TARGETS.waypointCoresPer1000Rps}`],
        ['  of which in the kernel (system time)', cores(kernelPer1000), '-'],
        [`waypoint cores per 1000 rps at max rate (${round1(wp.max.rps)} rps)`, cores(waypointPer1000AtMax), '-'],
        ['of which the HBONE legs: waypoint cores per 1000 rps on the TCP port', cores(tcpPer1000), '-'],
        ['  of which in the kernel (system time)', cores(tcpKernelPer1000), '-'],
        [`the same at max rate (${round1(tcp.max.rps)} rps)`, cores(tcpPer1000AtMax), '-'],
      ],
    ),
    '',
    `Memory at the end (MB, VmRSS / peak VmHWM): waypoint ${mb(memory.waypoint.rssKb)} / ${mb(memory.waypoint.hwmKb)}, ztunnel A ${mb(memory.a.rssKb)} / ${mb(memory.a.hwmKb)}, ` +
      `ztunnel B ${mb(memory.b.rssKb)} / ${mb(memory.b.hwmKb)}, controlplane ${mb(memory.controlplane.rssKb)} / ${mb(memory.controlplane.hwmKb)}.`,
    `Run time (after any build): ${round1(input.runMs / 1000)} s.`,
  );
  const failures = PATHS.flatMap((name) => [figures[name].fixedFailed, figures[name].maxFailed].filter((f) => f.count > 0).map((f) => `${PATH_LABELS[name]}: ${f.count} x "${f.last}"`));
  if (failures.length > 0) out.push(`Non-200 responses (counted in rps and latency above): ${failures.join('; ')}.`);
  out.push(input.warnings.length === 0 ? 'ztunnel/waypoint warnings/errors logged: none.' : `ztunnel/waypoint warnings/errors logged (distinct): ${input.warnings.slice(0, 10).join(' | ')}`);

  const rateJson = (f: PathFigures): object => ({
    rps: round1(f.fixed.achieved),
    non200: f.fixedFailed.count,
    p50Ms: r3(f.fixed.p50Ms),
    p99Ms: r3(f.fixed.p99Ms),
    maxMs: r3(f.fixed.maxMs),
    coresA: r3(f.fixedCores['a']),
    coresWaypoint: r3(f.fixedCores['waypoint']),
    coresB: r3(f.fixedCores['b']),
  });
  const json = {
    bench: 'waypoint-datapath',
    host: { cpus: cpus().length, node: process.version },
    options: { rate: options.rate, rateS: options.rateSeconds, rrConnections: options.rrConnections, maxS: options.maxSeconds, logLevel: options.logLevel },
    requestResponse: {
      fixed: { offeredRps: options.rate, direct: rateJson(direct), ztunnel: rateJson(figures.ztunnel), waypoint: rateJson(wp), waypointTcp: rateJson(tcp) },
      max: {
        directRps: round1(direct.max.rps),
        ztunnelRps: round1(figures.ztunnel.max.rps),
        waypointRps: round1(wp.max.rps),
        waypointTcpRps: round1(tcp.max.rps),
        ztunnelVsDirect: r3(ratio(figures.ztunnel.max.rps, direct.max.rps)),
        waypointVsDirect: r3(ratio(wp.max.rps, direct.max.rps)),
        non200: { direct: direct.maxFailed.count, ztunnel: figures.ztunnel.maxFailed.count, waypoint: wp.maxFailed.count, waypointTcp: tcp.maxFailed.count },
      },
      latencyVsDirect: {
        ztunnelP50: r3(ratio(figures.ztunnel.fixed.p50Ms, direct.fixed.p50Ms)),
        ztunnelP99: r3(ratio(figures.ztunnel.fixed.p99Ms, direct.fixed.p99Ms)),
        waypointP50: r3(ratio(wp.fixed.p50Ms, direct.fixed.p50Ms)),
        waypointP99: r3(ratio(wp.fixed.p99Ms, direct.fixed.p99Ms)),
      },
    },
    waypointCores: {
      atRps: round1(wp.fixed.achieved),
      cores: r3(wp.fixedCores['waypoint']),
      per1000Rps: r3(waypointPer1000),
      kernelPer1000Rps: r3(kernelPer1000),
      atMax: { rps: round1(wp.max.rps), cores: r3(wp.maxCores['waypoint']), per1000Rps: r3(waypointPer1000AtMax) },
      tcpPort: { per1000Rps: r3(tcpPer1000), kernelPer1000Rps: r3(tcpKernelPer1000), atMax: { rps: round1(tcp.max.rps), per1000Rps: r3(tcpPer1000AtMax) } },
    },
    memoryMb: { waypoint: mb(memory.waypoint.rssKb), waypointPeak: mb(memory.waypoint.hwmKb), peakA: mb(memory.a.hwmKb), peakB: mb(memory.b.hwmKb) },
    targets: TARGETS,
    runS: round1(input.runMs / 1000),
  };
  out.push('', JSON.stringify(json), '');
  process.stdout.write(out.join('\n'));
}

void benchMain({
  parse: parseOptions,
  usage: USAGE,
  run,
  beforeCleanup: destroyAllSockets,
  lastResort: () => killDatapathBench(tempDir),
});
