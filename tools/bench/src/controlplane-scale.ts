// Controlplane scale benchmark: starts the built controlplane on a generated manifest directory (by default 1000
// services, 2000 pods, 50 AuthorizationPolicies), connects 100 wildcard Delta ADS clients, and measures start-up,
// change propagation (file rename → last client applied → last ACK seen by the server) and memory. It prints
// figures only; nothing here passes or fails on a number. See README.md for how to read them.

import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';

import { ADDRESS_TYPE_URL, AUTHORIZATION_TYPE_URL, type DeltaConnectionInfo } from '@weft/xds';
import { stringify } from 'yaml';

import { ClientFleet } from './clients';
import {
  BUILD_COMMAND,
  buildControlplane,
  controlplaneBuildProblem,
  freePorts,
  Monitoring,
  procMemory,
  signal,
  spawnControlplane,
  workspaceRoot,
  type ControlplaneChild,
  type MemoryKb,
} from './controlplane-process';
import { DEFAULT_SHAPE, ScaleFixture, type Change, type ManifestFile, type ScaleShape } from './fixture';
import { benchMain, benchStart, onCleanup, progress, sleep } from './bench-runtime';
import { mb, round1, summarize, table, type Summary } from './report';

const USAGE = `Usage: node dist/controlplane-scale.js [options]
  --clients N            xDS clients (default 100)
  --services N           Services (default ${DEFAULT_SHAPE.services})
  --pods-per-service N   pods selected by each Service (default ${DEFAULT_SHAPE.podsPerService})
  --policies N           AuthorizationPolicies (default ${DEFAULT_SHAPE.policies})
  --namespaces N         namespaces (default ${DEFAULT_SHAPE.namespaces})
  --nodes N              nodes (default ${DEFAULT_SHAPE.nodes})
  --rounds N             repetitions of each change (default 5)
  --debounce-ms N        PILOT_DEBOUNCE_AFTER_MS for the controlplane (default: its own, 100)
  --settle-ms N          wait after the last ACK before counting what clients received (default 500)
  --ack-poll-ms N        /debug/connections poll interval (default 20)
  --skip-build           do not run ${BUILD_COMMAND} when the build looks stale (only warn)
  --help
`;

const STARTUP_TIMEOUT_MS = 300_000;
const CHANGE_TIMEOUT_MS = 120_000;
/** The manifest directory source's own debounce (CHANGE_DEBOUNCE_MS in libs/config-source; not configurable). */
const MANIFEST_DEBOUNCE_MS = 100;

interface Options {
  readonly shape: ScaleShape;
  readonly clients: number;
  readonly rounds: number;
  readonly debounceMs: number | undefined;
  readonly settleMs: number;
  readonly ackPollMs: number;
  readonly skipBuild: boolean;
}

function parseOptions(argv: readonly string[]): Options | undefined {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      clients: { type: 'string' },
      services: { type: 'string' },
      'pods-per-service': { type: 'string' },
      policies: { type: 'string' },
      namespaces: { type: 'string' },
      nodes: { type: 'string' },
      rounds: { type: 'string' },
      'debounce-ms': { type: 'string' },
      'settle-ms': { type: 'string' },
      'ack-poll-ms': { type: 'string' },
      'skip-build': { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help === true) return undefined;
  const int = (name: string, raw: string | undefined, fallback: number, min: number): number => {
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min) throw new Error(`--${name} must be an integer >= ${min}, got ${raw}`);
    return value;
  };
  return {
    shape: {
      services: int('services', values.services, DEFAULT_SHAPE.services, 3),
      podsPerService: int('pods-per-service', values['pods-per-service'], DEFAULT_SHAPE.podsPerService, 1),
      policies: int('policies', values.policies, DEFAULT_SHAPE.policies, 1),
      namespaces: int('namespaces', values.namespaces, DEFAULT_SHAPE.namespaces, 1),
      nodes: int('nodes', values.nodes, DEFAULT_SHAPE.nodes, 1),
    },
    clients: int('clients', values.clients, 100, 1),
    rounds: int('rounds', values.rounds, 5, 1),
    debounceMs: values['debounce-ms'] === undefined ? undefined : int('debounce-ms', values['debounce-ms'], 100, 0),
    settleMs: int('settle-ms', values['settle-ms'], 500, 0),
    ackPollMs: int('ack-poll-ms', values['ack-poll-ms'], 20, 1),
    skipBuild: values['skip-build'] === true,
  };
}

/** For the last resort in 'exit': what must not outlive the bench. */
let childPid: number | undefined;
let childGone = true;
let tempDir: string | undefined;

// ---- manifests ----

function render(file: ManifestFile): string {
  return file.objects.map((object) => stringify(object)).join('---\n');
}

/** Write to a dot-file (the source ignores dot entries), then rename; returns performance.now() just before the rename. */
async function writeManifest(dir: string, file: ManifestFile): Promise<number> {
  const temp = path.join(dir, `.${file.name}.tmp`);
  await writeFile(temp, render(file));
  const before = performance.now();
  await rename(temp, path.join(dir, file.name));
  return before;
}

// ---- server-side ACK state ----

type NonceBaseline = Map<string, Map<string, string | undefined>>;

function baselineOf(connections: readonly DeltaConnectionInfo[]): NonceBaseline {
  return new Map(connections.map((c) => [c.connectionId, new Map(c.types.map((t) => [t.typeUrl, t.lastNonceSent]))]));
}

/**
 * Every one of `expected` streams has nothing outstanding: no pending nonce, the last nonce sent is ACKed. With a
 * baseline, every stream must also have been sent (and have ACKed) a new response of each type in `changed`.
 */
function allAcked(
  connections: readonly DeltaConnectionInfo[],
  expected: number,
  baseline?: NonceBaseline,
  changed: readonly string[] = [],
): boolean {
  if (connections.length !== expected) return false;
  for (const connection of connections) {
    const before = baseline?.get(connection.connectionId);
    if (baseline !== undefined && before === undefined) return false; // a reconnect: not the stream we measured
    for (const type of [ADDRESS_TYPE_URL, AUTHORIZATION_TYPE_URL]) {
      const info = connection.types.find((t) => t.typeUrl === type);
      if (info === undefined || info.lastNonceSent === undefined) return false;
      if (info.pendingNonces.length > 0 || info.lastAckedNonce !== info.lastNonceSent) return false;
      if (before !== undefined && changed.includes(type) && before.get(type) === info.lastNonceSent) return false;
    }
  }
  return true;
}

/** Polls /debug/connections until `done`; returns performance.now() when the satisfying response arrived. */
async function pollConnections(
  child: ControlplaneChild,
  monitoring: Monitoring,
  intervalMs: number,
  timeoutMs: number,
  what: string,
  done: (connections: readonly DeltaConnectionInfo[]) => boolean,
): Promise<{ at: number; connections: DeltaConnectionInfo[] }> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const connections = await whileRunning(child, what, timeoutMs, monitoring.connections());
    const at = performance.now();
    if (done(connections)) return { at, connections };
    if (at > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** `promise`, unless the controlplane exits or `timeoutMs` passes first. */
async function whileRunning<T>(child: ControlplaneChild, what: string, timeoutMs: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
  });
  const exit = child.exited.then((status): never => {
    throw new Error(`the controlplane exited (${status}) while waiting for ${what}:\n${child.tail()}`);
  });
  try {
    return await Promise.race([promise, timeout, exit]);
  } finally {
    clearTimeout(timer);
  }
}

// ---- the measurements ----

interface Startup {
  readonly spawnToReadyMs: number;
  readonly initialComputeMs: number | undefined;
  readonly clientsToAllReadyMs: number;
  readonly clientsToAllFullMs: number;
  readonly clientsToAllAckedMs: number;
  readonly spawnToAllFullMs: number;
  readonly rssAtReady: MemoryKb;
  readonly rssWithClients: MemoryKb;
  readonly served: { addresses: number; authorizations: number };
  readonly rejectedConfigs: number;
  readonly configsWithWarnings: number;
}

interface ChangeSample {
  readonly firstAppliedMs: number;
  readonly lastAppliedMs: number;
  readonly lastAckMs: number;
  readonly computeMs: number;
  readonly computations: number;
  readonly resourcesMin: number;
  readonly resourcesMax: number;
  readonly responsesMax: number;
}

type ChangeKind = 'pod not Ready' | 'policy changed' | 'service + pods added';

const CHANGE_TYPES: Readonly<Record<ChangeKind, readonly string[]>> = {
  'pod not Ready': [ADDRESS_TYPE_URL],
  'policy changed': [AUTHORIZATION_TYPE_URL],
  'service + pods added': [ADDRESS_TYPE_URL],
};

interface Context {
  readonly options: Options;
  readonly manifests: string;
  readonly child: ControlplaneChild;
  readonly monitoring: Monitoring;
  readonly fleet: ClientFleet;
}

async function measureChange(ctx: Context, kind: ChangeKind, change: Change): Promise<ChangeSample> {
  const { options, fleet, monitoring, child } = ctx;
  const clients = options.clients;
  // Start from quiet: nothing in flight on any stream.
  const quiet = await pollConnections(child, monitoring, options.ackPollMs, CHANGE_TIMEOUT_MS, 'a quiet controlplane', (c) => allAcked(c, clients));
  const baseline = baselineOf(quiet.connections);
  const computationsBefore = child.computations.length;
  fleet.arm(change.expectation);
  const t0 = await writeManifest(ctx.manifests, change.file);
  const applied = await whileRunning(child, `every client to apply "${kind}"`, CHANGE_TIMEOUT_MS, fleet.allApplied(CHANGE_TIMEOUT_MS));
  // An ACK follows its apply, so the last ACK cannot come before the last apply: poll only from here on.
  const acked = await pollConnections(child, monitoring, options.ackPollMs, CHANGE_TIMEOUT_MS, `every client's ACK of "${kind}"`, (c) =>
    allAcked(c, clients, baseline, CHANGE_TYPES[kind]),
  );
  await sleep(options.settleMs);
  const received = fleet.receivedCounts();
  fleet.disarm();
  const computed = child.computations.slice(computationsBefore);
  return {
    firstAppliedMs: applied.firstApplied - t0,
    lastAppliedMs: applied.lastApplied - t0,
    lastAckMs: acked.at - t0,
    computeMs: computed.reduce((sum, c) => sum + c.elapsedMs, 0),
    computations: computed.length,
    resourcesMin: Math.min(...received.resources),
    resourcesMax: Math.max(...received.resources),
    responsesMax: Math.max(...received.responses),
  };
}

async function run(options: Options): Promise<void> {
  const root = workspaceRoot(__dirname);
  const mainJs = path.join(root, 'apps/controlplane/dist/main.js');
  const problem = controlplaneBuildProblem(root);
  if (problem !== undefined && options.skipBuild) {
    if (problem.includes('missing')) throw new Error(`${problem}; build it with: ${BUILD_COMMAND}`);
    progress(`warning: ${problem}; using it anyway (--skip-build). To rebuild: ${BUILD_COMMAND}`);
  } else if (problem !== undefined) {
    progress(`${problem}; running ${BUILD_COMMAND}`);
    buildControlplane(root);
  }

  // 1. The manifest directory, CA directory and bootstrap tokens, in a temp dir removed on exit.
  const fixture = new ScaleFixture(options.shape);
  const dir = mkdtempSync(path.join(tmpdir(), 'weft-bench-'));
  tempDir = dir;
  onCleanup('remove temp dir', () => {
    rmSync(dir, { recursive: true, force: true });
    tempDir = undefined;
  });
  const manifests = path.join(dir, 'manifests');
  await mkdir(manifests);
  for (const file of fixture.files()) await writeManifest(manifests, file);
  const tokensFile = path.join(dir, 'tokens.yaml');
  await writeFile(
    tokensFile,
    stringify({ tokens: fixture.nodes.map((node) => ({ token: `bench-ztunnel-${node}-token-0123456789abcdef0123456789`, node })) }),
  );
  const counts = fixture.counts;
  progress(
    `wrote ${counts.services} services, ${counts.pods} pods, ${counts.policies} policies in ${counts.namespaces} namespaces to ${manifests}`,
  );

  // 2. Start the controlplane and wait for /ready.
  const [xdsPlaintext, xdsTls, monitoringPort] = await freePorts(3);
  if (xdsPlaintext === undefined || xdsTls === undefined || monitoringPort === undefined) throw new Error('no free ports');
  const child = spawnControlplane(mainJs, {
    WEFT_CONFIG_SOURCE: 'manifests',
    WEFT_MANIFEST_DIR: manifests,
    WEFT_STATUS_FILE: path.join(dir, 'status.json'),
    WEFT_CA_DIR: path.join(dir, 'ca'),
    WEFT_BOOTSTRAP_TOKENS_FILE: tokensFile,
    WEFT_XDS_PLAINTEXT_PORT: String(xdsPlaintext),
    WEFT_XDS_TLS_PORT: String(xdsTls),
    WEFT_MONITORING_PORT: String(monitoringPort),
    WEFT_LISTEN_ADDRESS: '127.0.0.1',
    WEFT_DRAIN_DEADLINE_MS: '1000',
    LOG_LEVEL: 'info',
    ...(options.debounceMs === undefined ? {} : { PILOT_DEBOUNCE_AFTER_MS: String(options.debounceMs) }),
  });
  childPid = child.pid;
  childGone = false;
  onCleanup('stop the controlplane', async () => {
    await child.stop();
    childGone = true;
  });
  progress(`controlplane started, pid ${child.pid}`);
  const monitoring = new Monitoring(monitoringPort);
  const readyDeadline = child.spawnedAt + STARTUP_TIMEOUT_MS;
  while (!(await monitoring.isReady())) {
    const status = child.exitStatus();
    if (status !== undefined) throw new Error(`the controlplane exited (${status}) before /ready:\n${child.tail()}`);
    if (performance.now() > readyDeadline) throw new Error(`no /ready within ${STARTUP_TIMEOUT_MS} ms:\n${child.tail()}`);
    await sleep(20);
  }
  const readyAt = performance.now();
  const rssAtReady = child.memory();
  progress(`/ready after ${round1(readyAt - child.spawnedAt)} ms`);

  const resources = await monitoring.metric('pilot_xds_resources');
  const served = {
    addresses: resources.get(`{type="${ADDRESS_TYPE_URL}"}`) ?? NaN,
    authorizations: resources.get(`{type="${AUTHORIZATION_TYPE_URL}"}`) ?? NaN,
  };
  const rejectedConfigs = (await monitoring.metric('pilot_total_rejected_configs')).get('') ?? NaN;
  const configsWithWarnings = (await monitoring.metric('pilot_configs_with_warnings')).get('') ?? NaN;
  if (rejectedConfigs > 0) progress(`warning: the controlplane rejected ${rejectedConfigs} generated objects`);

  // 3. Connect every client at once; wait for ready(), the full state, and every ACK at the server.
  const fleet = new ClientFleet(`127.0.0.1:${xdsPlaintext}`);
  onCleanup('close the xDS clients', () => fleet.destroy());
  fleet.setTargets(served);
  const connectAt = performance.now();
  fleet.connect(options.clients);
  progress(`connecting ${options.clients} clients (${served.addresses} address and ${served.authorizations} authorization resources each)`);
  const allReadyAt = await whileRunning(child, 'every client to be ready', STARTUP_TIMEOUT_MS, fleet.allReady());
  const allFullAt = await whileRunning(child, 'the full state on every client', STARTUP_TIMEOUT_MS, fleet.allFull(STARTUP_TIMEOUT_MS));
  const startupAcked = await pollConnections(child, monitoring, options.ackPollMs, STARTUP_TIMEOUT_MS, 'every client to ACK its first state', (c) =>
    allAcked(c, options.clients),
  );
  const rssWithClients = child.memory();
  const startup: Startup = {
    spawnToReadyMs: readyAt - child.spawnedAt,
    initialComputeMs: child.computations[0]?.elapsedMs,
    clientsToAllReadyMs: allReadyAt - connectAt,
    clientsToAllFullMs: allFullAt - connectAt,
    clientsToAllAckedMs: startupAcked.at - connectAt,
    spawnToAllFullMs: allFullAt - child.spawnedAt,
    rssAtReady,
    rssWithClients,
    served,
    rejectedConfigs,
    configsWithWarnings,
  };
  progress(`all clients hold the full state after ${round1(startup.clientsToAllFullMs)} ms`);

  // 4. Changes, interleaved so each kind sees the same background.
  const ctx: Context = { options, manifests, child, monitoring, fleet };
  const samples: Record<ChangeKind, ChangeSample[]> = { 'pod not Ready': [], 'policy changed': [], 'service + pods added': [] };
  for (let round = 0; round < options.rounds; round++) {
    const changes: [ChangeKind, () => Change][] = [
      ['pod not Ready', () => fixture.podNotReady(round)],
      ['policy changed', () => fixture.policyChanged(round)],
      ['service + pods added', () => fixture.serviceAdded(round)],
    ];
    for (const [kind, make] of changes) {
      const sample = await measureChange(ctx, kind, make());
      samples[kind].push(sample);
      progress(
        `round ${round + 1}/${options.rounds} ${kind}: last client applied ${round1(sample.lastAppliedMs)} ms, ` +
          `last ACK ${round1(sample.lastAckMs)} ms, ${sample.resourcesMin}-${sample.resourcesMax} resources per client`,
      );
    }
  }

  // 5. Memory at the end.
  const finalMemory = child.memory();
  const benchMemory = procMemory('self');
  const reconnects = fleet.reconnects();
  const warnings = [...new Set(child.warnings)];

  printReport({ options, counts, startup, samples, finalMemory, benchMemory, reconnects, warnings, runMs: performance.now() - benchStart });
}

interface ReportInput {
  readonly options: Options;
  readonly counts: ScaleFixture['counts'];
  readonly startup: Startup;
  readonly samples: Record<ChangeKind, ChangeSample[]>;
  readonly finalMemory: MemoryKb;
  readonly benchMemory: MemoryKb;
  readonly reconnects: number;
  readonly warnings: readonly string[];
  readonly runMs: number;
}

function printReport(input: ReportInput): void {
  const { options, counts, startup, samples, finalMemory, benchMemory } = input;
  const out: string[] = [];
  const debounce = options.debounceMs === undefined ? 'default (100)' : String(options.debounceMs);
  out.push(
    '',
    `Controlplane scale benchmark: ${counts.services} services, ${counts.pods} pods (${counts.namespaces} namespaces, ` +
      `${options.shape.nodes} nodes), ${counts.policies} AuthorizationPolicies (${counts.allow} ALLOW, ${counts.deny} DENY), ` +
      `${options.clients} Delta ADS clients`,
    `Served per client: ${startup.served.addresses} address + ${startup.served.authorizations} authorization resources. ` +
      `Rejected configs: ${startup.rejectedConfigs}, configs with warnings: ${startup.configsWithWarnings}.`,
    `Debounce: manifest watcher ${MANIFEST_DEBOUNCE_MS} ms (fixed), PILOT_DEBOUNCE_AFTER_MS ${debounce}; ` +
      `ACK poll every ${options.ackPollMs} ms. Host: ${cpus().length} CPUs, node ${process.version}.`,
    '',
    'Start-up',
    table(
      ['measure', 'ms'],
      [
        ['spawn -> /ready', round1(startup.spawnToReadyMs)],
        ['  of which initial mesh computation', startup.initialComputeMs ?? NaN],
        [`clients created -> all ${options.clients} ready()`, round1(startup.clientsToAllReadyMs)],
        ['clients created -> all hold the full state', round1(startup.clientsToAllFullMs)],
        ['clients created -> all ACKs seen at server', round1(startup.clientsToAllAckedMs)],
        ['spawn -> all clients hold the full state', round1(startup.spawnToAllFullMs)],
      ],
    ),
    '',
    `Change propagation (${options.rounds} rounds each; ms from the file rename)`,
    table(
      ['change', 'last applied med', 'max', 'last ACK med', 'max', 'first applied med', 'compute med', 'resources/client', 'responses/client'],
      (Object.keys(samples) as ChangeKind[]).map((kind) => {
        const list = samples[kind];
        const last = summarize(list.map((s) => s.lastAppliedMs));
        const ack = summarize(list.map((s) => s.lastAckMs));
        const first = summarize(list.map((s) => s.firstAppliedMs));
        const compute = summarize(list.map((s) => s.computeMs));
        const rMin = Math.min(...list.map((s) => s.resourcesMin));
        const rMax = Math.max(...list.map((s) => s.resourcesMax));
        return [
          kind,
          round1(last.median),
          round1(last.max),
          round1(ack.median),
          round1(ack.max),
          round1(first.median),
          round1(compute.median),
          rMin === rMax ? String(rMin) : `${rMin}-${rMax}`,
          String(Math.max(...list.map((s) => s.responsesMax))),
        ];
      }),
    ),
    '',
    'Memory (MB)',
    table(
      ['process', 'RSS', 'peak (VmHWM)'],
      [
        ['controlplane at /ready', mb(startup.rssAtReady.rssKb), mb(startup.rssAtReady.hwmKb)],
        [`controlplane with ${options.clients} clients in sync`, mb(startup.rssWithClients.rssKb), mb(startup.rssWithClients.hwmKb)],
        ['controlplane at the end', mb(finalMemory.rssKb), mb(finalMemory.hwmKb)],
        [`bench process (${options.clients} clients)`, mb(benchMemory.rssKb), mb(benchMemory.hwmKb)],
      ],
    ),
    '',
    `Client stream reconnects: ${input.reconnects}. Run time: ${round1(input.runMs / 1000)} s.`,
  );
  if (input.warnings.length > 0) out.push(`Controlplane warnings (distinct): ${input.warnings.slice(0, 10).join(' | ')}`);

  const json = {
    bench: 'controlplane-scale',
    shape: { ...options.shape, clients: options.clients, rounds: options.rounds },
    served: startup.served,
    startupMs: {
      spawnToReady: round1(startup.spawnToReadyMs),
      initialCompute: startup.initialComputeMs ?? null,
      clientsAllReady: round1(startup.clientsToAllReadyMs),
      clientsAllFull: round1(startup.clientsToAllFullMs),
      clientsAllAcked: round1(startup.clientsToAllAckedMs),
    },
    changesMs: Object.fromEntries(
      (Object.keys(samples) as ChangeKind[]).map((kind) => {
        const list = samples[kind];
        const pick = (s: Summary): { median: number; max: number } => ({ median: round1(s.median), max: round1(s.max) });
        return [
          kind,
          {
            lastApplied: pick(summarize(list.map((s) => s.lastAppliedMs))),
            lastAck: pick(summarize(list.map((s) => s.lastAckMs))),
            compute: pick(summarize(list.map((s) => s.computeMs))),
            resourcesPerClientMax: Math.max(...list.map((s) => s.resourcesMax)),
          },
        ];
      }),
    ),
    rssMb: {
      controlplaneAtReady: mb(startup.rssAtReady.rssKb),
      controlplaneWithClients: mb(startup.rssWithClients.rssKb),
      controlplaneEnd: mb(finalMemory.rssKb),
      controlplanePeak: mb(finalMemory.hwmKb),
      bench: mb(benchMemory.rssKb),
      benchPeak: mb(benchMemory.hwmKb),
    },
    reconnects: input.reconnects,
    runS: round1(input.runMs / 1000),
  };
  out.push('', JSON.stringify(json), '');
  process.stdout.write(out.join('\n'));
}

void benchMain({
  parse: parseOptions,
  usage: USAGE,
  run,
  lastResort: () => {
    if (childPid !== undefined && !childGone) signal(childPid, 'SIGKILL');
    if (tempDir !== undefined) rmSync(tempDir, { recursive: true, force: true });
  },
});
