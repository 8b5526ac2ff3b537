// Component tests of createHttpProxy's HTTP/2 side with real sockets on 127.0.0.1 and no HBONE: h2c and gRPC clients
// (node:http2, @grpc/grpc-js) reach the proxy over a TCP connection handed to `serve`, and `dial` connects to
// in-process endpoints — gRPC servers for a GRPC port, HTTP/1.1 servers for an HTTP port. The proxy wraps what it
// serves and dials over HTTP/2 in copyingDuplex, as it does with HBONE streams, so HTTP/2 runs over a plain Duplex
// rather than a socket here too.

import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import type { Duplex } from 'node:stream';

import * as grpc from '@grpc/grpc-js';
import { createMeshStore, type L7Authorization, type PortMapping, type RetryPolicy, type RouteRule, type Service, type WaypointPortProtocol, type WaypointService, type Workload } from '@weft/mesh-model';
import { service as serviceOf, workload } from '@weft/testing';

import { createTracing, RequestMetrics } from '../telemetry';
import type { Endpoint } from '../upstream';
import { L7Config } from '../xds/l7-config';
import { createHttpProxy, type HttpProxy } from './http-proxy';

const NAMESPACE = 'default';
const HOST = `greeter.${NAMESPACE}.svc.cluster.local`;
const KEY = `${NAMESPACE}/${HOST}`;
const PORT = 50051;
const CLIENT_PRINCIPAL = 'spiffe://cluster.local/ns/default/sa/client';

const greeter = (appProtocol: PortMapping['appProtocol']): Service =>
  serviceOf({ name: 'greeter', vips: [{ network: '', address: '10.96.0.40' }], ports: [{ servicePort: PORT, targetPort: PORT, appProtocol }] });

const pod = (name: string, ip: string): Workload =>
  workload({ name, addresses: [ip], serviceAccount: 'greeter', canonicalName: 'greeter', canonicalRevision: 'v1', services: { [KEY]: [{ servicePort: PORT, targetPort: PORT, appProtocol: 'GRPC' }] } });

const PODS = [pod('greeter-a', '10.244.1.21'), pod('greeter-b', '10.244.1.22')] as const;

// ---- gRPC without protobuf: raw bytes in and out ----

const identity = (b: Buffer): Buffer => b;
const UNARY = '/test.Greeter/Hello';
const STREAM = '/test.Greeter/Chat';

type UnaryBehaviour = (name: string, request: Buffer) => { code: grpc.status; message?: string } | Buffer;

interface Endpoints {
  /** The listening port of each pod's server, by pod IP. */
  readonly ports: Map<string, number>;
  close(): Promise<void>;
}

/** One gRPC server per pod: Hello answers per `behaviour`; Chat echoes every message upper-cased as it arrives. */
async function startGrpcEndpoints(behaviour: () => UnaryBehaviour): Promise<Endpoints> {
  const servers: grpc.Server[] = [];
  const ports = new Map<string, number>();
  for (const p of PODS) {
    const server = new grpc.Server();
    server.register<Buffer, Buffer>(
      UNARY,
      (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        const answer = behaviour()(p.name, call.request);
        if (Buffer.isBuffer(answer)) callback(null, answer);
        else callback({ code: answer.code, details: answer.message ?? '' });
      },
      identity,
      identity,
      'unary',
    );
    server.register<Buffer, Buffer>(
      STREAM,
      (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
        call.on('data', (message: Buffer) => call.write(Buffer.from(message.toString().toUpperCase())));
        call.on('end', () => call.end());
      },
      identity,
      identity,
      'bidi',
    );
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error === null ? resolve(bound) : reject(error))));
    servers.push(server);
    ports.set(p.addresses[0] ?? '', port);
  }
  return { ports, close: async () => void (await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.tryShutdown(() => resolve()))))) };
}

/** One HTTP/1.1 server per pod answering `hello from <pod> (HTTP/<version>)`. */
/** One node:http server per pod; `onCheckContinue` answers requests that expect `100 Continue` instead of Node. */
async function startHttp1Endpoints(onCheckContinue?: http.RequestListener): Promise<Endpoints> {
  const servers: http.Server[] = [];
  const ports = new Map<string, number>();
  for (const p of PODS) {
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/plain', 'x-backend': p.name });
        res.end(`hello from ${p.name} (HTTP/${req.httpVersion})`);
      });
    });
    if (onCheckContinue !== undefined) server.on('checkContinue', onCheckContinue);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    servers.push(server);
    ports.set(p.addresses[0] ?? '', typeof address === 'object' && address !== null ? address.port : 0);
  }
  return {
    ports,
    close: async () => {
      for (const s of servers) s.closeAllConnections();
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}

// ---- The proxy, its front port and what it records ----

interface Harness {
  readonly port: number;
  readonly metrics: RequestMetrics;
  readonly accessLog: Record<string, unknown>[];
  readonly proxy: HttpProxy;
}

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startProxy(options: {
  readonly endpoints: Endpoints;
  readonly protocol: WaypointPortProtocol;
  readonly appProtocol: PortMapping['appProtocol'];
  readonly routes?: readonly RouteRule[];
  readonly authorizations?: readonly L7Authorization[];
}): Promise<Harness> {
  const store = createMeshStore();
  const svc = greeter(options.appProtocol);
  store.apply({ services: { upsert: [svc] }, workloads: { upsert: [...PODS] } });
  const l7 = new L7Config();
  const waypointService: WaypointService = {
    hostname: HOST,
    namespace: NAMESPACE,
    name: 'greeter',
    ports: [{ name: options.protocol.toLowerCase(), port: PORT, targetPort: PORT, protocol: options.protocol }],
    httpRoutes: options.routes ?? [],
    routeSource: (options.routes ?? []).length === 0 ? '' : `VirtualService ${NAMESPACE}/greeter`,
    subsets: [],
    trafficPolicySource: '',
  };
  l7.applyServices({ upserts: [waypointService], removals: [] });
  l7.applyAuthorizations({ upserts: options.authorizations ?? [], removals: [] });
  const metrics = new RequestMetrics();
  const tracing = createTracing({ endpoint: undefined, serviceName: 'waypoint' });
  const accessLog: Record<string, unknown>[] = [];
  const dial = (endpoint: Endpoint): Promise<Duplex> => {
    const port = options.endpoints.ports.get(endpoint.ip);
    if (port === undefined) return Promise.reject(new Error(`connect ECONNREFUSED ${endpoint.ip}:${endpoint.port}`));
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => resolve(socket));
      socket.once('error', reject);
    });
  };
  const proxy = createHttpProxy({
    state: store,
    l7,
    self: { name: 'waypoint', namespace: NAMESPACE, hostname: `waypoint.${NAMESPACE}.svc.cluster.local` },
    dial,
    metrics,
    tracing,
    accessLog: (line) => accessLog.push(JSON.parse(line) as Record<string, unknown>),
    fetchJwks: () => Promise.reject(new Error('no JWKS in these tests')),
    logger: { warn: () => undefined, debug: () => undefined },
  });
  const sockets = new Set<net.Socket>();
  const front = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    proxy.serve(socket, { peerPrincipal: CLIENT_PRINCIPAL, sourceIp: '10.244.2.5', destinationIp: '10.96.0.40', destinationPort: PORT }, { service: svc, l7: waypointService, port: PORT, protocol: options.protocol });
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  const address = front.address();
  cleanups.push(async () => {
    await proxy.close();
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => front.close(() => resolve()));
    await tracing.shutdown();
    await options.endpoints.close();
  });
  return { port: typeof address === 'object' && address !== null ? address.port : 0, metrics, accessLog, proxy };
}

function grpcClient(port: number): grpc.Client {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.default_authority': `${HOST}:${PORT}` });
  cleanups.push(async () => client.close());
  return client;
}

function hello(client: grpc.Client, name: string): Promise<{ reply?: string; code: grpc.status; details: string }> {
  return new Promise((resolve) => {
    client.makeUnaryRequest<Buffer, Buffer>(UNARY, identity, identity, Buffer.from(name), (error, reply) => {
      if (error !== null) resolve({ code: error.code, details: error.details });
      else resolve({ reply: reply?.toString() ?? '', code: grpc.status.OK, details: '' });
    });
  });
}

async function requestLabels(harness: Harness, count: number): Promise<Record<string, string>[]> {
  const deadline = Date.now() + 2_000;
  while (harness.accessLog.length < count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  const family = harness.metrics.families().find((f) => f.name === 'istio_requests_total');
  return (family?.samples ?? []).map((s) => ({ ...s.labels, value: String(s.value) }));
}

const okGreeting: () => UnaryBehaviour = () => (name, request) => Buffer.from(`hello ${request.toString()} from ${name}`);

describe('createHttpProxy over HTTP/2', () => {
  it('proxies a unary gRPC call to a GRPC port: reply, trailers, and grpc metrics', async () => {
    const harness = await startProxy({ endpoints: await startGrpcEndpoints(okGreeting), protocol: 'GRPC', appProtocol: 'GRPC' });
    const result = await hello(grpcClient(harness.port), 'weft');
    expect(result).toMatchObject({ code: grpc.status.OK, reply: expect.stringMatching(/^hello weft from greeter-[ab]$/) as unknown as string });
    expect(await requestLabels(harness, 1)).toEqual([
      expect.objectContaining({ reporter: 'waypoint', request_protocol: 'grpc', response_code: '200', grpc_response_status: '0', response_flags: '-', value: '1' }),
    ]);
    expect(harness.accessLog[0]).toMatchObject({ protocol: 'HTTP/2', method: 'POST', path: UNARY, response_code: 200 });
  });

  it('passes a gRPC error status from the trailers to the client and into grpc_response_status', async () => {
    const harness = await startProxy({ endpoints: await startGrpcEndpoints(() => () => ({ code: grpc.status.NOT_FOUND, message: 'no such greeting' })), protocol: 'GRPC', appProtocol: 'GRPC' });
    expect(await hello(grpcClient(harness.port), 'x')).toEqual({ code: grpc.status.NOT_FOUND, details: 'no such greeting' });
    expect(await requestLabels(harness, 1)).toEqual([expect.objectContaining({ response_code: '200', grpc_response_status: '5' })]);
  });

  it('streams a bidirectional call: each message is answered before the client ends its side', async () => {
    const harness = await startProxy({ endpoints: await startGrpcEndpoints(okGreeting), protocol: 'GRPC', appProtocol: 'GRPC' });
    const call = grpcClient(harness.port).makeBidiStreamRequest<Buffer, Buffer>(STREAM, identity, identity);
    const next = (): Promise<string> => new Promise((resolve) => call.once('data', (message: Buffer) => resolve(message.toString())));
    call.write(Buffer.from('one'));
    expect(await next()).toBe('ONE');
    call.write(Buffer.from('two'));
    expect(await next()).toBe('TWO');
    const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
    call.end();
    expect((await status).code).toBe(grpc.status.OK);
  });

  it('answers a denied gRPC call with PERMISSION_DENIED and Istio\'s RBAC text, without contacting an endpoint', async () => {
    const denyAll: L7Authorization = {
      name: 'deny-hello',
      namespace: NAMESPACE,
      targets: [{ group: '', kind: 'Service', name: 'greeter', namespace: '' }],
      action: 'DENY',
      provider: '',
      dryRun: false,
      rules: [{ from: [], to: [{ hosts: [], notHosts: [], ports: [], notPorts: [], methods: [], notMethods: [], paths: [UNARY], notPaths: [] }], when: [] }],
    };
    let calls = 0;
    const harness = await startProxy({
      endpoints: await startGrpcEndpoints(() => {
        calls++;
        return okGreeting();
      }),
      protocol: 'GRPC',
      appProtocol: 'GRPC',
      authorizations: [denyAll],
    });
    expect(await hello(grpcClient(harness.port), 'x')).toEqual({ code: grpc.status.PERMISSION_DENIED, details: 'RBAC: access denied' });
    expect(calls).toBe(0);
    expect(await requestLabels(harness, 1)).toEqual([expect.objectContaining({ response_code: '200', grpc_response_status: '7', response_flags: 'RBAC' })]);
  });

  it('retries a call answered UNAVAILABLE on another endpoint with retryOn "unavailable"', async () => {
    const retries: RetryPolicy = {
      attempts: 2,
      retryOn: ['unavailable'],
      retriableStatusCodes: [],
      backoffBaseIntervalMs: 1,
      retryRemoteLocalities: false,
      ignorePreviousHosts: true,
      hostSelectionRetryMaxAttempts: 5,
      isDefault: false,
    };
    const route: RouteRule = { name: '', matches: [], action: { kind: 'forward', destinations: [{ destination: { host: HOST, serviceNamespace: NAMESPACE, port: 0, subset: '' }, weight: 100 }] }, mirrors: [], retries };
    const harness = await startProxy({
      endpoints: await startGrpcEndpoints(() => (name, request) => (name === 'greeter-a' ? { code: grpc.status.UNAVAILABLE, message: 'draining' } : Buffer.from(`hello ${request.toString()} from ${name}`))),
      protocol: 'GRPC',
      appProtocol: 'GRPC',
      routes: [route],
    });
    const client = grpcClient(harness.port);
    const results = await Promise.all(Array.from({ length: 10 }, () => hello(client, 'r')));
    expect(results.every((r) => r.code === grpc.status.OK && r.reply === 'hello r from greeter-b')).toBe(true);
  });

  it('serves an h2c client on an HTTP port and forwards HTTP/1.1 to the endpoint', async () => {
    const harness = await startProxy({ endpoints: await startHttp1Endpoints(), protocol: 'HTTP', appProtocol: 'HTTP11' });
    const session = http2.connect(`http://127.0.0.1:${harness.port}`);
    cleanups.push(async () => void session.close());
    const reply = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const stream = session.request({ ':path': '/hello', ':authority': `${HOST}:${PORT}` });
      let status = 0;
      const chunks: Buffer[] = [];
      stream.on('response', (headers) => (status = Number(headers[':status'])));
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => resolve({ status, body: Buffer.concat(chunks).toString() }));
      stream.on('error', reject);
    });
    expect(reply).toEqual({ status: 200, body: expect.stringMatching(/^hello from greeter-[ab] \(HTTP\/1\.1\)$/) as unknown as string });
    expect(await requestLabels(harness, 1)).toEqual([expect.objectContaining({ request_protocol: 'http', response_code: '200' })]);
  });

  it.each<[string, http.RequestListener | undefined, number, boolean]>([
    ["relays the endpoint's 100 Continue to an h2c client, which then sends its body", undefined, 200, true],
    ['relays an endpoint that refuses the expectation (417): the h2c client never sends its body', (_req, res) => res.writeHead(417).end(), 417, false],
  ])('Expect: 100-continue: %s', async (_name, onCheckContinue, status, continued) => {
    const harness = await startProxy({ endpoints: await startHttp1Endpoints(onCheckContinue), protocol: 'HTTP', appProtocol: 'HTTP11' });
    const session = http2.connect(`http://127.0.0.1:${harness.port}`);
    cleanups.push(async () => void session.close());
    const reply = await new Promise<{ status: number; continued: boolean }>((resolve, reject) => {
      const stream = session.request({ ':method': 'POST', ':path': '/hello', ':authority': `${HOST}:${PORT}`, expect: '100-continue' });
      let answered = 0;
      let sent = false;
      stream.on('continue', () => {
        sent = true;
        stream.end('payload');
      });
      stream.on('response', (headers) => {
        answered = Number(headers[':status']);
        // A final answer without 100 Continue: the body is not to be sent, the request side ends empty.
        if (!sent) stream.end();
      });
      stream.resume();
      stream.on('end', () => resolve({ status: answered, continued: sent }));
      stream.on('error', reject);
    });
    expect(reply).toEqual({ status, continued });
  });

  it('serves an HTTP/1.1 client on an HTTP2 port and forwards HTTP/2 to the endpoint', async () => {
    const servers: http2.Http2Server[] = [];
    const ports = new Map<string, number>();
    for (const p of PODS) {
      const server = http2.createServer((req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(`hello from ${p.name} (HTTP/${req.httpVersion})`);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const address = server.address();
      servers.push(server);
      ports.set(p.addresses[0] ?? '', typeof address === 'object' && address !== null ? address.port : 0);
    }
    const endpoints: Endpoints = { ports, close: async () => void (await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))))) };
    const harness = await startProxy({ endpoints, protocol: 'HTTP2', appProtocol: 'HTTP2' });
    const reply = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: harness.port, path: '/hello', headers: { host: `${HOST}:${PORT}` }, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(reply).toEqual({ status: 200, body: expect.stringMatching(/^hello from greeter-[ab] \(HTTP\/2\.0\)$/) as unknown as string });
  });

  it('close() lets an in-flight gRPC stream finish within the deadline, then ends the connection', async () => {
    const harness = await startProxy({ endpoints: await startGrpcEndpoints(okGreeting), protocol: 'GRPC', appProtocol: 'GRPC' });
    const call = grpcClient(harness.port).makeBidiStreamRequest<Buffer, Buffer>(STREAM, identity, identity);
    call.write(Buffer.from('before'));
    expect(await new Promise<string>((resolve) => call.once('data', (m: Buffer) => resolve(m.toString())))).toBe('BEFORE');
    const closed = harness.proxy.close();
    call.write(Buffer.from('during'));
    expect(await new Promise<string>((resolve) => call.once('data', (m: Buffer) => resolve(m.toString())))).toBe('DURING');
    const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
    call.end();
    expect((await status).code).toBe(grpc.status.OK);
    await closed;
  });
});
