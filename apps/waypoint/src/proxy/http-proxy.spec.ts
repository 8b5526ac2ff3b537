// Component tests of createHttpProxy with real sockets on 127.0.0.1 and no HBONE: `dial` (the HBONE tunnel in
// production) is replaced by a plain TCP connect to an in-process HTTP server standing in for each endpoint, and the
// client side is a plain TCP connection handed to `serve` as if it were a terminated tunnel.

import { createHash, randomBytes } from 'node:crypto';
import * as http from 'node:http';
import * as net from 'node:net';
import type { Duplex } from 'node:stream';

import {
  createMeshStore,
  type L7Authorization,
  type MeshState,
  type PortMapping,
  type RetryPolicy,
  type RouteMatch,
  type RouteRule,
  type Service,
  type TrafficPolicy,
  type WaypointService,
  type WeightedDestination,
  type Workload,
} from '@weft/mesh-model';
import { seededRandom, service, workload } from '@weft/testing';

import { createTracing, RequestMetrics } from '../telemetry';
import type { Endpoint } from '../upstream';
import { L7Config } from '../xds/l7-config';
import { createHttpProxy, type HttpProxy, type ServiceTarget, type TunnelInfo } from './http-proxy';

const NAMESPACE = 'default';
const HOST = `reviews.${NAMESPACE}.svc.cluster.local`;
const KEY = `${NAMESPACE}/${HOST}`;
const VIP = '10.96.0.30';
const PORT = 9080;
const CLIENT_PRINCIPAL = 'spiffe://cluster.local/ns/default/sa/productpage';

const mapping: PortMapping = { servicePort: PORT, targetPort: PORT, appProtocol: 'HTTP11' };

const reviews: Service = service({ name: 'reviews', vips: [{ network: '', address: VIP }], ports: [mapping] });

const pod = (name: string, ip: string): Workload =>
  workload({ name, addresses: [ip], serviceAccount: 'bookinfo-reviews', canonicalName: 'reviews', canonicalRevision: name.slice('reviews-'.length), services: { [KEY]: [mapping] } });

const PODS = [pod('reviews-v1', '10.244.1.11'), pod('reviews-v2', '10.244.1.12'), pod('reviews-v3', '10.244.1.13')] as const;
const [V1, V2, V3] = PODS;

function meshState(workloads: readonly Workload[] = PODS): MeshState {
  const store = createMeshStore();
  store.apply({ services: { upsert: [reviews] }, workloads: { upsert: workloads } });
  return store;
}

// ---- L7 fixtures, built by hand as the xDS translator would ----

function match(fields: Partial<RouteMatch> = {}): RouteMatch {
  return { name: '', headers: {}, withoutHeaders: {}, queryParams: {}, ignoreUriCase: false, port: 0, ...fields };
}

function to(subset: string, weight = 100): WeightedDestination {
  return { destination: { host: HOST, serviceNamespace: NAMESPACE, port: 0, subset }, weight };
}

function route(fields: Partial<RouteRule> = {}): RouteRule {
  return { name: '', matches: [], action: { kind: 'forward', destinations: [to('')] }, mirrors: [], ...fields };
}

function retries(fields: Partial<RetryPolicy>): RetryPolicy {
  return {
    attempts: 2,
    retryOn: [],
    retriableStatusCodes: [],
    backoffBaseIntervalMs: 1,
    retryRemoteLocalities: false,
    ignorePreviousHosts: true,
    hostSelectionRetryMaxAttempts: 5,
    isDefault: false,
    ...fields,
  };
}

function waypointService(httpRoutes: readonly RouteRule[], trafficPolicy?: TrafficPolicy): WaypointService {
  return {
    hostname: HOST,
    namespace: NAMESPACE,
    name: 'reviews',
    ports: [{ name: 'http', port: PORT, targetPort: PORT, protocol: 'HTTP' }],
    httpRoutes,
    routeSource: httpRoutes.length === 0 ? '' : `VirtualService ${NAMESPACE}/reviews`,
    ...(trafficPolicy === undefined ? {} : { trafficPolicy }),
    subsets: [
      { name: 'v1', labels: { version: 'v1' }, workloadUids: [V1.uid] },
      { name: 'v2', labels: { version: 'v2' }, workloadUids: [V2.uid] },
    ],
    trafficPolicySource: trafficPolicy === undefined ? '' : `DestinationRule ${NAMESPACE}/reviews`,
  };
}

// ---- Endpoints: one in-process HTTP server per workload ----

interface SeenRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

type Behaviour = (req: SeenRequest, res: http.ServerResponse, backend: Backend) => void;

interface Backend {
  readonly workload: Workload;
  readonly server: http.Server;
  port: number;
  behaviour: Behaviour;
  readonly seen: SeenRequest[];
}

/** 200 with a body naming the endpoint, and an `x-backend` header. */
const answerOk: Behaviour = (_req, res, backend) => {
  res.writeHead(200, { 'content-type': 'text/plain', 'x-backend': backend.workload.name });
  res.end(`hello from ${backend.workload.name}`);
};

const answerStatus =
  (status: number): Behaviour =>
  (_req, res) => {
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(`status ${status}`);
  };

/** Answers after `ms`; the timer is dropped if the connection goes first. */
const answerAfter =
  (ms: number): Behaviour =>
  (req, res, backend) => {
    const timer = setTimeout(() => answerOk(req, res, backend), ms);
    res.on('close', () => clearTimeout(timer));
  };

const bodyDigest = (body: Buffer): string => createHash('sha256').update(body).digest('hex');

function startBackend(workload: Workload): Promise<Backend> {
  const backend: Backend = {
    workload,
    server: http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const seen: SeenRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
        backend.seen.push(seen);
        backend.behaviour(seen, res, backend);
      });
    }),
    port: 0,
    behaviour: answerOk,
    seen: [],
  };
  // A WebSocket endpoint as well: it accepts the upgrade (RFC 6455 §4.2.2) and echoes what it gets, prefixed.
  backend.server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    const key = String(req.headers['sec-websocket-key'] ?? '');
    const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nx-backend: ${workload.name}\r\n\r\n`);
    const echo = (chunk: Buffer): void => void socket.write(Buffer.concat([Buffer.from('echo:'), chunk]));
    if (head.length > 0) echo(head);
    socket.on('data', echo);
    socket.on('end', () => socket.end());
  });
  return new Promise((resolve) => {
    backend.server.listen(0, '127.0.0.1', () => {
      const address = backend.server.address();
      backend.port = typeof address === 'object' && address !== null ? address.port : 0;
      resolve(backend);
    });
  });
}

// ---- The proxy under test, its client side and what it records ----

interface Harness {
  readonly port: number;
  readonly proxy: HttpProxy;
  readonly metrics: RequestMetrics;
  readonly accessLog: Record<string, unknown>[];
  /** IPs of every `dial`, in order. */
  readonly dials: string[];
  /** What the proxy logged at warn level. */
  readonly warnings: string[];
}

interface HarnessOptions {
  readonly routes?: readonly RouteRule[];
  readonly trafficPolicy?: TrafficPolicy;
  readonly authorizations?: readonly L7Authorization[];
  readonly state?: MeshState;
  readonly random?: () => number;
  /** Endpoint IPs whose dial fails as a refused connection would. */
  readonly unreachable?: readonly string[];
}

interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
  readonly socket: net.Socket;
}

interface Outgoing {
  readonly method?: string;
  readonly path?: string;
  readonly headers?: Record<string, string>;
  readonly body?: Buffer;
}

let backends: Backend[] = [];
const cleanups: (() => Promise<void>)[] = [];

const backendOf = (workload: Workload): Backend => {
  const backend = backends.find((b) => b.workload.uid === workload.uid);
  if (backend === undefined) throw new Error(`no backend for ${workload.uid}`);
  return backend;
};

async function startProxy(options: HarnessOptions = {}): Promise<Harness> {
  const state = options.state ?? meshState();
  const l7 = new L7Config();
  const service = waypointService(options.routes ?? [], options.trafficPolicy);
  l7.applyServices({ upserts: [service], removals: [] });
  l7.applyAuthorizations({ upserts: options.authorizations ?? [], removals: [] });
  const metrics = new RequestMetrics();
  const tracing = createTracing({ endpoint: undefined, serviceName: 'waypoint' });
  const accessLog: Record<string, unknown>[] = [];
  const dials: string[] = [];
  const warnings: string[] = [];
  const unreachable = new Set(options.unreachable ?? []);

  const dial = (endpoint: Endpoint): Promise<Duplex> => {
    dials.push(endpoint.ip);
    const backend = backends.find((b) => b.workload.addresses[0] === endpoint.ip);
    if (backend === undefined || unreachable.has(endpoint.ip) || endpoint.port !== PORT) {
      return Promise.reject(new Error(`connect ECONNREFUSED ${endpoint.ip}:${endpoint.port}`));
    }
    return new Promise((resolve, reject) => {
      const socket = net.connect(backend.port, '127.0.0.1');
      socket.once('connect', () => resolve(socket));
      socket.once('error', reject);
    });
  };

  const proxy = createHttpProxy({
    state,
    l7,
    self: { name: 'waypoint', namespace: NAMESPACE, hostname: `waypoint.${NAMESPACE}.svc.cluster.local` },
    dial,
    metrics,
    tracing,
    accessLog: (line) => accessLog.push(JSON.parse(line) as Record<string, unknown>),
    fetchJwks: () => Promise.reject(new Error('no JWKS in these tests')),
    ...(options.random === undefined ? {} : { random: options.random }),
    logger: { warn: (fields, message) => warnings.push(`${message} ${JSON.stringify(fields)}`), debug: () => undefined },
  });

  const tunnel: TunnelInfo = { peerPrincipal: CLIENT_PRINCIPAL, sourceIp: '10.244.2.5', destinationIp: VIP, destinationPort: PORT };
  const target: ServiceTarget = { service: reviews, l7: service, port: PORT };
  const sockets = new Set<net.Socket>();
  const front = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    proxy.serve(socket, tunnel, target);
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  const address = front.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;

  cleanups.push(async () => {
    await proxy.close();
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => front.close(() => resolve()));
    await tracing.shutdown();
  });
  return { port, proxy, metrics, accessLog, dials, warnings };
}

/** One request, by default on a fresh connection (`agent: false`, so `Connection: close`). */
function send(port: number, outgoing: Outgoing = {}, agent: http.Agent | false = false): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: outgoing.method ?? 'GET',
        path: outgoing.path ?? '/reviews/1',
        headers: { host: `${HOST}:${PORT}`, ...outgoing.headers },
        agent,
      },
      (res) => {
        // Taken now: a keep-alive agent detaches the socket from the response once it is read.
        const socket = res.socket;
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), socket }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(outgoing.body);
  });
}

/** The access log is written when the response closes, which can be just after the client has read it all. */
async function logLines(harness: Harness, count: number): Promise<Record<string, unknown>[]> {
  const deadline = Date.now() + 2_000;
  while (harness.accessLog.length < count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  return harness.accessLog;
}

async function lastLog(harness: Harness, count: number): Promise<Record<string, unknown> | undefined> {
  const lines = await logLines(harness, count);
  return lines[lines.length - 1];
}

beforeAll(async () => {
  backends = await Promise.all(PODS.map((p) => startBackend(p)));
});

beforeEach(() => {
  for (const backend of backends) {
    backend.behaviour = answerOk;
    backend.seen.length = 0;
  }
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

afterAll(async () => {
  await Promise.all(
    backends.map(
      (b) =>
        new Promise<void>((resolve) => {
          b.server.closeAllConnections();
          b.server.close(() => resolve());
        }),
    ),
  );
});

const hits = (workload: Workload): number => backendOf(workload).seen.length;

describe('createHttpProxy', () => {
  it('forwards on the default route: status, headers and body arrive, x-request-id is added, one request is measured', async () => {
    const harness = await startProxy();
    const reply = await send(harness.port, { headers: { 'x-custom': 'kept' } });
    expect(harness.warnings).toEqual([]);

    expect(reply.status).toBe(200);
    expect(reply.headers['x-backend']).toMatch(/^reviews-v[123]$/);
    expect(reply.body.toString()).toBe(`hello from ${String(reply.headers['x-backend'])}`);

    const seen = backends.flatMap((b) => b.seen);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.headers).toMatchObject({ 'x-custom': 'kept', host: `${HOST}:${PORT}`, 'x-forwarded-proto': 'http', 'x-envoy-attempt-count': '1' });
    expect(seen[0]?.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);

    const line = await lastLog(harness, 1);
    expect(line).toMatchObject({ response_code: 200, response_flags: '-', method: 'GET', path: '/reviews/1', source_principal: CLIENT_PRINCIPAL });
    expect(line?.['request_id']).toBe(seen[0]?.headers['x-request-id']);

    const requests = harness.metrics.families().find((f) => f.name === 'istio_requests_total');
    expect(requests?.samples).toHaveLength(1);
    expect(requests?.samples[0]).toMatchObject({
      value: 1,
      labels: { reporter: 'waypoint', response_code: '200', response_flags: '-', destination_service: HOST, destination_canonical_service: 'reviews' },
    });
  });

  describe('Expect: 100-continue is relayed, as Istio configures Envoy (ENABLE_100_CONTINUE_HEADERS)', () => {
    /** A POST that sends its body only once `100 Continue` arrives, as curl and Go's client do. */
    const expecting = (port: number, body: string): Promise<Reply & { continued: boolean }> =>
      new Promise((resolve, reject) => {
        let continued = false;
        const req = http.request(
          { host: '127.0.0.1', port, method: 'POST', path: '/reviews/1', headers: { host: `${HOST}:${PORT}`, expect: '100-continue', 'content-length': String(body.length) }, agent: false },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), socket: res.socket, continued }));
          },
        );
        req.on('continue', () => {
          continued = true;
          req.end(body);
        });
        req.on('error', reject);
      });

    it("passes the expectation to the endpoint and its 100 Continue to the client, which then sends the body", async () => {
      const harness = await startProxy({ routes: [route({ action: { kind: 'forward', destinations: [to('v1')] } })] });

      const reply = await expecting(harness.port, 'payload');

      expect({ status: reply.status, continued: reply.continued }).toEqual({ status: 200, continued: true });
      const seen = backendOf(V1).seen[0];
      expect(seen?.headers['expect']).toBe('100-continue');
      expect(seen?.body.toString()).toBe('payload');
    });

    it('relays an endpoint that refuses the expectation (417): the client never uploads its body', async () => {
      const refuse = (_req: http.IncomingMessage, res: http.ServerResponse): void => {
        res.writeHead(417, { 'content-type': 'text/plain' });
        res.end('no uploads');
      };
      backendOf(V1).server.on('checkContinue', refuse);
      try {
        const harness = await startProxy({ routes: [route({ action: { kind: 'forward', destinations: [to('v1')] } })] });

        const reply = await expecting(harness.port, 'payload');

        expect({ status: reply.status, continued: reply.continued, body: reply.body.toString() }).toEqual({ status: 417, continued: false, body: 'no uploads' });
      } finally {
        backendOf(V1).server.off('checkContinue', refuse);
      }
    });

    it('answers without 100 Continue when the waypoint answers itself, and closes the connection', async () => {
      const harness = await startProxy({ routes: [route({ action: { kind: 'directResponse', status: 503, body: new TextEncoder().encode('maintenance') } })] });

      const reply = await expecting(harness.port, 'payload');

      expect({ status: reply.status, continued: reply.continued, body: reply.body.toString(), connection: reply.headers['connection'] }).toEqual({
        status: 503,
        continued: false,
        body: 'maintenance',
        connection: 'close',
      });
      expect(backends.flatMap((b) => b.seen)).toEqual([]);
    });
  });

  describe('retries', () => {
    it.each<[string, RouteRule, number, string]>([
      ['attempts 3 on 5xx: the third try succeeds', route({ action: { kind: 'forward', destinations: [to('v1')] }, retries: retries({ attempts: 3, retryOn: ['5xx'] }) }), 200, '3'],
      ['no retries on the rule: Istio default policy does not retry a 503 response', route({ action: { kind: 'forward', destinations: [to('v1')] } }), 503, '1'],
    ])('%s', async (_name, rule, status, lastAttempt) => {
      let tries = 0;
      backendOf(V1).behaviour = (req, res, backend) => (++tries <= 2 ? answerStatus(503)(req, res, backend) : answerOk(req, res, backend));
      const harness = await startProxy({ routes: [rule] });

      const reply = await send(harness.port);

      expect(reply.status).toBe(status);
      const attempts = backendOf(V1).seen.map((s) => s.headers['x-envoy-attempt-count']);
      expect(attempts[attempts.length - 1]).toBe(lastAttempt);
      expect(attempts).toEqual(Array.from({ length: Number(lastAttempt) }, (_, i) => String(i + 1)));
    });

    it('all endpoints answer 503 with attempts 2: 503 flagged URX after three tries', async () => {
      for (const backend of backends) backend.behaviour = answerStatus(503);
      const harness = await startProxy({ routes: [route({ retries: retries({ attempts: 2, retryOn: ['5xx'] }) })] });

      const reply = await send(harness.port);

      expect(reply.status).toBe(503);
      expect(backends.reduce((n, b) => n + b.seen.length, 0)).toBe(3);
      expect(await lastLog(harness, 1)).toMatchObject({ response_code: 503, response_flags: 'URX' });
    });
  });

  it('splits 90/10 between subsets v1 and v2', async () => {
    const harness = await startProxy({
      routes: [route({ action: { kind: 'forward', destinations: [to('v1', 90), to('v2', 10)] } })],
      random: seededRandom(42),
    });
    // Keep-alive client connections, so the 1000 requests share 25 of them.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 25 });
    cleanups.push(() => {
      agent.destroy();
      return Promise.resolve();
    });
    const total = 1000;
    for (let sent = 0; sent < total; sent += 25) {
      const replies = await Promise.all(Array.from({ length: 25 }, () => send(harness.port, {}, agent)));
      expect(replies.every((r) => r.status === 200)).toBe(true);
    }

    expect(hits(V1) + hits(V2)).toBe(total);
    expect(hits(V3)).toBe(0);
    const v2Share = hits(V2) / total;
    expect(v2Share).toBeGreaterThanOrEqual(0.07);
    expect(v2Share).toBeLessThanOrEqual(0.13);
  }, 20_000);

  it.each<[string, Record<string, string>, string]>([
    ['end-user: jason goes to v2', { 'end-user': 'jason' }, 'reviews-v2'],
    ['another user goes to v1', { 'end-user': 'mary' }, 'reviews-v1'],
    ['no end-user goes to v1', {}, 'reviews-v1'],
  ])('header match: %s', async (_name, headers, expected) => {
    const harness = await startProxy({
      routes: [
        route({ name: 'jason', matches: [match({ headers: { 'end-user': { kind: 'exact', value: 'jason' } } })], action: { kind: 'forward', destinations: [to('v2')] } }),
        route({ name: 'default', action: { kind: 'forward', destinations: [to('v1')] } }),
      ],
    });
    for (let i = 0; i < 5; i++) {
      const reply = await send(harness.port, { headers });
      expect(reply.headers['x-backend']).toBe(expected);
    }
  });

  describe('fault injection', () => {
    it('abort 100% with 503: "fault filter abort", flag FI, no endpoint contacted', async () => {
      const harness = await startProxy({ routes: [route({ fault: { abort: { error: { kind: 'http', status: 503 }, percentage: 100 } } })] });

      const reply = await send(harness.port);

      expect(reply.status).toBe(503);
      expect(reply.body.toString()).toBe('fault filter abort');
      expect(harness.dials).toEqual([]);
      expect(backends.every((b) => b.seen.length === 0)).toBe(true);
      expect(await lastLog(harness, 1)).toMatchObject({ response_code: 503, response_flags: 'FI' });
    });

    it('delay 300 ms 100%: the answer comes no sooner', async () => {
      const harness = await startProxy({ routes: [route({ fault: { delay: { fixedDelayMs: 300, percentage: 100 } } })] });

      const started = Date.now();
      const reply = await send(harness.port);

      expect(reply.status).toBe(200);
      expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    });
  });

  it('route timeout 300 ms against a 2 s backend: 504 "upstream request timeout", flag UT', async () => {
    for (const backend of backends) backend.behaviour = answerAfter(2_000);
    const harness = await startProxy({ routes: [route({ timeoutMs: 300 })] });

    const started = Date.now();
    const reply = await send(harness.port);
    const elapsed = Date.now() - started;

    expect(reply.status).toBe(504);
    expect(reply.body.toString()).toBe('upstream request timeout');
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(1_500);
    expect(await lastLog(harness, 1)).toMatchObject({ response_code: 504, response_flags: 'UT' });
  });

  it('CORS on the route: a preflight from an allowed origin is answered by the waypoint; an actual request gets the allow headers', async () => {
    const cors = { allowOrigins: [{ kind: 'exact' as const, value: 'https://shop.example.com' }], allowMethods: ['GET', 'PUT'], allowHeaders: ['content-type'], exposeHeaders: ['x-backend'], maxAgeMs: 600_000 };
    const harness = await startProxy({ routes: [route({ cors })] });

    const preflight = await send(harness.port, { method: 'OPTIONS', headers: { origin: 'https://shop.example.com', 'access-control-request-method': 'PUT' } });
    const seen = (): number => backends.reduce((n, b) => n + b.seen.length, 0);
    expect({ status: preflight.status, seen: seen() }).toEqual({ status: 200, seen: 0 });
    expect(preflight.headers).toMatchObject({ 'access-control-allow-origin': 'https://shop.example.com', 'access-control-allow-methods': 'GET,PUT', 'access-control-allow-headers': 'content-type', 'access-control-max-age': '600' });

    const actual = await send(harness.port, { headers: { origin: 'https://shop.example.com' } });
    expect(actual.status).toBe(200);
    expect(actual.headers).toMatchObject({ 'access-control-allow-origin': 'https://shop.example.com', 'access-control-expose-headers': 'x-backend' });

    const foreign = await send(harness.port, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'PUT' } });
    expect({ status: foreign.status, allowOrigin: foreign.headers['access-control-allow-origin'], seen: seen() }).toEqual({ status: 200, allowOrigin: undefined, seen: 2 });
  });

  it('routes exist but none matches: 404, flag NR', async () => {
    const harness = await startProxy({ routes: [route({ matches: [match({ uri: { kind: 'prefix', value: '/ratings' } })] })] });

    const reply = await send(harness.port, { path: '/reviews/1' });

    expect(reply.status).toBe(404);
    expect(harness.dials).toEqual([]);
    expect(await lastLog(harness, 1)).toMatchObject({ response_code: 404, response_flags: 'NR' });
  });

  it.each<[string, number, string]>([
    ['GET', 200, 'hello from'],
    ['POST', 403, 'RBAC: access denied'],
  ])('L7 authorization ALLOW GET on the Service: %s → %i', async (method, status, body) => {
    const allowGet: L7Authorization = {
      name: 'reviews-viewer',
      namespace: NAMESPACE,
      targets: [{ group: '', kind: 'Service', name: 'reviews', namespace: '' }],
      action: 'ALLOW',
      provider: '',
      dryRun: false,
      rules: [{ from: [], to: [{ hosts: [], notHosts: [], ports: [], notPorts: [], methods: ['GET'], notMethods: [], paths: [], notPaths: [] }], when: [] }],
    };
    const harness = await startProxy({ authorizations: [allowGet] });

    const reply = await send(harness.port, { method, ...(method === 'POST' ? { body: Buffer.from('{}') } : {}) });

    expect(reply.status).toBe(status);
    expect(reply.body.toString()).toContain(body);
    expect(harness.dials).toHaveLength(status === 200 ? 1 : 0);
  });

  it.each<[string, RouteRule, number, Record<string, string>, string]>([
    [
      'redirect keeps the authority and replaces the path',
      route({ action: { kind: 'redirect', uri: '/v2/reviews', authority: '', scheme: '', port: 0, responseCode: 301 } }),
      301,
      { location: `http://${HOST}:${PORT}/v2/reviews?id=1` },
      '',
    ],
    [
      'redirect to another authority and scheme with 308',
      route({ action: { kind: 'redirect', uri: '', authority: 'reviews.example.com', scheme: 'https', port: 0, responseCode: 308 } }),
      308,
      { location: 'https://reviews.example.com/reviews/1?id=1' },
      '',
    ],
    ['directResponse', route({ action: { kind: 'directResponse', status: 418, body: new TextEncoder().encode('short and stout') } }), 418, {}, 'short and stout'],
  ])('%s', async (_name, rule, status, headers, body) => {
    const harness = await startProxy({ routes: [rule] });

    const reply = await send(harness.port, { path: '/reviews/1?id=1' });

    expect(reply.status).toBe(status);
    expect(reply.headers).toMatchObject(headers);
    expect(reply.body.toString()).toBe(body);
    expect(harness.dials).toEqual([]);
  });

  it('outlier detection: after its 5th consecutive 500 an endpoint is ejected and gets no more requests', async () => {
    backendOf(V1).behaviour = answerStatus(500);
    const harness = await startProxy({
      trafficPolicy: {
        outlierDetection: { consecutive5xxErrors: 5, intervalMs: 10_000, maxEjectionPercent: 100, minHealthPercent: 0, splitExternalLocalOriginErrors: false },
        portLevel: [],
      },
      random: seededRandom(7),
    });

    for (let sent = 0; hits(V1) < 5 && sent < 500; sent++) await send(harness.port);
    expect(hits(V1)).toBe(5);

    const replies: Reply[] = [];
    for (let i = 0; i < 50; i++) replies.push(await send(harness.port));
    expect(hits(V1)).toBe(5);
    expect(replies.every((r) => r.status === 200)).toBe(true);
  });

  describe('WebSocket upgrades', () => {
    const UPGRADE_HEAD = `GET /chat HTTP/1.1\r\nHost: ${HOST}:${PORT}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`;

    /** A raw client connection to the proxy and everything it has received. */
    async function rawClient(port: number): Promise<{ socket: net.Socket; until: (marker: string) => Promise<string>; closed: Promise<void> }> {
      const socket = net.connect(port, '127.0.0.1');
      await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
      let received = '';
      const waiters: (() => void)[] = [];
      socket.on('data', (chunk: Buffer) => {
        received += chunk.toString('latin1');
        for (const wake of waiters.splice(0)) wake();
      });
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      const until = async (marker: string): Promise<string> => {
        const deadline = Date.now() + 5_000;
        while (!received.includes(marker)) {
          if (Date.now() > deadline) throw new Error(`never received ${JSON.stringify(marker)}; got ${JSON.stringify(received)}`);
          await new Promise<void>((resolve) => {
            waiters.push(resolve);
            setTimeout(resolve, 50);
          });
        }
        return received;
      };
      return { socket, until, closed };
    }

    it('passes a WebSocket upgrade to an endpoint; after its 101 bytes flow both ways, and the request is logged at close with 101', async () => {
      const harness = await startProxy();
      const client = await rawClient(harness.port);
      // The first frame goes right behind the request head, before the 101: it must not be lost.
      client.socket.write(`${UPGRADE_HEAD}early`);
      const head = await client.until('echo:early');
      expect(head).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
      // RFC 6455's example key and answer: the endpoint's handshake reached the client untouched.
      expect(head.toLowerCase()).toContain('\r\nsec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo=\r\n');
      expect(head.toLowerCase()).toContain('\r\nupgrade: websocket\r\n');
      client.socket.write('ping');
      await client.until('echo:ping');
      client.socket.end();
      await client.closed;
      const line = await lastLog(harness, 1);
      expect(line).toMatchObject({ method: 'GET', path: '/chat', response_code: 101, bytes_received: 'early'.length + 'ping'.length, bytes_sent: 'echo:early'.length + 'echo:ping'.length });
      expect(line?.['upstream_host']).toMatch(/^10\.244\.1\.1[123]:9080$/);
    });

    it('refuses an upgrade to another protocol with 403 before any endpoint is asked, as Envoy without an upgrade config for it', async () => {
      const harness = await startProxy();
      const reply = await send(harness.port, { headers: { connection: 'Upgrade', upgrade: 'tls/1.3' } });
      expect(reply.status).toBe(403);
      expect(harness.dials).toEqual([]);
    });

    it('serves a request offering an h2c upgrade as HTTP/1.1, without the upgrade', async () => {
      const harness = await startProxy();
      const reply = await send(harness.port, { headers: { connection: 'Upgrade, HTTP2-Settings', upgrade: 'h2c', 'http2-settings': 'AAMAAABkAARAAAAAAAIAAAAA' } });
      expect(reply.status).toBe(200);
      const seen = backends.flatMap((b) => b.seen);
      expect(seen.map((r) => r.headers['upgrade'])).toEqual([undefined]);
    });
  });

  describe('upstream failures', () => {
    it('no endpoints: 503 "no healthy upstream", flag UH', async () => {
      const harness = await startProxy({ state: meshState([]) });

      const reply = await send(harness.port);

      expect(reply.status).toBe(503);
      expect(reply.body.toString()).toBe('no healthy upstream');
      expect(await lastLog(harness, 1)).toMatchObject({ response_code: 503, response_flags: 'UH' });
    });

    it('a connect failure on one of 3 endpoints is retried on another by the default policy', async () => {
      // random() = 0 makes the least-request pick take the first endpoint by uid (reviews-v1) first.
      const harness = await startProxy({ unreachable: [V1.addresses[0] ?? ''], random: () => 0 });

      const reply = await send(harness.port);

      expect(reply.status).toBe(200);
      expect(harness.dials).toEqual([V1.addresses[0], V2.addresses[0]]);
      expect(backendOf(V2).seen[0]?.headers['x-envoy-attempt-count']).toBe('2');
      expect(await lastLog(harness, 1)).toMatchObject({ response_code: 200, response_flags: '-', upstream_host: `${V2.addresses[0] ?? ''}:${PORT}` });
    });

    it('keeps upstream tunnels alive: sequential requests to one endpoint share one tunnel', async () => {
      const harness = await startProxy({ routes: [route({ action: { kind: 'forward', destinations: [to('v1')] } })] });

      for (let i = 0; i < 5; i++) expect((await send(harness.port)).status).toBe(200);

      expect(harness.dials).toEqual([V1.addresses[0]]);
      expect(backendOf(V1).seen).toHaveLength(5);
    });

    it('pruneUpstreams closes the kept tunnel of an endpoint that left the mesh, and keeps the others', async () => {
      const store = createMeshStore();
      store.apply({ services: { upsert: [reviews] }, workloads: { upsert: [...PODS] } });
      const harness = await startProxy({ state: store, routes: [route({ action: { kind: 'forward', destinations: [to('v1')] } })] });
      const tunnel = new Promise<net.Socket>((resolve) => backendOf(V1).server.once('connection', resolve));
      expect((await send(harness.port)).status).toBe(200);
      const socket = await tunnel;
      let closed = false;
      const closing = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      void closing.then(() => (closed = true));

      harness.proxy.pruneUpstreams();
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(closed).toBe(false);

      store.apply({ workloads: { remove: [V1.uid] } });
      harness.proxy.pruneUpstreams();
      await closing;
      expect(closed).toBe(true);
    });

    it('a response it cannot pass on (transfer coding gzip): 503 "reset reason: protocol error", flag UPE', async () => {
      backendOf(V1).behaviour = (_req, res) => {
        res.socket?.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n');
      };
      const harness = await startProxy({ routes: [route({ action: { kind: 'forward', destinations: [to('v1')] } })] });

      const reply = await send(harness.port);

      expect(reply.status).toBe(503);
      expect(reply.body.toString()).toBe('upstream connect error or disconnect/reset before headers. reset reason: protocol error');
      expect(await lastLog(harness, 1)).toMatchObject({ response_code: 503, response_flags: 'UPE' });
    });

    it('a route without a retry policy (retries attempts: 0) does not retry a connect failure: 503 UF after one try', async () => {
      const harness = await startProxy({ unreachable: [V1.addresses[0] ?? ''], random: () => 0, routes: [route({ action: { kind: 'forward', destinations: [to('v1')] } })] });

      const reply = await send(harness.port);

      expect(reply.status).toBe(503);
      expect(harness.dials).toEqual([V1.addresses[0]]);
      expect(await lastLog(harness, 1)).toMatchObject({ response_code: 503, response_flags: 'UF' });
    });
  });

  it('a 100 KiB POST body is forwarded intact, to the first try and to the retry', async () => {
    const payload = randomBytes(100 * 1024);
    backendOf(V1).behaviour = answerStatus(503);
    backendOf(V2).behaviour = (req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`${req.body.length} ${bodyDigest(req.body)}`);
    };
    const harness = await startProxy({ routes: [route({ retries: retries({ attempts: 2, retryOn: ['5xx'] }) })], random: () => 0 });

    const reply = await send(harness.port, { method: 'POST', path: '/reviews', body: payload, headers: { 'content-type': 'application/octet-stream' } });

    expect(reply.status).toBe(200);
    expect(reply.body.toString()).toBe(`${payload.length} ${bodyDigest(payload)}`);
    expect(backendOf(V1).seen).toHaveLength(1);
    expect(bodyDigest(backendOf(V1).seen[0]?.body ?? Buffer.alloc(0))).toBe(bodyDigest(payload));
    expect(backendOf(V2).seen[0]?.headers['content-length']).toBe(String(payload.length));
    expect(await lastLog(harness, 1)).toMatchObject({ bytes_received: payload.length });
  });

  it('a body past the retry buffer (2 MiB, chunked) streams to the endpoint and its 503 stands: no retry', async () => {
    const payload = randomBytes(2 * 1024 * 1024);
    for (const backend of backends) backend.behaviour = answerStatus(503);
    const harness = await startProxy({ routes: [route({ retries: retries({ attempts: 2, retryOn: ['5xx'] }) })], random: () => 0 });

    const reply = await send(harness.port, { method: 'POST', path: '/upload', body: payload, headers: { 'transfer-encoding': 'chunked' } });

    expect(reply.status).toBe(503);
    const seen = backends.flatMap((b) => b.seen);
    expect(seen.map((r) => ({ bytes: r.body.length, digest: bodyDigest(r.body) }))).toEqual([{ bytes: payload.length, digest: bodyDigest(payload) }]);
    expect(await lastLog(harness, 1)).toMatchObject({ response_code: 503, bytes_received: payload.length });
  });

  it('close() ends idle connections at once, lets an in-flight request finish, then refuses new connections', async () => {
    const harness = await startProxy();
    const idleAgent = new http.Agent({ keepAlive: true });
    const busyAgent = new http.Agent({ keepAlive: true });
    cleanups.push(() => {
      idleAgent.destroy();
      busyAgent.destroy();
      return Promise.resolve();
    });
    const idle = await send(harness.port, {}, idleAgent);
    const idleClosed = new Promise((resolve) => idle.socket.once('close', resolve));
    for (const backend of backends) backend.behaviour = answerAfter(300);
    const busy = send(harness.port, {}, busyAgent);
    // The busy request is in flight once an endpoint has it.
    while (backends.reduce((n, b) => n + b.seen.length, 0) < 2) await new Promise((resolve) => setTimeout(resolve, 5));

    const closed = harness.proxy.close();
    await idleClosed;
    const reply = await busy;
    await closed;

    expect(reply.status).toBe(200);
    expect(reply.headers['connection']).toBe('close');
    await expect(send(harness.port)).rejects.toThrow();
  });
});
