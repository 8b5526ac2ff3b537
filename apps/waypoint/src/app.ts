// A waypoint wired together, in start order: xDS (endpoints into the MeshStore, L7 resources into L7Config) →
// its own certificate and the HBONE credentials → the HBONE pool to endpoints → the HTTP proxy → the HBONE server on
// 15008 → admin (127.0.0.1:15000), stats (15020) and readiness (15021). `close()` drains in reverse.

import * as net from 'node:net';
import type { Duplex } from 'node:stream';

import { createCredentialCache, createHbonePool, createHboneServer, pipeTunnel, type InboundTunnel } from '@weft/hbone';
import { formatSpiffeId, type Identity } from '@weft/identity';
import { createMeshStore, type MeshStore } from '@weft/mesh-model';
import { renderPrometheus } from '@weft/metrics';
import { createCertificateManager, type CertificateManager } from '@weft/workload-certs';
import { accessLogSink, CleanupStack, listenFastify } from '@weft/process-lifecycle';
import { controlplaneConnection } from '@weft/xds';
import Fastify from 'fastify';
import type pino from 'pino';

import type { WaypointConfig } from './config';
import { createHttpProxy, type HttpProxy } from './proxy/http-proxy';
import { resolveTarget, type WaypointSelf } from './proxy/target';
import { createTracing, RequestMetrics } from './telemetry';
import { createLoadBalancer, resolveEndpoints, type Endpoint } from './upstream';
import { L7Config } from './xds/l7-config';
import { createWaypointXds, waypointNodeId, type WaypointXds } from './xds/waypoint-xds';

export interface WaypointOptions {
  readonly config: WaypointConfig;
  readonly logger: pino.Logger;
  /** Where access-log lines go; default stdout. */
  readonly accessLog?: (line: string) => void;
}

export interface Waypoint {
  readonly ports: { readonly hbone: number; readonly admin: number; readonly stats: number; readonly readiness: number };
  readonly store: MeshStore;
  readonly l7: L7Config;
  readonly xds: WaypointXds;
  readonly certificates: CertificateManager;
  ready(): boolean;
  close(): Promise<void>;
}

const HBONE_PORT = 15008;
/**
 * The access log is written out once a second (or per 64 KiB), as Envoy's file access log is buffered, rather than
 * once per request: at a steady request rate a write per request is a twentieth of the waypoint's CPU.
 */
export const ACCESS_LOG_FLUSH_INTERVAL_MS = 1_000;

/** JWKS documents fetched over HTTP(S) with a timeout (RequestAuthentication `jwksUri`). */
async function fetchJwks(uri: string, timeoutMs: number): Promise<unknown> {
  const response = await fetch(uri, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) throw new Error(`GET ${uri}: HTTP ${response.status}`);
  return response.json();
}

export async function startWaypoint(options: WaypointOptions): Promise<Waypoint> {
  const { config, logger } = options;
  const cleanups = new CleanupStack(logger);
  const closeAll = (): Promise<void> => cleanups.closeAll();
  const accessLog = accessLogSink(cleanups, options.accessLog, { flushIntervalMs: ACCESS_LOG_FLUSH_INTERVAL_MS });

  try {
    const controlplane = controlplaneConnection({ address: config.XDS_ADDRESS, serverName: config.XDS_SERVER_NAME, rootCaFile: config.XDS_ROOT_CA, tokenFile: config.WEFT_TOKEN_FILE });
    const { channelOptions, token } = controlplane;
    const drain = config.WEFT_DRAIN_DEADLINE_MS;
    const identity: Identity = { trustDomain: config.TRUST_DOMAIN, namespace: config.POD_NAMESPACE, serviceAccount: config.SERVICE_ACCOUNT };
    const spiffeId = formatSpiffeId(identity);
    const self: WaypointSelf = { name: config.gatewayName, namespace: config.POD_NAMESPACE, hostname: `${config.gatewayName}.${config.POD_NAMESPACE}.svc.cluster.local` };

    // 1. Configuration.
    const store = createMeshStore();
    const l7 = new L7Config();
    const xds = createWaypointXds({
      address: config.XDS_ADDRESS,
      credentials: controlplane.credentials,
      channelOptions,
      nodeId: waypointNodeId({ ip: config.INSTANCE_IP, podName: config.POD_NAME, namespace: config.POD_NAMESPACE }),
      nodeMetadata: { NAME: config.POD_NAME, NAMESPACE: config.POD_NAMESPACE, SERVICE_ACCOUNT: config.SERVICE_ACCOUNT, NODE_NAME: config.NODE_NAME, CLUSTER_ID: config.CLUSTER_ID },
      token,
      clusterId: config.CLUSTER_ID,
      store,
      l7,
      logger: logger.child({ scope: 'xds' }),
    });
    cleanups.push(() => xds.close(drain));

    // 2. The waypoint's own certificate, kept renewed, and the TLS credentials built from it.
    const certificates = createCertificateManager({
      caAddress: config.CA_ADDRESS !== '' ? config.CA_ADDRESS : config.XDS_ADDRESS,
      credentials: controlplane.credentials,
      channelOptions,
      token,
      clusterId: config.CLUSTER_ID,
      impersonate: config.WEFT_IMPERSONATE === 'true',
      ...(config.WORKLOAD_CERT_TTL_SECONDS > 0 ? { ttlSeconds: config.WORKLOAD_CERT_TTL_SECONDS } : {}),
      logger: logger.child({ scope: 'certs' }),
    });
    cleanups.push(() => certificates.close());
    const credentials = createCredentialCache();
    cleanups.push(
      certificates.subscribe((change) => {
        if (change.kind === 'forgotten') credentials.delete(change.identity);
        else credentials.set(change.certificate);
      }),
    );
    certificates.prefetch(spiffeId);
    const ensureCredential = async (): Promise<void> => {
      if (credentials.get(identity) !== undefined) return;
      const certificate = await certificates.get(spiffeId, { timeoutMs: 10_000 });
      if (credentials.get(identity) === undefined) credentials.set(certificate);
    };

    // 3. Upstream: HBONE to `endpointIP:15008` with `:authority endpointIP:targetPort`, as the waypoint itself (§2.10).
    const pool = createHbonePool({ credentials, logger: logger.child({ scope: 'hbone' }) });
    cleanups.push(() => pool.close(drain));
    const dial = async (endpoint: Endpoint, signal: AbortSignal): Promise<Duplex> => {
      await ensureCredential();
      const workload = store.workloadByUid(endpoint.uid);
      const expected = workload === undefined ? [] : [{ trustDomain: workload.trustDomain, namespace: workload.namespace, serviceAccount: workload.serviceAccount }];
      const authority = net.isIPv6(endpoint.ip) ? `[${endpoint.ip}]:${endpoint.port}` : `${endpoint.ip}:${endpoint.port}`;
      const tunnel = await pool.connect({ destination: authority, hboneAddress: { host: endpoint.ip, port: HBONE_PORT }, sourceIdentity: identity, expectedIdentities: expected, signal });
      return tunnel.stream;
    };

    // 4. Telemetry and the HTTP proxy.
    const metrics = new RequestMetrics();
    const tracing = createTracing({ endpoint: config.tracesEndpoint, serviceName: config.OTEL_SERVICE_NAME !== '' ? config.OTEL_SERVICE_NAME : `${config.gatewayName}.${config.POD_NAMESPACE}` });
    cleanups.push(() => tracing.shutdown());
    const http: HttpProxy = createHttpProxy({ state: store, l7, self, dial, metrics, tracing, accessLog, fetchJwks, logger: logger.child({ scope: 'http' }) });
    cleanups.push(() => http.close());
    // Tunnels to endpoints that left the mesh are closed rather than kept until their idle timeout.
    cleanups.push(store.subscribe(() => http.pruneUpstreams()));

    /** A TCP port (or a workload-addressed connection): bytes to one endpoint, no L7 processing. */
    const balancers = new Map<string, ReturnType<typeof createLoadBalancer>>();
    const passthrough = async (tunnel: InboundTunnel, endpoint: Endpoint | undefined): Promise<void> => {
      if (endpoint === undefined) {
        tunnel.reject(503, 'no healthy upstream');
        return;
      }
      const controller = new AbortController();
      let upstream: Duplex;
      try {
        upstream = await dial(endpoint, controller.signal);
      } catch (cause) {
        tunnel.reject(503, `upstream connect failed: ${cause instanceof Error ? cause.message : String(cause)}`);
        return;
      }
      await pipeTunnel(tunnel.accept(), upstream);
    };

    const handleTunnel = async (tunnel: InboundTunnel): Promise<void> => {
      const target = resolveTarget({ host: tunnel.authority.host, port: tunnel.authority.port }, self, store, l7);
      const peerPrincipal = formatSpiffeId(tunnel.peerIdentity);
      if (target.kind === 'refused') {
        logger.debug({ authority: `${tunnel.authority.host}:${tunnel.authority.port}`, reason: target.reason }, 'tunnel refused');
        tunnel.reject(503, target.reason);
        return;
      }
      if (target.kind === 'workload') {
        const port = target.port;
        const ip = target.workload.addresses[0];
        await passthrough(tunnel, ip === undefined ? undefined : { uid: target.workload.uid, ip, port });
        return;
      }
      if (target.protocol === 'TCP') {
        const key = `${target.service.namespace}/${target.service.hostname}|${target.port}`;
        let lb = balancers.get(key);
        if (lb === undefined) {
          lb = createLoadBalancer(undefined, Math.random);
          balancers.set(key, lb);
        }
        await passthrough(tunnel, lb.pick(resolveEndpoints(store, target.service, target.port)));
        return;
      }
      http.serve(tunnel.accept(), { peerPrincipal, sourceIp: tunnel.remoteAddress.address, destinationIp: tunnel.authority.host, destinationPort: tunnel.authority.port }, { service: target.service, ...(target.l7 === undefined ? {} : { l7: target.l7 }), port: target.port, protocol: target.protocol });
    };

    // 5. HBONE server: clients' ztunnels tunnel to 15008 with the service VIP (or pod IP) as :authority.
    const hbone = createHboneServer({
      async selectCredential() {
        await ensureCredential();
        return credentials.get(identity);
      },
      handler: handleTunnel,
      acceptHostnameAuthorities: true,
      logger: logger.child({ scope: 'hbone-server' }),
    });
    const hboneAddress = await hbone.listen({ host: config.WEFT_LISTEN_ADDRESS, port: config.HBONE_PORT });
    cleanups.push(() => hbone.close(drain));

    // 6. Admin, stats, readiness.
    let closing = false;
    const ready = (): boolean => !closing && xds.synced() && certificates.current(spiffeId) !== undefined;
    const admin = Fastify({ logger: false });
    admin.get('/config_dump', async () => ({
      identity: spiffeId,
      gateway: self,
      services: l7.services(),
      authorizations: l7.authorizations(),
      requestAuthentications: l7.authentications(),
      workloads: store.workloads(),
      xds: xds.status(),
      certificates: certificates.snapshot(),
      pool: pool.connections(),
      hbone: hbone.stats(),
    }));
    const adminPort = await listenFastify(admin, '127.0.0.1', config.ADMIN_PORT);
    cleanups.push(() => admin.close());
    const stats = Fastify({ logger: false });
    const render = (): string => renderPrometheus(metrics.families());
    stats.get('/stats/prometheus', async (_request, reply) => reply.type('text/plain; version=0.0.4').send(render()));
    stats.get('/metrics', async (_request, reply) => reply.type('text/plain; version=0.0.4').send(render()));
    const statsPort = await listenFastify(stats, config.WEFT_LISTEN_ADDRESS, config.STATS_PORT);
    cleanups.push(() => stats.close());
    const readiness = Fastify({ logger: false });
    readiness.get('/healthz/ready', async (_request, reply) => (ready() ? reply.send('ready\n') : reply.code(503).send('not ready\n')));
    const readinessPort = await listenFastify(readiness, config.WEFT_LISTEN_ADDRESS, config.READINESS_PORT);
    cleanups.push(() => readiness.close());

    const ports = { hbone: hboneAddress.port, admin: adminPort, stats: statsPort, readiness: readinessPort };
    logger.info({ ports, gateway: `${self.namespace}/${self.name}`, identity: spiffeId }, 'waypoint started');
    let closed: Promise<void> | undefined;
    return {
      ports,
      store,
      l7,
      xds,
      certificates,
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
