// The controlplane process wired together, in start order: CA → config source → first computation → leader
// election (Kubernetes: a Lease; the leader alone runs the waypoint controller and the root certificate publisher
// and writes object statuses) → xDS on 15010 (plaintext) and 15012 (TLS, with the CA) → monitoring on 15014. Every
// listener, watch and timer is owned here and closed by `close()`, which drains xDS streams up to the configured
// deadline.

import { hostname } from 'node:os';
import * as path from 'node:path';

import * as grpc from '@grpc/grpc-js';
import {
  createKubernetesSource,
  createManifestDirectorySource,
  loadKubeApi,
  loadTokenReviewer,
  type ConfigSource,
  type KubeApi,
  type ObjectStatus,
} from '@weft/config-source';
import type { CertificateAuthority } from '@weft/identity';
import { WATCHED_KINDS, type KubeObject, type WaypointInfo } from '@weft/mesh-config';
import {
  addCertificateService,
  buildMeshSnapshots,
  createDeltaAdsServer,
  createSnapshotSource,
  type DeltaAdsServer,
  type DeltaAuthResult,
  type MeshResources,
} from '@weft/xds';
import { CleanupStack } from '@weft/process-lifecycle';

import { startAdminServer, type AdminServer } from './admin/admin-server';
import { controlplaneMetrics } from './admin/controlplane-metrics';
import { CaError } from './ca/ca-error';
import {
  createBootstrapTokenAuthenticator,
  createTokenReviewAuthenticator,
  loadBootstrapTokens,
  type CallerAuthenticator,
} from './ca/caller-authenticator';
import { createCertificateService, type CertificateService } from './ca/certificate-service';
import { createFileCaStorage } from './ca/file-ca-storage';
import { createNodeAuthorizer } from './ca/node-authorizer';
import { createRoutedCaStorage, createSecretCaStorage, startCertificateAuthority } from './ca/secret-ca-storage';
import { issueServingCertificate } from './ca/serving-certificate';
import { createServingCertificateRotator, type ServingCertificateRotator } from './ca/serving-certificate-rotator';
import type { ControlplaneConfig } from './config';
import { messageFirst, type Logger } from './logging';
import { computeMesh, type ConfigProblem, type Disposition, type MeshSettings } from './pipeline/compute-mesh';
import { objectStatuses, statusWrites } from './pipeline/object-statuses';
import { createLeaderElection, CONTROLPLANE_LEASE, soleLeader } from './leader-election';
import { indexPodPlacement, type PodPlacement } from './pipeline/pods-on-node';
import { createRootCertPublisher, fixedRootCertificate, ROOT_CERT_CONFIGMAPS } from './root-cert-publisher';
import { createWaypointController } from './waypoint-controller';

export interface ControlplaneOptions {
  readonly config: ControlplaneConfig;
  readonly logger: Logger;
  /** A ready-made source (tests); by default one is made from `WEFT_CONFIG_SOURCE`. */
  readonly source?: ConfigSource;
  /** Overrides how callers of 15012 are authenticated (tests); by default from the config source mode. */
  readonly authenticator?: CallerAuthenticator;
  /** Kubernetes mode: the API the source and the waypoint controller use (tests); by default the client's. */
  readonly kubeApi?: KubeApi;
}

export interface ControlplanePorts {
  readonly xdsPlaintext: number;
  readonly xdsTls: number;
  readonly monitoring: number;
}

/** What the last computation produced, for the debug views and tests. */
export interface ComputedState {
  /** The config source version the resources were computed from. */
  readonly configVersion: number;
  readonly resources: MeshResources;
  readonly waypoints: readonly WaypointInfo[];
  readonly problems: readonly ConfigProblem[];
  readonly rejected: ReadonlyMap<string, Disposition>;
}

export interface Controlplane {
  readonly ports: ControlplanePorts;
  /** The mesh root certificate clients of 15012 and workloads trust. */
  readonly rootCertPem: string;
  ready(): boolean;
  computed(): ComputedState;
  /** Stops accepting work, drains xDS streams up to the deadline and closes every listener and watch. Idempotent. */
  close(): Promise<void>;
}

const EMPTY_STATE: ComputedState = {
  configVersion: 0,
  resources: { workloads: [], services: [], authorizations: [] },
  waypoints: [],
  problems: [],
  rejected: new Map(),
};

function allObjects(source: ConfigSource): KubeObject[] {
  const snapshot = source.snapshot();
  return WATCHED_KINDS.flatMap((kind) => snapshot.list(kind));
}

function createSource(config: ControlplaneConfig, logger: Logger, kubeApi: KubeApi | undefined): ConfigSource {
  const sourceLogger = messageFirst(logger, 'config');
  if (kubeApi !== undefined) return createKubernetesSource({ api: kubeApi, logger: sourceLogger });
  return createManifestDirectorySource({
    directory: config.WEFT_MANIFEST_DIR,
    ...(config.WEFT_STATUS_FILE === '' ? {} : { statusFile: config.WEFT_STATUS_FILE }),
    // The cni-node agents' status files: their `ambient.istio.io/redirection` switches pods to HBONE.
    annotationOverlayDir: path.join(config.WEFT_MANIFEST_DIR, '.weft'),
    logger: sourceLogger,
  });
}

async function createAuthenticator(config: ControlplaneConfig): Promise<CallerAuthenticator> {
  if (config.WEFT_CONFIG_SOURCE === 'kubernetes') {
    const review = await loadTokenReviewer();
    return createTokenReviewAuthenticator({ tokenReview: (token, audiences) => review(token, audiences) });
  }
  if (config.WEFT_BOOTSTRAP_TOKENS_FILE === '') {
    throw new CaError(
      'ERR_CA_CONFIG_INVALID',
      'manifest mode needs WEFT_BOOTSTRAP_TOKENS_FILE: the per-node ztunnel tokens the CA and 15012 xDS accept',
    );
  }
  return createBootstrapTokenAuthenticator(await loadBootstrapTokens(config.WEFT_BOOTSTRAP_TOKENS_FILE));
}

/** WEFT_CA_SECRET is refused outside Kubernetes mode by the config, so a client is there whenever it is set. */
function requireKubeApi(kubeApi: KubeApi | undefined): KubeApi {
  if (kubeApi === undefined) throw new CaError('ERR_CA_CONFIG_INVALID', 'WEFT_CA_SECRET needs WEFT_CONFIG_SOURCE=kubernetes');
  return kubeApi;
}

/** Plug-in files from `WEFT_CA_DIR`; the self-signed root there too, or in the `WEFT_CA_SECRET` Secret (Kubernetes). */
async function createCa(config: ControlplaneConfig, kubeApi: KubeApi | undefined): Promise<CertificateAuthority> {
  const files = createFileCaStorage(config.WEFT_CA_DIR);
  const secret =
    config.WEFT_CA_SECRET === ''
      ? undefined
      : createSecretCaStorage({ api: requireKubeApi(kubeApi), namespace: config.POD_NAMESPACE, name: config.WEFT_CA_SECRET });
  const options = {
    storage: secret === undefined ? files : createRoutedCaStorage({ directory: files, secret }),
    trustDomain: config.TRUST_DOMAIN,
    defaultTtlSeconds: config.DEFAULT_WORKLOAD_CERT_TTL_SECONDS,
    maxTtlSeconds: config.MAX_WORKLOAD_CERT_TTL_SECONDS,
  };
  const created = await startCertificateAuthority(options, secret);
  if (!created.ok) {
    const { code, message } = created.error;
    const where = secret === undefined ? config.WEFT_CA_DIR : `${config.WEFT_CA_DIR} and Secret ${config.POD_NAMESPACE}/${config.WEFT_CA_SECRET}`;
    throw new CaError('ERR_CA_CONFIG_INVALID', `CA in ${where}: ${code}: ${message}`);
  }
  return created.value;
}

function bindGrpc(server: grpc.Server, address: string, credentials: grpc.ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, credentials, (error, port) => (error === null ? resolve(port) : reject(error)));
  });
}

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Graceful shutdown up to the deadline, then force. */
function shutdownGrpc(server: grpc.Server, deadlineMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, deadlineMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * The cluster writers only the leader runs: istiod's gateway controller (each `istio-waypoint` Gateway's objects and
 * status) and its namespace controller (the mesh root in every namespace's `istio-ca-root-cert`). Resolves to the
 * function that stops them.
 */
async function startClusterWriters(api: KubeApi, source: ConfigSource, config: ControlplaneConfig, rootCertPem: string, logger: Logger): Promise<() => Promise<void>> {
  const waypoints = createWaypointController({
    api,
    source,
    deployment: {
      image: config.WAYPOINT_IMAGE,
      // The name the 15012 serving certificate carries, as ztunnel dials it.
      xdsAddress: `istiod.${config.POD_NAMESPACE}.svc:15012`,
      trustDomain: config.TRUST_DOMAIN,
      clusterId: config.CLUSTER_ID,
    },
    domainSuffix: config.CLUSTER_DOMAIN,
    logger: messageFirst(logger, 'waypoint-controller'),
  });
  const rootCertConfigMaps = createKubernetesSource({ api, resources: [ROOT_CERT_CONFIGMAPS], logger: messageFirst(logger, 'root-cert-configmaps') });
  const rootCerts = createRootCertPublisher({
    api,
    namespaces: source,
    configMaps: rootCertConfigMaps,
    root: fixedRootCertificate(rootCertPem),
    logger: messageFirst(logger, 'root-cert-publisher'),
  });
  const stop = async (): Promise<void> => {
    await Promise.all([waypoints.close(config.WEFT_DRAIN_DEADLINE_MS), rootCerts.close(config.WEFT_DRAIN_DEADLINE_MS)]);
    await rootCertConfigMaps.close();
  };
  try {
    waypoints.start();
    rootCerts.start();
    await rootCertConfigMaps.start();
  } catch (cause) {
    await stop();
    throw cause;
  }
  return stop;
}

/**
 * Starts the leader's writers when this replica gains the lease and stops them when it loses it, one transition
 * at a time; `close()` stops them for good.
 */
class LeaderWork {
  private chain: Promise<(() => Promise<void>) | undefined> = Promise.resolve(undefined);
  private closed = false;

  constructor(
    private readonly start: () => Promise<() => Promise<void>>,
    private readonly logger: Logger,
  ) {}

  leading(leading: boolean): void {
    this.chain = this.chain.then(async (stop) => {
      if (leading && !this.closed) return stop ?? (await this.start());
      await stop?.();
      return undefined;
    }).catch((cause: unknown) => {
      this.logger.error({ err: cause }, leading ? 'starting the cluster writers failed' : 'stopping the cluster writers failed');
      return undefined;
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.leading(false);
    await this.chain;
  }
}

export async function startControlplane(options: ControlplaneOptions): Promise<Controlplane> {
  const { config, logger } = options;
  const settings: MeshSettings = {
    clusterId: config.CLUSTER_ID,
    trustDomain: config.TRUST_DOMAIN,
    domainSuffix: config.CLUSTER_DOMAIN,
    rootNamespace: config.ROOT_NAMESPACE,
    network: '',
  };
  const cleanups = new CleanupStack(logger);
  const closeAll = (): Promise<void> => cleanups.closeAll();

  try {
    // The Kubernetes client (Kubernetes mode), shared by the CA's Secret, the config source and the writers.
    const kubeApi = config.WEFT_CONFIG_SOURCE === 'kubernetes' ? (options.kubeApi ?? (await loadKubeApi())) : undefined;

    // 1. CA and the callers it trusts.
    const ca = await createCa(config, kubeApi);
    logger.info({ source: ca.source, dir: config.WEFT_CA_DIR, secret: config.WEFT_CA_SECRET }, 'CA loaded');
    const authenticator = options.authenticator ?? (await createAuthenticator(config));

    // 2. Config, computed into resources on every batch of changes.
    const source = options.source ?? createSource(config, logger, kubeApi);
    cleanups.push(() => source.close());
    // Every replica serves xDS and the CA; one, the leader, writes to the cluster (object statuses, waypoint
    // Deployments, root ConfigMaps), as istiod's leader-elected controllers do. Manifest mode: this process.
    const leader =
      kubeApi === undefined
        ? soleLeader()
        : createLeaderElection({
            api: kubeApi,
            namespace: config.POD_NAMESPACE,
            name: CONTROLPLANE_LEASE,
            identity: config.POD_NAME !== '' ? config.POD_NAME : hostname(),
            logger: messageFirst(logger, 'leader-election'),
          });
    let leaderWork: LeaderWork | undefined;
    if (kubeApi !== undefined) {
      const api = kubeApi;
      leaderWork = new LeaderWork(() => startClusterWriters(api, source, config, ca.rootCertPem, logger), logger);
      const work = leaderWork;
      cleanups.push(() => work.close());
    }
    const snapshots = createSnapshotSource();
    let state = EMPTY_STATE;
    let lastGood: ReadonlyMap<string, KubeObject> = new Map();
    let statuses: ReadonlyMap<string, ObjectStatus> = new Map();
    /** What this replica wrote as the leader; a new term starts from nothing and writes every status. */
    let reported: ReadonlyMap<string, ObjectStatus> = new Map();
    let placement: PodPlacement = indexPodPlacement([]);
    let computations = 0;

    const publishStatuses = (): void => {
      if (!leader.isLeader()) return;
      for (const [key, status] of statusWrites(reported, statuses)) source.reportStatus(key, status);
      reported = statuses;
    };
    const unwatchLeader = leader.onChange((leading) => {
      leaderWork?.leading(leading);
      if (!leading) return;
      reported = new Map();
      publishStatuses();
    });
    cleanups.push(unwatchLeader);

    const recompute = (version: number): void => {
      const started = process.hrtime.bigint();
      const objects = allObjects(source);
      const computation = computeMesh(objects, lastGood, settings);
      lastGood = computation.lastGood;
      placement = indexPodPlacement(objects.filter((object) => object.kind === 'Pod'));
      const changedTypes = snapshots.update(buildMeshSnapshots(computation.resources));
      state = {
        configVersion: version,
        resources: computation.resources,
        waypoints: computation.waypoints,
        problems: computation.problems,
        rejected: computation.rejected,
      };
      statuses = objectStatuses(computation.problems, computation.rejected);
      publishStatuses();
      computations += 1;
      const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
      logger.info(
        {
          configVersion: version,
          objects: objects.length,
          workloads: computation.resources.workloads.length,
          services: computation.resources.services.length,
          authorizations: computation.resources.authorizations.length,
          waypointServices: computation.resources.waypointServices?.length ?? 0,
          rejected: computation.rejected.size,
          changedTypes,
          elapsedMs: Math.round(elapsedMs * 10) / 10,
        },
        'mesh computed',
      );
      for (const problem of computation.problems) {
        if (problem.level === 'error') logger.warn({ object: problem.object, field: problem.field, code: problem.code }, problem.message);
      }
    };
    const unsubscribe = source.subscribe((event) => {
      for (const error of event.errors) logger.warn({ code: error.code }, error.message);
      try {
        recompute(event.version);
      } catch (cause) {
        // A bug in translation must not take the served config down: the previous snapshots keep serving.
        logger.error({ err: cause, configVersion: event.version }, 'mesh computation failed; serving the previous resources');
      }
    });
    cleanups.push(unsubscribe);
    await source.start();
    leader.start();
    cleanups.push(() => leader.close(config.WEFT_DRAIN_DEADLINE_MS));

    // 3. The CA service; impersonation is checked against where pods are scheduled now.
    const authorizer = createNodeAuthorizer({
      trustDomain: config.TRUST_DOMAIN,
      trustedNodeAccounts: config.CA_TRUSTED_NODE_ACCOUNTS,
      podsOnNode: { hasPod: (node, namespace, account) => placement.hasPod(node, namespace, account) },
      callerPods: { nodeOf: (...args) => placement.nodeOf(...args) },
    });
    const caLogger = logger.child({ scope: 'ca' });
    const certificates: CertificateService = createCertificateService({ ca, authenticator, authorizer, logger: caLogger });

    // 4. Delta ADS: one server per listener over the same resources; 15012 requires an authenticated caller.
    const adsLogger = messageFirst(logger, 'xds');
    const authenticateXds = async (metadata: grpc.Metadata): Promise<DeltaAuthResult> => {
      const header = metadata.get('authorization')[0];
      const token = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1] : undefined;
      if (token === undefined) return { ok: false, message: 'authentication failure: no bearer token' };
      const cluster = metadata.get('clusterid')[0];
      const result = await authenticator.authenticate(token, typeof cluster === 'string' ? cluster : undefined);
      if (!result.ok) {
        adsLogger.warn('xDS caller refused', { reason: result.reason });
        return { ok: false, message: 'authentication failure' };
      }
      const { namespace, serviceAccount } = result.caller;
      return { ok: true, identity: `spiffe://${config.TRUST_DOMAIN}/ns/${namespace}/sa/${serviceAccount}` };
    };
    const adsOptions = { source: snapshots, debounceMs: config.PILOT_DEBOUNCE_AFTER_MS, logger: adsLogger };
    const plainAds: DeltaAdsServer = createDeltaAdsServer(adsOptions);
    const tlsAds: DeltaAdsServer = createDeltaAdsServer({ ...adsOptions, authenticate: authenticateXds });
    const drain = config.WEFT_DRAIN_DEADLINE_MS;

    const rotator: ServingCertificateRotator = createServingCertificateRotator({
      issue: () => issueServingCertificate({ ca, namespace: config.POD_NAMESPACE, extraDnsNames: config.WEFT_SERVING_DNS_NAMES }),
      logger: caLogger,
    });
    await rotator.start();
    cleanups.push(() => rotator.close());

    const tlsServer = new grpc.Server();
    tlsAds.addTo(tlsServer);
    addCertificateService(tlsServer, certificates.handle);
    const tlsCredentials = grpc.experimental.createCertificateProviderServerCredentials(rotator, rotator, false);
    const xdsTls = await bindGrpc(tlsServer, hostPort(config.WEFT_LISTEN_ADDRESS, config.WEFT_XDS_TLS_PORT), tlsCredentials);
    cleanups.push(() => shutdownGrpc(tlsServer, drain));
    cleanups.push(() => tlsAds.close(drain));

    const plainServer = new grpc.Server();
    plainAds.addTo(plainServer);
    const plainAddress = hostPort(config.WEFT_LISTEN_ADDRESS, config.WEFT_XDS_PLAINTEXT_PORT);
    const xdsPlaintext = await bindGrpc(plainServer, plainAddress, grpc.ServerCredentials.createInsecure());
    cleanups.push(() => shutdownGrpc(plainServer, drain));
    cleanups.push(() => plainAds.close(drain));

    // 5. Monitoring.
    let ready = true;
    const admin: AdminServer = await startAdminServer(
      {
        ready: () => ready,
        metrics: () =>
          controlplaneMetrics({
            xds: [
              { listener: 'grpc-xds', stats: plainAds.stats() },
              { listener: 'https-dns', stats: tlsAds.stats() },
            ],
            ca: certificates.stats,
            rejectedConfigs: state.rejected.size,
            warnedConfigs: new Set(state.problems.filter((p) => p.level === 'warning').map((p) => p.key)).size,
            computations,
            resources: new Map([...snapshots.current()].map(([typeUrl, snapshot]) => [typeUrl, snapshot.size])),
          }),
        configDump: () => configDump(config, state, snapshots.current()),
        connections: () => ({
          'grpc-xds': plainAds.connections(),
          'https-dns': tlsAds.connections(),
        }),
        configErrors: () => configErrors(state),
      },
      config.WEFT_MONITORING_PORT,
      config.WEFT_LISTEN_ADDRESS,
    );
    cleanups.pushClosedLast(() => admin.close());

    const ports = { xdsPlaintext, xdsTls, monitoring: admin.port };
    logger.info({ ports, source: config.WEFT_CONFIG_SOURCE }, 'controlplane serving');

    let closing: Promise<void> | undefined;
    return {
      ports,
      rootCertPem: ca.rootCertPem,
      ready: () => ready,
      computed: () => state,
      close() {
        ready = false;
        closing ??= closeAll().then(() => logger.info('controlplane stopped'));
        return closing;
      },
    };
  } catch (cause) {
    await closeAll();
    throw cause;
  }
}

function configDump(
  config: ControlplaneConfig,
  state: ComputedState,
  snapshots: ReadonlyMap<string, ReadonlyMap<string, { readonly version: string }>>,
): unknown {
  const versions = Object.fromEntries(
    [...snapshots].map(([typeUrl, snapshot]) => [
      typeUrl,
      Object.fromEntries([...snapshot].map(([name, entry]) => [name, entry.version])),
    ]),
  );
  return {
    config,
    configVersion: state.configVersion,
    versions,
    workloads: state.resources.workloads,
    services: state.resources.services,
    authorizations: state.resources.authorizations,
    waypoints: state.waypoints,
    waypointServices: state.resources.waypointServices ?? [],
    l7Authorizations: state.resources.l7Authorizations ?? [],
    requestAuthentications: state.resources.requestAuthentications ?? [],
  };
}

function configErrors(state: ComputedState): unknown {
  return {
    configVersion: state.configVersion,
    rejected: Object.fromEntries(state.rejected),
    problems: state.problems,
  };
}
