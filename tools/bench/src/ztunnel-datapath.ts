// ztunnel datapath benchmark: the built controlplane and two built ztunnels in loopback mode run as child processes,
// with the app server (datapath-server.ts) as another; the bench process is the client. Every figure through the
// mesh (client → ztunnel A :15001 → HBONE → ztunnel B :15008 → server) is printed next to the same measure taken
// directly (client → server) in the same run, and bulk next to a loopback iperf3 when one is installed. Figures only:
// the design targets are printed alongside, nothing passes or fails. See README.md for how to read them.

import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type * as net from 'node:net';
import { cpus, tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';

import { freePorts, procMemory, workspaceRoot, type MemoryKb } from './controlplane-process';
import {
  bulk,
  destroyAllSockets,
  fixedRate,
  maxRate,
  openIdle,
  openIdleMany,
  openRr,
  type BulkResult,
  type MaxRateResult,
  type RateResult,
  type RrConnection,
  type Target,
} from './datapath-load';
import { benchMain, onCleanup, progress, sleep } from './bench-runtime';
import { mb, round1, table } from './report';
import {
  CpuWindow,
  ensureAppsBuilt,
  getJson,
  killDatapathBench,
  loopbackPodEntry,
  onPath,
  spawnChild,
  startBenchControlplane,
  startLoopbackZtunnel,
  waitFor,
  waitZtunnelReady,
  warningsIn,
  writeMeshFiles,
  type LoopbackPod,
  type ZtunnelDebug,
} from './ztunnel-process';

const USAGE = `Usage: node dist/ztunnel-datapath.js [options]
  --bulk-mib N          bytes per bulk run, MiB, shared by its streams (default 1024)
  --bulk-cap-s N        a bulk run stops writing after this many seconds (default 20)
  --rate N              offered request rate of the fixed-load run, per second (default 1000)
  --rate-s N            duration of each fixed-load run, seconds (default 10)
  --rr-connections N    persistent connections for request/response runs (default 32)
  --max-s N             duration of each closed-loop maximum-rate run, seconds (default 5)
  --idle N              idle connections opened through the mesh for the memory figure (default 1000)
  --log-level L         the ztunnels' LOG_LEVEL (default info, as deployed)
  --skip-build          do not rebuild controlplane/ztunnel when their dist looks stale (only warn)
  --help
`;

/** The datapath design targets, printed next to the figures (see README.md). */
const TARGETS = { httpRateVsDirect: 0.5, coresPerSideAt1000: 0.06, bulkVsIperf3: 0.15 } as const;

// Loopback addresses of the two pods (not 127.0.0.2/3, which the component tests use).
const CLIENT_POD: LoopbackPod = { uid: 'bench-client', name: 'client', serviceAccount: 'client', address: '127.0.10.2', node: 'node-a' } as const;
const SERVER_POD: LoopbackPod = { uid: 'bench-server', name: 'server', serviceAccount: 'server', address: '127.0.10.3', node: 'node-b' } as const;
const SERVICE_VIP = '10.96.10.80';
const APP_PORT = 8080;
const TOKENS = { 'node-a': 'bench-ztunnel-node-a-token-0123456789abcdef0123456789', 'node-b': 'bench-ztunnel-node-b-token-0123456789abcdef0123456789' } as const;

interface Options {
  readonly bulkBytes: number;
  readonly bulkCapMs: number;
  readonly rate: number;
  readonly rateSeconds: number;
  readonly rrConnections: number;
  readonly maxSeconds: number;
  readonly idle: number;
  readonly logLevel: string;
  readonly skipBuild: boolean;
}

function parseOptions(argv: readonly string[]): Options | undefined {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      'bulk-mib': { type: 'string' },
      'bulk-cap-s': { type: 'string' },
      rate: { type: 'string' },
      'rate-s': { type: 'string' },
      'rr-connections': { type: 'string' },
      'max-s': { type: 'string' },
      idle: { type: 'string' },
      'log-level': { type: 'string' },
      'skip-build': { type: 'boolean' },
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
    bulkBytes: Math.round(num('bulk-mib', values['bulk-mib'], 1024, 1) * 1024 * 1024),
    bulkCapMs: num('bulk-cap-s', values['bulk-cap-s'], 20, 1) * 1000,
    rate: num('rate', values.rate, 1000, 1),
    rateSeconds: num('rate-s', values['rate-s'], 10, 1),
    rrConnections: Math.round(num('rr-connections', values['rr-connections'], 32, 1)),
    maxSeconds: num('max-s', values['max-s'], 5, 1),
    idle: Math.round(num('idle', values.idle, 1000, 1)),
    logLevel,
    skipBuild: values['skip-build'] === true,
  };
}

let tempDir: string | undefined;

// ---- the mesh ----

function podObject(pod: LoopbackPod, labels: Record<string, string>): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: pod.name, namespace: 'default', uid: pod.uid, labels, annotations: { 'ambient.istio.io/redirection': 'enabled' } },
    spec: { nodeName: pod.node, serviceAccountName: pod.serviceAccount, containers: [{ name: 'app', ports: [{ name: 'tcp', containerPort: APP_PORT }] }] },
    status: { phase: 'Running', podIP: pod.address, podIPs: [{ ip: pod.address }], conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

const MANIFESTS = [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default', labels: { 'istio.io/dataplane-mode': 'ambient' } } },
  podObject(CLIENT_POD, { app: 'client' }),
  podObject(SERVER_POD, { app: 'server' }),
  {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'server', namespace: 'default' },
    spec: { clusterIP: SERVICE_VIP, clusterIPs: [SERVICE_VIP], selector: { app: 'server' }, ports: [{ name: 'tcp', port: 80, targetPort: APP_PORT }] },
  },
];

// ---- the measurements ----

interface BulkRow {
  readonly streams: number;
  readonly direct: BulkResult;
  readonly mesh: BulkResult;
  readonly meshCores: Record<string, number>;
  readonly iperf3MbPerSecond: number | undefined;
}

interface RateRow {
  readonly direct: RateResult;
  readonly directCores: Record<string, number>;
  readonly mesh: RateResult;
  readonly meshCores: Record<string, number>;
}

interface MaxRow {
  readonly direct: MaxRateResult;
  readonly mesh: MaxRateResult;
  readonly meshCores: Record<string, number>;
}

interface MemoryFigures {
  readonly idle: { readonly a: MemoryKb; readonly b: MemoryKb };
  readonly withIdle: { readonly a: MemoryKb; readonly b: MemoryKb };
  readonly opened: number;
  readonly openMs: number;
  readonly end: { readonly a: MemoryKb; readonly b: MemoryKb };
  readonly controlplane: MemoryKb;
}

async function iperf3(binary: string, dir: string, streams: number, bytes: number, port: number): Promise<number> {
  const server = spawnChild(`iperf3 server`, binary, ['-s', '-1', '-B', '127.0.0.1', '-p', String(port)], {}, path.join(dir, `iperf3-server-${streams}.log`));
  onCleanup(`stop iperf3 server (${streams})`, () => server.stop(1_000));
  await sleep(300);
  const output = path.join(dir, `iperf3-client-${streams}.json`);
  const client = spawnChild(`iperf3 client`, binary, ['-c', '127.0.0.1', '-p', String(port), '-n', String(bytes), '-P', String(streams), '-J'], {}, output);
  onCleanup(`stop iperf3 client (${streams})`, () => client.stop(1_000));
  const status = await client.exited;
  await server.stop(1_000);
  const report = JSON.parse(await readFile(output, 'utf8')) as { end?: { sum_received?: { bits_per_second?: number } } };
  const bps = report.end?.sum_received?.bits_per_second;
  if (bps === undefined) throw new Error(`iperf3 (${status}) reported no throughput`);
  return bps / 8 / 1e6;
}

async function run(options: Options): Promise<void> {
  const root = workspaceRoot(__dirname);
  ensureAppsBuilt(root, ['controlplane', 'ztunnel'], options.skipBuild);

  const runStart = performance.now();
  const dir = mkdtempSync(path.join(tmpdir(), 'weft-bench-ztunnel-'));
  tempDir = dir;
  onCleanup('remove temp dir', () => {
    rmSync(dir, { recursive: true, force: true });
    tempDir = undefined;
  });
  const manifests = await writeMeshFiles(dir, MANIFESTS, TOKENS);

  const [xdsPlaintext, xdsTls, monitoringPort, ...zPorts] = await freePorts(10);
  if (xdsPlaintext === undefined || xdsTls === undefined || monitoringPort === undefined || zPorts.length !== 7) throw new Error('no free ports');

  // 1. The controlplane.
  const controlplane = await startBenchControlplane(root, dir, manifests, { xdsPlaintext, xdsTls, monitoring: monitoringPort });
  progress(`controlplane ready, pid ${controlplane.pid}`);

  // 2. The app server.
  const server = spawnChild('app server', process.execPath, [path.join(__dirname, 'datapath-server.js'), SERVER_POD.address, String(APP_PORT)], {}, path.join(dir, 'server.log'));
  onCleanup('stop the app server', () => server.stop(1_000));
  await waitFor('the app server', server, 10_000, async () => server.tail().includes('listening'));

  // 3. The ztunnels.
  const startZtunnel = (node: 'node-a' | 'node-b', pods: string, ports: readonly number[]) =>
    startLoopbackZtunnel({ root, dir, xdsTls, node, pods, ports, logLevel: options.logLevel });
  const a = startZtunnel('node-a', loopbackPodEntry(CLIENT_POD, `${SERVICE_VIP}:80`), zPorts.slice(0, 3));
  const b = startZtunnel('node-b', loopbackPodEntry(SERVER_POD, `${SERVER_POD.address}:${APP_PORT}`), zPorts.slice(3, 6));
  for (const z of [a, b]) await waitZtunnelReady(z);
  const direct: Target = { host: SERVER_POD.address, port: APP_PORT };
  const mesh: Target = { host: CLIENT_POD.address, port: 15001 };
  await waitFor('a first connection through the mesh', a, 30_000, async () => {
    const socket = await openIdle(mesh);
    socket.destroy();
    return true;
  });
  progress(`ztunnels ready (A pid ${a.pid}, B pid ${b.pid}, app server pid ${server.pid}); mesh path works`);
  const pids = { a: a.pid, b: b.pid, server: server.pid, bench: 'self' as const };
  const alive = (): void => {
    for (const child of [a, b, server]) {
      const status = child.exitStatus();
      if (status !== undefined) throw new Error(`${child.name} exited (${status}):\n${child.tail()}`);
    }
  };

  // 4. Memory: idle, then with N idle connections through the mesh.
  await sleep(1_000);
  const idle = { a: procMemory(a.pid), b: procMemory(b.pid) };
  const openStart = performance.now();
  const idleSockets: net.Socket[] = await openIdleMany(mesh, options.idle, 50);
  const openMs = performance.now() - openStart;
  await sleep(1_000);
  const debugA = (await getJson(a.ports.admin, '/debug/connections')) as ZtunnelDebug;
  const withIdle = { a: procMemory(a.pid), b: procMemory(b.pid) };
  progress(
    `${idleSockets.length} idle connections open through the mesh in ${round1(openMs)} ms (A: ${debugA.open} proxied, ` +
      `${debugA.pool.length} HBONE connections); RSS A ${mb(idle.a.rssKb)} -> ${mb(withIdle.a.rssKb)} MB, B ${mb(idle.b.rssKb)} -> ${mb(withIdle.b.rssKb)} MB`,
  );
  for (const socket of idleSockets) socket.destroy();
  await waitFor('the idle connections to close at ztunnel A', a, 30_000, async () => ((await getJson(a.ports.admin, '/debug/connections')) as ZtunnelDebug).open === 0);
  alive();

  // 5. Bulk: direct and mesh alternately, after a short warm-up of both.
  const iperf = onPath('iperf3');
  await bulk(direct, 1, 32 * 1024 * 1024, options.bulkCapMs);
  await bulk(mesh, 1, 32 * 1024 * 1024, options.bulkCapMs);
  const bulkRows: BulkRow[] = [];
  for (const streams of [1, 16]) {
    const d = await bulk(direct, streams, options.bulkBytes, options.bulkCapMs);
    progress(`bulk ${streams} stream(s) direct: ${round1(d.mbPerSecond)} MB/s`);
    const window = new CpuWindow(pids);
    const m = await bulk(mesh, streams, options.bulkBytes, options.bulkCapMs);
    const meshCores = window.cores();
    progress(`bulk ${streams} stream(s) mesh: ${round1(m.mbPerSecond)} MB/s${m.capped ? ` (capped at ${options.bulkCapMs / 1000} s)` : ''}`);
    let iperf3MbPerSecond: number | undefined;
    if (iperf !== undefined) {
      const [port] = await freePorts(1);
      iperf3MbPerSecond = await iperf3(iperf, dir, streams, options.bulkBytes, port ?? 5201).catch((cause: unknown) => {
        progress(`iperf3 failed: ${String(cause)}`);
        return undefined;
      });
    }
    bulkRows.push({ streams, direct: d, mesh: m, meshCores, iperf3MbPerSecond });
    alive();
  }

  // 6. Request/response at a fixed offered rate, then closed-loop maximum rate; direct and mesh on their own
  //    persistent connections, opened up front.
  const directRr = await openRr(direct, options.rrConnections);
  const meshRr = await openRr(mesh, options.rrConnections);
  onCleanup('close request/response connections', () => {
    for (const c of [...directRr, ...meshRr]) c.close();
  });
  const warm = async (connections: readonly RrConnection[]): Promise<void> => {
    await maxRate(connections, 0, 1_000);
  };
  await warm(directRr);
  await warm(meshRr);
  const timeoutMs = options.rateSeconds * 1000 + 60_000;
  let window = new CpuWindow(pids);
  const rateDirect = await fixedRate(directRr, options.rate, options.rateSeconds, timeoutMs);
  const directCores = window.cores();
  progress(`fixed ${options.rate} rps direct: achieved ${round1(rateDirect.achieved)}, p50 ${round1(rateDirect.p50Ms)} ms, p99 ${round1(rateDirect.p99Ms)} ms`);
  window = new CpuWindow(pids);
  const rateMesh = await fixedRate(meshRr, options.rate, options.rateSeconds, timeoutMs);
  const rateMeshCores = window.cores();
  progress(
    `fixed ${options.rate} rps mesh: achieved ${round1(rateMesh.achieved)}, p50 ${round1(rateMesh.p50Ms)} ms, p99 ${round1(rateMesh.p99Ms)} ms, ` +
      `A ${rateMeshCores['a']?.toFixed(3)} cores, B ${rateMeshCores['b']?.toFixed(3)} cores`,
  );
  alive();
  const maxDirect = await maxRate(directRr, 500, options.maxSeconds * 1000);
  progress(`max rate direct: ${round1(maxDirect.rps)} rps`);
  window = new CpuWindow(pids);
  const maxMesh = await maxRate(meshRr, 500, options.maxSeconds * 1000);
  const maxMeshCores = window.cores();
  progress(`max rate mesh: ${round1(maxMesh.rps)} rps`);
  alive();

  const memory: MemoryFigures = {
    idle,
    withIdle,
    opened: idleSockets.length,
    openMs,
    end: { a: procMemory(a.pid), b: procMemory(b.pid) },
    controlplane: controlplane.memory(),
  };
  printReport({
    options,
    bulkRows,
    rate: { direct: rateDirect, directCores, mesh: rateMesh, meshCores: rateMeshCores },
    max: { direct: maxDirect, mesh: maxMesh, meshCores: maxMeshCores },
    memory,
    iperf3: iperf,
    warnings: [...new Set([a, b].flatMap((z) => warningsIn(z)))],
    runMs: performance.now() - runStart,
  });
}

// ---- the report ----

interface ReportInput {
  readonly options: Options;
  readonly bulkRows: readonly BulkRow[];
  readonly rate: RateRow;
  readonly max: MaxRow;
  readonly memory: MemoryFigures;
  readonly iperf3: string | undefined;
  /** Distinct messages the ztunnels logged at warn or above. */
  readonly warnings: readonly string[];
  readonly runMs: number;
}

const ratio = (value: number, base: number | undefined): number | undefined => (base === undefined || !(base > 0) ? undefined : value / base);
const times = (value: number | undefined): string => (value === undefined || Number.isNaN(value) ? 'n/a' : `${value.toFixed(2)}x`);
const cores = (value: number | undefined): string => (value === undefined ? '-' : value.toFixed(3));
const ms = (value: number): string => value.toFixed(2);
const r3 = (value: number | undefined): number | null => (value === undefined || Number.isNaN(value) ? null : Math.round(value * 1000) / 1000);
/** MB per 1000 connections from a VmRSS delta. */
const per1000 = (before: MemoryKb, after: MemoryKb, count: number): number => ((after.rssKb - before.rssKb) / 1024) * (1000 / count);

function printReport(input: ReportInput): void {
  const { options, bulkRows, rate, max, memory } = input;
  const out: string[] = [];
  const bulkMib = round1(options.bulkBytes / 1024 / 1024);
  out.push(
    '',
    'ztunnel datapath benchmark: client -> ztunnel A :15001 -> HBONE (TLS 1.3 mTLS, HTTP/2 CONNECT) -> ztunnel B :15008 -> server,',
    'against client -> server directly, in the same run. Controlplane, both ztunnels (loopback mode) and the server are',
    `child processes; the bench process is the client. Host: ${cpus().length} CPUs, node ${process.version}, ztunnel LOG_LEVEL=${options.logLevel}.`,
    `iperf3: ${input.iperf3 ?? 'not installed (n/a)'}.`,
    '',
    `Bulk throughput (${bulkMib} MiB per run, ${options.bulkCapMs / 1000} s cap; MB/s = 10^6 bytes/s; cores = CPU time / wall time during the mesh run)`,
    table(
      ['streams', 'direct MB/s', 'mesh MB/s', 'mesh/direct', 'iperf3 MB/s', 'mesh/iperf3', 'target', 'ztunnel A cores', 'ztunnel B cores', 'app server cores', 'client cores'],
      bulkRows.map((row) => [
        String(row.streams),
        round1(row.direct.mbPerSecond),
        `${round1(row.mesh.mbPerSecond).toFixed(1)}${row.mesh.capped ? ' (capped)' : ''}`,
        times(ratio(row.mesh.mbPerSecond, row.direct.mbPerSecond)),
        row.iperf3MbPerSecond === undefined ? 'n/a' : round1(row.iperf3MbPerSecond),
        times(ratio(row.mesh.mbPerSecond, row.iperf3MbPerSecond)),
        `>= ${TARGETS.bulkVsIperf3.toFixed(2)}x iperf3`,
        cores(row.meshCores['a']),
        cores(row.meshCores['b']),
        cores(row.meshCores['server']),
        cores(row.meshCores['bench']),
      ]),
    ),
    '',
    `Request/response, ${1} KiB request / 1 KiB response, ${options.rrConnections} persistent connections`,
    table(
      ['run', 'rps', 'p50 ms', 'p99 ms', 'max ms', 'ztunnel A cores', 'ztunnel B cores', 'app server cores', 'client cores'],
      [
        [`fixed ${options.rate} rps, ${options.rateSeconds} s, direct`, round1(rate.direct.achieved), ms(rate.direct.p50Ms), ms(rate.direct.p99Ms), ms(rate.direct.maxMs), cores(rate.directCores['a']), cores(rate.directCores['b']), cores(rate.directCores['server']), cores(rate.directCores['bench'])],
        [`fixed ${options.rate} rps, ${options.rateSeconds} s, mesh`, round1(rate.mesh.achieved), ms(rate.mesh.p50Ms), ms(rate.mesh.p99Ms), ms(rate.mesh.maxMs), cores(rate.meshCores['a']), cores(rate.meshCores['b']), cores(rate.meshCores['server']), cores(rate.meshCores['bench'])],
        [`max rate (closed loop), ${options.maxSeconds} s, direct`, round1(max.direct.rps), '', '', '', '', '', '', ''],
        [`max rate (closed loop), ${options.maxSeconds} s, mesh`, round1(max.mesh.rps), '', '', '', cores(max.meshCores['a']), cores(max.meshCores['b']), cores(max.meshCores['server']), cores(max.meshCores['bench'])],
      ],
    ),
    '',
    'Against the design targets (figures only; nothing fails on them)',
    table(
      ['measure', 'figure', 'target'],
      [
        ['max request rate, mesh / direct', times(ratio(max.mesh.rps, max.direct.rps)), `>= ${TARGETS.httpRateVsDirect.toFixed(2)}x`],
        [`ztunnel A (source) cores at ${options.rate} rps`, cores(rate.meshCores['a']), `<= ${TARGETS.coresPerSideAt1000}`],
        [`ztunnel B (destination) cores at ${options.rate} rps`, cores(rate.meshCores['b']), `<= ${TARGETS.coresPerSideAt1000}`],
        ...bulkRows.map((row): [string, string, string] => [`bulk ${row.streams} stream(s), mesh / iperf3`, times(ratio(row.mesh.mbPerSecond, row.iperf3MbPerSecond)), `>= ${TARGETS.bulkVsIperf3.toFixed(2)}x`]),
        ...bulkRows.map((row): [string, string, string] => [`bulk ${row.streams} stream(s), mesh / direct (context)`, times(ratio(row.mesh.mbPerSecond, row.direct.mbPerSecond)), '-']),
      ],
    ),
    '',
    `Memory (MB, VmRSS from /proc/<pid>/status; ${memory.opened} idle connections opened through the mesh in ${round1(memory.openMs)} ms)`,
    table(
      ['process', 'idle', `with ${memory.opened} idle conns`, 'per 1000 conns', 'at the end', 'peak (VmHWM)'],
      [
        ['ztunnel A (source)', mb(memory.idle.a.rssKb), mb(memory.withIdle.a.rssKb), round1(per1000(memory.idle.a, memory.withIdle.a, memory.opened)), mb(memory.end.a.rssKb), mb(memory.end.a.hwmKb)],
        ['ztunnel B (destination)', mb(memory.idle.b.rssKb), mb(memory.withIdle.b.rssKb), round1(per1000(memory.idle.b, memory.withIdle.b, memory.opened)), mb(memory.end.b.rssKb), mb(memory.end.b.hwmKb)],
        ['controlplane (context)', '', '', '', mb(memory.controlplane.rssKb), mb(memory.controlplane.hwmKb)],
      ],
    ),
    '',
    `Run time (after any build): ${round1(input.runMs / 1000)} s.`,
  );
  out.push(input.warnings.length === 0 ? 'ztunnel warnings/errors logged: none.' : `ztunnel warnings/errors logged (distinct): ${input.warnings.slice(0, 10).join(' | ')}`);

  const rateJson = (r: RateResult, c: Record<string, number>): object => ({
    rps: round1(r.achieved),
    p50Ms: r3(r.p50Ms),
    p99Ms: r3(r.p99Ms),
    maxMs: r3(r.maxMs),
    coresA: r3(c['a']),
    coresB: r3(c['b']),
  });
  const json = {
    bench: 'ztunnel-datapath',
    host: { cpus: cpus().length, node: process.version },
    options: { bulkMiB: bulkMib, bulkCapS: options.bulkCapMs / 1000, rate: options.rate, rateS: options.rateSeconds, rrConnections: options.rrConnections, maxS: options.maxSeconds, idle: options.idle, logLevel: options.logLevel },
    bulk: Object.fromEntries(
      bulkRows.map((row) => [
        `streams${row.streams}`,
        {
          directMBps: round1(row.direct.mbPerSecond),
          meshMBps: round1(row.mesh.mbPerSecond),
          meshCapped: row.mesh.capped,
          vsDirect: r3(ratio(row.mesh.mbPerSecond, row.direct.mbPerSecond)),
          iperf3MBps: row.iperf3MbPerSecond === undefined ? null : round1(row.iperf3MbPerSecond),
          vsIperf3: r3(ratio(row.mesh.mbPerSecond, row.iperf3MbPerSecond)),
          coresA: r3(row.meshCores['a']),
          coresB: r3(row.meshCores['b']),
        },
      ]),
    ),
    requestResponse: {
      fixed: { offeredRps: options.rate, direct: rateJson(rate.direct, rate.directCores), mesh: rateJson(rate.mesh, rate.meshCores) },
      max: { directRps: round1(max.direct.rps), meshRps: round1(max.mesh.rps), vsDirect: r3(ratio(max.mesh.rps, max.direct.rps)) },
    },
    memoryMb: {
      idleA: mb(memory.idle.a.rssKb),
      idleB: mb(memory.idle.b.rssKb),
      per1000IdleConnsA: round1(per1000(memory.idle.a, memory.withIdle.a, memory.opened)),
      per1000IdleConnsB: round1(per1000(memory.idle.b, memory.withIdle.b, memory.opened)),
      peakA: mb(memory.end.a.hwmKb),
      peakB: mb(memory.end.b.hwmKb),
    },
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
