// Component test of the waypoint's HTTP/2 paths over real HBONE: mutual TLS from a test CA, HTTP/2 CONNECT tunnels
// from libs/hbone on loopback, and h2c inside them on both legs. A client opens a tunnel to the waypoint's HBONE
// server and speaks gRPC (hand-framed) over it; the proxy forwards over HBONE to a destination "ztunnel" (an HBONE
// server that connects each tunnel to the app on loopback), where a @grpc/grpc-js server answers.

import { createHash, randomBytes } from 'node:crypto';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import type { Duplex } from 'node:stream';

import * as grpc from '@grpc/grpc-js';
import {
  createCredentialCache,
  createHbonePool,
  createHboneServer,
  pipeTunnel,
  type CredentialCache,
  type HbonePool,
  type HboneServer,
  type InboundTunnel,
  type WorkloadCertificate,
} from '@weft/hbone';
import { createCertificateAuthority, createCsr, createMemoryCaStorage, exportPrivateKeyPem, formatSpiffeId, generateKeyPair, type CertificateAuthority, type Identity } from '@weft/identity';
import { createMeshStore, type Service, type WaypointService, type Workload } from '@weft/mesh-model';
import { service, workload } from '@weft/testing';

import { copyingDuplex } from '../src/proxy/copying-duplex';
import { createHttpProxy, type HttpProxy } from '../src/proxy/http-proxy';
import { createTracing, RequestMetrics } from '../src/telemetry';
import type { Endpoint } from '../src/upstream';
import { L7Config } from '../src/xds/l7-config';

const CLIENT: Identity = { trustDomain: 'cluster.local', namespace: 'default', serviceAccount: 'client' };
const WAYPOINT: Identity = { trustDomain: 'cluster.local', namespace: 'default', serviceAccount: 'waypoint' };
const GREETER: Identity = { trustDomain: 'cluster.local', namespace: 'default', serviceAccount: 'greeter' };
const VIP = '10.96.0.50';
const SERVICE_PORT = 50051;
const HOST = 'greeter.default.svc.cluster.local';
const UNARY = '/test.Greeter/Hello';
const ECHO = '/test.Greeter/Echo';

async function issue(ca: CertificateAuthority, id: Identity): Promise<WorkloadCertificate> {
  const keys = await generateKeyPair();
  const signed = await ca.sign({ csrPem: await createCsr({ identity: id, keys }), identity: id, ttlSeconds: 3600 });
  if (!signed.ok) throw new Error(signed.error.message);
  return { identity: id, privateKeyPem: await exportPrivateKeyPem(keys.privateKey), certChainPem: signed.value.certChain.slice(0, -1), rootsPem: [ca.rootCertPem] };
}

async function credentialsFor(ca: CertificateAuthority, id: Identity): Promise<CredentialCache> {
  const cache = createCredentialCache();
  cache.set(await issue(ca, id));
  return cache;
}

/** gRPC's length-prefixed message framing (uncompressed). */
function frame(message: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, message]);
}

interface Harness {
  readonly clientPool: HbonePool;
  readonly waypointAddress: { host: string; port: number };
  readonly metrics: RequestMetrics;
}

const cleanups: (() => Promise<void> | void)[] = [];
let harness: Harness;

beforeAll(async () => {
  const created = await createCertificateAuthority({ storage: createMemoryCaStorage(), trustDomain: 'cluster.local' });
  if (!created.ok) throw new Error(created.error.message);
  const ca = created.value;

  // The app: Hello answers "hello <name>"; Echo returns the request's SHA-256 and size.
  const app = new grpc.Server();
  const identityCodec = (b: Buffer): Buffer => b;
  app.register<Buffer, Buffer>(UNARY, (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => callback(null, Buffer.from(`hello ${call.request.toString()}`)), identityCodec, identityCodec, 'unary');
  app.register<Buffer, Buffer>(
    ECHO,
    (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => callback(null, Buffer.from(`${call.request.length} ${createHash('sha256').update(call.request).digest('hex')}`)),
    identityCodec,
    identityCodec,
    'unary',
  );
  const appPort = await new Promise<number>((resolve, reject) => app.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) => (error === null ? resolve(port) : reject(error))));
  cleanups.push(() => new Promise<void>((resolve) => app.tryShutdown(() => resolve())));

  // The destination "ztunnel": HBONE in, each tunnel connected to the authority's port on loopback.
  const greeterCredentials = await credentialsFor(ca, GREETER);
  const destination: HboneServer = createHboneServer({
    selectCredential: () => greeterCredentials.ready(GREETER),
    handler: async (tunnel: InboundTunnel) => {
      const socket = net.connect({ host: '127.0.0.1', port: tunnel.authority.port, allowHalfOpen: true });
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('error', reject);
      });
      await pipeTunnel(tunnel.accept(), socket);
    },
  });
  const listening = await destination.listen({ host: '127.0.0.1', port: 0 });
  const destinationAddress = { host: '127.0.0.1', port: listening.port };
  cleanups.push(() => destination.close(1_000));

  // The mesh as the waypoint sees it: one Service on a GRPC port, one pod whose target port is the app's.
  const pod: Workload = workload({ name: 'greeter-0', addresses: ['127.0.0.1'], serviceAccount: 'greeter', services: { [`default/${HOST}`]: [{ servicePort: SERVICE_PORT, targetPort: appPort, appProtocol: 'GRPC' }] } });
  const greeter: Service = service({ name: 'greeter', vips: [{ network: '', address: VIP }], ports: [{ servicePort: SERVICE_PORT, targetPort: appPort, appProtocol: 'GRPC' }] });
  const store = createMeshStore();
  store.apply({ services: { upsert: [greeter] }, workloads: { upsert: [pod] } });
  const l7 = new L7Config();
  const waypointService: WaypointService = { hostname: HOST, namespace: 'default', name: 'greeter', ports: [{ name: 'grpc', port: SERVICE_PORT, targetPort: appPort, protocol: 'GRPC' }], httpRoutes: [], routeSource: '', subsets: [], trafficPolicySource: '' };
  l7.applyServices({ upserts: [waypointService], removals: [] });

  // The waypoint: HBONE out with its own identity, the proxy, HBONE in.
  const waypointCredentials = await credentialsFor(ca, WAYPOINT);
  const upstreamPool = createHbonePool({ credentials: waypointCredentials });
  cleanups.push(() => upstreamPool.close(1_000));
  const dial = async (endpoint: Endpoint, signal: AbortSignal): Promise<Duplex> => {
    const tunnel = await upstreamPool.connect({ destination: `${endpoint.ip}:${endpoint.port}`, hboneAddress: destinationAddress, sourceIdentity: WAYPOINT, expectedIdentities: [GREETER], signal });
    return tunnel.stream;
  };
  const metrics = new RequestMetrics();
  const tracing = createTracing({ endpoint: undefined, serviceName: 'waypoint' });
  const proxy: HttpProxy = createHttpProxy({
    state: store,
    l7,
    self: { name: 'waypoint', namespace: 'default', hostname: 'waypoint.default.svc.cluster.local' },
    dial,
    metrics,
    tracing,
    accessLog: () => undefined,
    fetchJwks: () => Promise.reject(new Error('no JWKS here')),
    logger: { warn: () => undefined, debug: () => undefined },
  });
  cleanups.push(() => proxy.close());
  const waypoint = createHboneServer({
    selectCredential: () => waypointCredentials.ready(WAYPOINT),
    acceptHostnameAuthorities: true,
    handler: async (tunnel: InboundTunnel) => {
      proxy.serve(
        tunnel.accept(),
        { peerPrincipal: formatSpiffeId(tunnel.peerIdentity), sourceIp: tunnel.remoteAddress.address, destinationIp: tunnel.authority.host, destinationPort: tunnel.authority.port },
        { service: greeter, l7: waypointService, port: SERVICE_PORT, protocol: 'GRPC' },
      );
    },
  });
  const waypointAddress = { host: '127.0.0.1', port: (await waypoint.listen({ host: '127.0.0.1', port: 0 })).port };
  cleanups.push(() => waypoint.close(1_000));

  const clientPool = createHbonePool({ credentials: await credentialsFor(ca, CLIENT) });
  cleanups.push(() => clientPool.close(1_000));
  harness = { clientPool, waypointAddress, metrics };
}, 60_000);

afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** An h2c session inside one HBONE tunnel from the client to the waypoint, addressed to the service VIP. */
async function sessionToService(): Promise<http2.ClientHttp2Session> {
  const tunnel = await harness.clientPool.connect({ destination: `${VIP}:${SERVICE_PORT}`, hboneAddress: harness.waypointAddress, sourceIdentity: CLIENT, expectedIdentities: [WAYPOINT] });
  const session = http2.connect(`http://${VIP}:${SERVICE_PORT}`, { createConnection: () => copyingDuplex(tunnel.stream) });
  session.on('error', () => undefined);
  cleanups.push(() => void session.destroy());
  return session;
}

/** One unary gRPC call, framed by hand: the reply message and the grpc-status from the trailers. */
function call(session: http2.ClientHttp2Session, path: string, message: Buffer): Promise<{ status: string; reply: Buffer }> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': 'POST', ':path': path, ':authority': `${HOST}:${SERVICE_PORT}`, 'content-type': 'application/grpc', te: 'trailers' });
    const chunks: Buffer[] = [];
    let status = '';
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('trailers', (trailers) => (status = String(trailers['grpc-status'] ?? '')));
    stream.on('end', () => {
      const body = Buffer.concat(chunks);
      resolve({ status, reply: body.length >= 5 ? body.subarray(5, 5 + body.readUInt32BE(1)) : Buffer.alloc(0) });
    });
    stream.on('error', reject);
    stream.end(frame(message));
  });
}

describe('the waypoint over real HBONE with HTTP/2 on both legs', () => {
  it('a unary gRPC call through the waypoint gets its reply and grpc-status 0 in the trailers', async () => {
    const session = await sessionToService();
    expect(await call(session, UNARY, Buffer.from('weft'))).toEqual({ status: '0', reply: Buffer.from('hello weft') });
    const requests = harness.metrics.families().find((f) => f.name === 'istio_requests_total');
    expect(requests?.samples[0]?.labels).toMatchObject({ request_protocol: 'grpc', grpc_response_status: '0', response_code: '200', source_principal: formatSpiffeId(CLIENT) });
  });

  it('carries a 3 MiB message (past the retry buffer, so streamed) and 20 concurrent calls on one session byte-exactly (flow control on both legs)', async () => {
    const session = await sessionToService();
    const big = randomBytes(3 * 1024 * 1024);
    const expected = `${big.length} ${createHash('sha256').update(big).digest('hex')}`;
    const small = Array.from({ length: 20 }, (_, i) => Buffer.from(`call ${i}`));
    const [bigReply, ...smallReplies] = await Promise.all([call(session, ECHO, big), ...small.map((m) => call(session, UNARY, m))]);
    expect(bigReply).toEqual({ status: '0', reply: Buffer.from(expected) });
    expect(smallReplies.map((r) => r.reply.toString())).toEqual(small.map((m) => `hello ${m.toString()}`));
  }, 30_000);
});
