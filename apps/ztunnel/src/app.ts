// ztunnel wired together, in start order: xDS into the mesh store → certificate manager and the HBONE credential
// cache → authorization and telemetry → HBONE pool and server → pod proxies (from ZDS, or configured loopback
// pods) → admin (127.0.0.1:15000), stats (15020) and readiness (15021). `close()` drains in reverse.

import * as net from 'node:net';

import { createCredentialCache, createHbonePool, createHboneServer, type InboundTunnel, type SocketFactory } from '@weft/hbone';
import { formatSpiffeId, parseSpiffeId } from '@weft/identity';
import { createMeshStore, type MeshStore } from '@weft/mesh-model';
import { createCertificateManager, type CertificateManager } from '@weft/workload-certs';
import { accessLogSink, CleanupStack, listenFastify } from '@weft/process-lifecycle';
import { controlplaneConnection } from '@weft/xds';
import Fastify from 'fastify';
import type pino from 'pino';

import { buildConfigDump } from './admin';
import { createAuthorizer, createConnectionRegistry } from './authz';
import type { ZtunnelConfig } from './config';
import { loopbackListeners, netnsListeners, type ListenerFactory } from './pods/pod-listeners';
import { PodRegistry, type LocalPod } from './pods/pod-registry';
import { loopbackNetworking, netnsNetworking, type PodNetworking } from './proxy/pod-networking';
import { createPodProxy, OpenConnections, podIdentity, podWorkloadUid } from './proxy/pod-proxy';
import { normalizeIp } from './routing';
import { createTcpMetrics } from './telemetry';
import { buildXdsNode } from './xds/xds-node';
import { createXdsState, type XdsState } from './xds/xds-state';
import { ZdsClient } from './zds/zds-client';

export interface ZtunnelOptions {
  readonly config: ZtunnelConfig;
  readonly logger: pino.Logger;
  /** Where access-log lines go; default stdout. */
  readonly accessLog?: (line: string) => void;
}

export interface ZtunnelPorts {
  readonly admin: number;
  readonly stats: number;
  readonly readiness: number;
}

export interface Ztunnel {
  readonly ports: ZtunnelPorts;
  readonly store: MeshStore;
  readonly xds: XdsState;
  readonly certificates: CertificateManager;
  readonly pods: PodRegistry;
  ready(): boolean;
  close(): Promise<void>;
}

export async function startZtunnel(options: ZtunnelOptions): Promise<Ztunnel> {
  const { config, logger } = options;
  const cleanups = new CleanupStack(logger);
  const closeAll = (): Promise<void> => cleanups.closeAll();
  const accessLog = accessLogSink(cleanups, options.accessLog);

  try {
    const controlplane = controlplaneConnection({ address: config.XDS_ADDRESS, serverName: config.XDS_SERVER_NAME, rootCaFile: config.XDS_ROOT_CA, tokenFile: config.WEFT_TOKEN_FILE });
    const { channelOptions, token } = controlplane;
    const drain = config.WEFT_DRAIN_DEADLINE_MS;

    // 1. Configuration from the controlplane.
    const store = createMeshStore();
    const node = buildXdsNode({ instanceIps: [config.INSTANCE_IP], podName: config.POD_NAME, podNamespace: config.POD_NAMESPACE, nodeName: config.NODE_NAME });
    const xds = createXdsState({
      address: config.XDS_ADDRESS,
      credentials: controlplane.credentials,
      channelOptions,
      nodeId: node.id,
      nodeMetadata: node.metadata,
      token,
      clusterId: config.CLUSTER_ID,
      store,
      logger: logger.child({ scope: 'xds' }),
    });
    cleanups.push(() => xds.close(drain));

    // 2. Certificates, and the TLS credentials every HBONE connection of an identity shares.
    const certificates = createCertificateManager({
      caAddress: config.CA_ADDRESS !== '' ? config.CA_ADDRESS : config.XDS_ADDRESS,
      credentials: controlplane.credentials,
      channelOptions,
      token,
      clusterId: config.CLUSTER_ID,
      ...(config.WORKLOAD_CERT_TTL_SECONDS > 0 ? { ttlSeconds: config.WORKLOAD_CERT_TTL_SECONDS } : {}),
      logger: logger.child({ scope: 'certs' }),
    });
    cleanups.push(() => certificates.close());
    const credentials = createCredentialCache();
    const unsubscribeCerts = certificates.subscribe((change) => {
      if (change.kind === 'forgotten') credentials.delete(change.identity);
      else credentials.set(change.certificate);
    });
    cleanups.push(unsubscribeCerts);
    const ensureCredential = async (spiffeId: string): Promise<void> => {
      const identity = parseSpiffeId(spiffeId);
      if (!identity.ok) throw new Error(identity.error.message);
      if (credentials.get(identity.value) !== undefined) return;
      const certificate = await certificates.get(spiffeId, { timeoutMs: config.WEFT_CERT_WAIT_MS });
      if (credentials.get(identity.value) === undefined) credentials.set(certificate);
    };

    // 3. Authorization with live re-evaluation, and telemetry.
    const authorizer = createAuthorizer(store);
    const open = new OpenConnections();
    const registry = createConnectionRegistry({
      state: store,
      authorizer,
      onRevoked: (revoked) => open.close(revoked.id, revoked.message),
    });
    cleanups.push(store.subscribe((change) => void registry.onMeshChange(change)));
    const metrics = createTcpMetrics();

    // 4. Sockets: inside pod netns, or loopback addresses standing in for them.
    const loopback = config.WEFT_ZTUNNEL_MODE === 'loopback';
    // Built later (they need the proxy, which needs these): late-bound references.
    const late: { pods?: PodRegistry; handleTunnel?: (tunnel: InboundTunnel) => Promise<void> } = {};
    const podForAddress = (ip: string): LocalPod | undefined => {
      for (const pod of late.pods?.list() ?? []) {
        if (pod.loopbackAddress === ip) return pod;
        const workload = store.workloadByUid(podWorkloadUid(config.CLUSTER_ID, pod));
        if (workload?.addresses.some((address) => normalizeIp(address) === ip) === true) return pod;
      }
      return undefined;
    };
    const listeners: ListenerFactory = loopback
      ? loopbackListeners({
          outboundTargets: new Map(
            config.WEFT_LOOPBACK_PODS.flatMap((p) => (p.outbound === undefined ? [] : [[p.uid, { address: p.outbound.address, port: p.outbound.port, family: net.isIPv6(p.outbound.address) ? 6 : 4 } as const]])),
          ),
        })
      : netnsListeners();
    const networking: PodNetworking = loopback ? loopbackNetworking() : netnsNetworking();
    // Outbound HBONE sockets come from the source pod (its netns, mark 1337), found by the address bound to them.
    const socketFactory: SocketFactory = async (request) => {
      const pod = request.localAddress === undefined ? undefined : podForAddress(normalizeIp(request.localAddress));
      if (pod === undefined) {
        return net.connect({ host: request.host, port: request.port, ...(request.localAddress === undefined ? {} : { localAddress: request.localAddress }) });
      }
      return networking.connect(pod, { host: request.host, port: request.port, signal: request.signal });
    };

    // 5. HBONE client pool and the node's HBONE server (one per node; each pod's 15008 listener feeds it).
    const pool = createHbonePool({ credentials, socketFactory, logger: logger.child({ scope: 'hbone' }) });
    cleanups.push(() => pool.close(drain));
    const hbone = createHboneServer({
      async selectCredential(local) {
        const pod = podForAddress(normalizeIp(local.address));
        if (pod === undefined) return undefined;
        const spiffeId = formatSpiffeId(podIdentity(config.TRUST_DOMAIN, pod));
        await ensureCredential(spiffeId);
        return credentials.get(podIdentity(config.TRUST_DOMAIN, pod));
      },
      handler: (tunnel) => late.handleTunnel?.(tunnel),
      credentialTimeoutMs: config.WEFT_CERT_WAIT_MS,
      logger: logger.child({ scope: 'hbone-server' }),
    });
    cleanups.push(() => hbone.close(drain));

    // 6. Pod proxies.
    const proxy = createPodProxy(
      {
        state: store,
        clusterId: config.CLUSTER_ID,
        trustDomain: config.TRUST_DOMAIN,
        listeners,
        networking,
        pool,
        hbone,
        ensureCredential,
        authorizer,
        registry,
        metrics,
        accessLog,
        logger: logger.child({ scope: 'proxy' }),
        podForAddress,
      },
      open,
    );
    late.handleTunnel = proxy.handleTunnel;
    const identityUsers = new Map<string, number>();
    const registryOfPods = new PodRegistry(async (pod) => {
      const spiffeId = formatSpiffeId(podIdentity(config.TRUST_DOMAIN, pod));
      certificates.prefetch(spiffeId);
      identityUsers.set(spiffeId, (identityUsers.get(spiffeId) ?? 0) + 1);
      const runtime = await proxy.startPod(pod).catch((cause: unknown) => {
        release(spiffeId);
        throw cause;
      });
      return {
        async close() {
          await runtime.close();
          release(spiffeId);
        },
      };
    }, logger.child({ scope: 'pods' }));
    const release = (spiffeId: string): void => {
      const users = (identityUsers.get(spiffeId) ?? 1) - 1;
      if (users > 0) identityUsers.set(spiffeId, users);
      else {
        identityUsers.delete(spiffeId);
        certificates.forget(spiffeId);
      }
    };
    late.pods = registryOfPods;
    cleanups.push(() => registryOfPods.close());

    let zds: ZdsClient | undefined;
    if (loopback) {
      for (const p of config.WEFT_LOOPBACK_PODS) {
        await registryOfPods.addLoopback(p.uid, { name: p.name, namespace: p.namespace, serviceAccount: p.serviceAccount }, p.address);
      }
    } else {
      const client = new ZdsClient({ socketPath: config.INPOD_UDS, pods: registryOfPods, logger: logger.child({ scope: 'zds' }) });
      client.start();
      zds = client;
      cleanups.push(() => client.close());
    }

    // 7. Admin, stats, readiness.
    let closing = false;
    const ready = (): boolean => !closing && xds.status().ready && (zds === undefined || zds.synced);
    const admin = Fastify({ logger: false });
    admin.get('/config_dump', async () =>
      buildConfigDump({
        state: store,
        certificates: certificates.snapshot(),
        workloadState: Object.fromEntries(registryOfPods.list().map((p) => [p.uid, { state: 'Up', info: p.workload }])),
        config,
      }),
    );
    admin.get('/debug/connections', async () => ({ open: open.size, tracked: registry.size, pool: pool.connections(), hbone: hbone.stats() }));
    const adminPort = await listenFastify(admin, '127.0.0.1', config.ADMIN_PORT);
    cleanups.push(() => admin.close());
    const stats = Fastify({ logger: false });
    stats.get('/metrics', async (_request, reply) => reply.type('text/plain; version=0.0.4').send(metrics.render()));
    stats.get('/stats/prometheus', async (_request, reply) => reply.type('text/plain; version=0.0.4').send(metrics.render()));
    const statsPort = await listenFastify(stats, config.WEFT_LISTEN_ADDRESS, config.STATS_PORT);
    cleanups.push(() => stats.close());
    const readiness = Fastify({ logger: false });
    readiness.get('/healthz/ready', async (_request, reply) => (ready() ? reply.send('ready\n') : reply.code(503).send('not ready\n')));
    const readinessPort = await listenFastify(readiness, config.WEFT_LISTEN_ADDRESS, config.READINESS_PORT);
    cleanups.push(() => readiness.close());

    const ports = { admin: adminPort, stats: statsPort, readiness: readinessPort };
    logger.info({ ports, mode: config.WEFT_ZTUNNEL_MODE, node: config.NODE_NAME }, 'ztunnel started');
    let closed: Promise<void> | undefined;
    return {
      ports,
      store,
      xds,
      certificates,
      pods: registryOfPods,
      ready,
      close() {
        closing = true;
        closed ??= closeAll();
        return closed;
      },
    };
  } catch (cause) {
    await closeAll();
    throw cause;
  }
}
