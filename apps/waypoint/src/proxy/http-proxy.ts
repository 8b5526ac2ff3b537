// The HTTP side of a waypoint (reference §7.2–7.4): each tunnelled connection to a bound service port is served as
// HTTP/1.1; each request goes through RequestAuthentication (401), L7 authorization (403), route selection (first
// match wins; 404 when routes exist and none matches), redirect / direct response / fault injection, a weighted
// destination, rewrites and header operations, then tries against the destination's endpoints — load balanced,
// outlier-filtered, within the connection-pool limits — over HBONE with the waypoint's identity, retried as the route
// says, under the route and per-try timeouts. Every request is measured, logged and traced.
//
// Decisions come from the pure modules (routing, upstream, security); this file does the I/O around them.

import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import type { Duplex } from 'node:stream';

import type { MeshState, RetryPolicy, RouteRule, Service, WaypointService, WeightedDestination, Workload } from '@weft/mesh-model';

import {
  applyHeaderOperations,
  decideFault,
  pickDestination,
  redirectResponse,
  retryBackoffMs,
  rewriteRequest,
  selectRoute,
  shouldRetry,
  type AttemptOutcome,
  type RequestView,
  type ResponseFlag,
} from '../routing';
import { L7Authorizer, policiesFor, RequestAuthenticator, type AuthnResult } from '../security';
import type { RequestMetrics, RequestRecord, Tracing } from '../telemetry';
import { accessLogLine } from '../telemetry';
import { ConnectionPoolLimits, createLoadBalancer, effectivePolicy, OutlierDetector, resolveEndpoints, type Endpoint, type LoadBalancerState } from '../upstream';
import type { L7Config } from '../xds/l7-config';
import type { WaypointSelf } from './target';
import { TunnelAgents, UpstreamConnectError } from './tunnel-agent';

/** Istio's retry policy for routes that set none (reference §7.4): local failures only, 2 retries. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  attempts: 2,
  retryOn: ['connect-failure', 'refused-stream', 'unavailable', 'cancelled', 'retriable-status-codes'],
  retriableStatusCodes: [],
  retryRemoteLocalities: false,
  ignorePreviousHosts: true,
  hostSelectionRetryMaxAttempts: 5,
  isDefault: true,
});

/** How long `close()` waits for in-flight requests before destroying their connections. */
export const CLOSE_DEADLINE_MS = 5_000;

/** Request bodies are buffered (retries replay them); larger ones are refused with 413 as Envoy's buffer limit does. */
export const MAX_REQUEST_BODY_BYTES = 16 * 1024 * 1024;

const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'host'];

export interface TunnelInfo {
  /** `spiffe://…` of the HBONE peer (the client workload). */
  readonly peerPrincipal: string;
  readonly sourceIp: string;
  /** The address the client addressed (service VIP or pod IP) and port. */
  readonly destinationIp: string;
  readonly destinationPort: number;
}

export interface ServiceTarget {
  readonly service: Service;
  readonly l7?: WaypointService;
  readonly port: number;
}

export interface HttpProxyContext {
  readonly state: MeshState;
  readonly l7: L7Config;
  readonly self: WaypointSelf;
  /** An HBONE tunnel to `endpoint.ip:15008` with `:authority endpoint.ip:endpoint.port`, with the waypoint's identity. */
  readonly dial: (endpoint: Endpoint, signal: AbortSignal) => Promise<Duplex>;
  readonly metrics: RequestMetrics;
  readonly tracing: Tracing;
  readonly accessLog: (line: string) => void;
  readonly fetchJwks: (uri: string, timeoutMs: number) => Promise<unknown>;
  readonly random?: () => number;
  readonly now?: () => number;
  readonly logger: { warn(fields: Record<string, unknown>, message: string): void; debug(fields: Record<string, unknown>, message: string): void };
}

export interface HttpProxy {
  /** Serves one tunnelled connection (HTTP/1.1) for a bound service port. */
  serve(stream: Duplex, tunnel: TunnelInfo, target: ServiceTarget): void;
  /** Stops serving: open connections end after their current request. */
  close(): Promise<void>;
}

interface UpstreamRuntime {
  readonly lb: LoadBalancerState;
  readonly outlier: OutlierDetector;
  readonly limits: ConnectionPoolLimits;
}

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[]>;
  readonly body: Buffer | http.IncomingMessage;
  readonly flags: ResponseFlag;
  readonly endpoint?: Endpoint;
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (ms <= 0) return resolve();
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });

function lowerHeaders(headers: http.IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) out[name.toLowerCase()] = value;
  return out;
}

function text(status: number, body: string, flags: ResponseFlag, extra: Record<string, string> = {}): Answer {
  return { status, headers: { 'content-type': 'text/plain', ...extra }, body: Buffer.from(body), flags };
}

function readBody(req: http.IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_REQUEST_BODY_BYTES) {
        req.pause();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** One HTTP/1.1 exchange through the endpoint's agent (an idle tunnel reused, or a new one opened). */
function exchange(agent: http.Agent, request: { method: string; path: string; headers: Record<string, string | string[]>; body: Buffer }, signal: AbortSignal): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = http.request({ agent, method: request.method, path: request.path, headers: request.headers });
    const onAbort = (): void => {
      req.destroy(new Error('aborted'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    req.on('response', (res) => {
      signal.removeEventListener('abort', onAbort);
      resolve(res);
    });
    req.on('error', (cause) => {
      signal.removeEventListener('abort', onAbort);
      reject(cause);
    });
    req.end(request.body);
  });
}

export function createHttpProxy(context: HttpProxyContext): HttpProxy {
  const random = context.random ?? Math.random;
  const now = context.now ?? Date.now;
  const tunnels = new WeakMap<object, { tunnel: TunnelInfo; target: ServiceTarget }>();
  const agents = new TunnelAgents();
  // The HTTP server never listens (connections are handed to it), so Node tracks none of them for
  // close()/closeAllConnections(): the proxy tracks its connections and their in-flight requests itself.
  const inFlight = new Map<Duplex, number>();
  let closing = false;
  const drained = new Set<() => void>();
  const forget = (stream: Duplex): void => {
    inFlight.delete(stream);
    if (inFlight.size === 0) for (const resolve of drained) resolve();
  };
  const runtimes = new Map<string, { l7: WaypointService | undefined; policyKey: string; runtime: UpstreamRuntime }>();
  let security: { version: number; authenticators: Map<string, RequestAuthenticator>; authorizers: Map<string, L7Authorizer> } = {
    version: -1,
    authenticators: new Map(),
    authorizers: new Map(),
  };

  /** The authenticator and authorizer for a service, compiled once per configuration version. */
  const securityFor = (service: Service): { authn: RequestAuthenticator; authz: L7Authorizer } => {
    if (security.version !== context.l7.version) security = { version: context.l7.version, authenticators: new Map(), authorizers: new Map() };
    const key = `${service.namespace}/${service.name}`;
    const target = { gateway: { name: context.self.name, namespace: context.self.namespace }, service: { name: service.name, namespace: service.namespace, kind: 'Service' as const } };
    let authn = security.authenticators.get(key);
    if (authn === undefined) {
      const rules = policiesFor(context.l7.authentications(), target).flatMap((p) => p.jwtRules);
      authn = new RequestAuthenticator(rules, { fetchJwks: context.fetchJwks, now });
      security.authenticators.set(key, authn);
    }
    let authz = security.authorizers.get(key);
    if (authz === undefined) {
      authz = new L7Authorizer(policiesFor(context.l7.authorizations(), target));
      security.authorizers.set(key, authz);
    }
    return { authn, authz };
  };

  /**
   * Load balancer, outlier detector and limits per destination service/subset/port; rebuilt when its policy changes.
   * The policy is merged and compared only when the WaypointService object changed (a new xDS version), not per
   * request.
   */
  const runtimeFor = (l7: WaypointService | undefined, service: Service, subset: string, port: number): UpstreamRuntime => {
    const key = `${service.namespace}/${service.hostname}|${subset}|${port}`;
    const held = runtimes.get(key);
    if (held !== undefined && held.l7 === l7) return held.runtime;
    const policy = l7 === undefined ? {} : effectivePolicy(l7, subset, port);
    const policyKey = JSON.stringify(policy);
    if (held !== undefined && held.policyKey === policyKey) {
      runtimes.set(key, { ...held, l7 });
      return held.runtime;
    }
    const runtime = { lb: createLoadBalancer(policy.loadBalancer, random), outlier: new OutlierDetector(policy.outlierDetection, now), limits: new ConnectionPoolLimits(policy.connectionPool) };
    runtimes.set(key, { l7, policyKey, runtime });
    return runtime;
  };

  const workloadOf = (endpoint: Endpoint | undefined): Workload | undefined => (endpoint === undefined ? undefined : context.state.workloadByUid(endpoint.uid));

  /** The destination service of a weighted destination (its host, in its namespace or the request's). */
  const destinationService = (destination: WeightedDestination, current: ServiceTarget): Service | undefined => {
    const { host, serviceNamespace } = destination.destination;
    if (host === current.service.hostname) return current.service;
    const namespace = serviceNamespace !== '' ? serviceNamespace : current.service.namespace;
    return context.state.serviceByKey(`${namespace}/${host}`) ?? context.state.servicesByHostname(host)[0];
  };

  /** Tries the request against the destination until a response is final (or retries and time run out). */
  const forward = async (
    request: { method: string; path: string; headers: Record<string, string | string[]>; body: Buffer },
    destination: { service: Service; l7: WaypointService | undefined; subset: string; port: number },
    rule: RouteRule | undefined,
    signal: AbortSignal,
  ): Promise<Answer> => {
    // The translator already filled in Istio's default policy where the route wrote none; an absent policy on a
    // rule means retries are off (`attempts: 0`, or a fault on the route). Only the implicit route (no routing
    // config at all) gets the default here.
    const retry = rule === undefined ? DEFAULT_RETRY_POLICY : rule.retries;
    const subsetUids = destination.subset === '' ? undefined : new Set(destination.l7?.subsets.find((s) => s.name === destination.subset)?.workloadUids ?? []);
    const runtime = runtimeFor(destination.l7, destination.service, destination.subset, destination.port);
    const tried = new Set<string>();
    let retries = 0;
    let last: Answer | undefined;
    for (;;) {
      const endpoints = resolveEndpoints(context.state, destination.service, destination.port, subsetUids);
      const endpoint = runtime.lb.pick(runtime.outlier.filter(endpoints), retry?.ignorePreviousHosts === false ? undefined : tried);
      if (endpoint === undefined) return last ?? text(503, 'no healthy upstream', 'UH');
      if (!(retries === 0 ? runtime.limits.tryStartRequest() : runtime.limits.tryStartRetry())) {
        return last ?? text(503, 'upstream connect error or disconnect/reset before headers. reset reason: overflow', 'UO');
      }
      const attemptSignal = retry?.perTryTimeoutMs === undefined ? signal : AbortSignal.any([signal, AbortSignal.timeout(retry.perTryTimeoutMs)]);
      tried.add(endpoint.uid);
      runtime.lb.started(endpoint.uid);
      let outcome: AttemptOutcome;
      let response: http.IncomingMessage | undefined;
      try {
        try {
          const headers = { ...request.headers, 'x-envoy-attempt-count': String(retries + 1) };
          const agent = agents.agent(`${endpoint.uid}|${endpoint.ip}|${endpoint.port}`, (dialSignal) => context.dial(endpoint, dialSignal));
          response = await exchange(agent, { ...request, headers }, attemptSignal);
          const grpc = response.headers['grpc-status'];
          outcome = { kind: 'response', status: response.statusCode ?? 502, ...(typeof grpc === 'string' ? { grpcStatus: Number(grpc) } : {}) };
        } catch (cause) {
          context.logger.debug({ endpoint: `${endpoint.ip}:${endpoint.port}`, err: cause instanceof Error ? cause.message : String(cause) }, 'upstream attempt failed');
          outcome =
            cause instanceof UpstreamConnectError ? { kind: 'connect-failure' } : !signal.aborted && attemptSignal.aborted ? { kind: 'per-try-timeout' } : { kind: 'reset' };
        }
      } finally {
        runtime.lb.finished(endpoint.uid);
        if (retries === 0) runtime.limits.finishRequest();
        else runtime.limits.finishRetry();
      }
      const total = endpoints.length;
      if (outcome.kind === 'response') runtime.outlier.record(endpoint.uid, { kind: 'response', status: outcome.status }, total);
      else runtime.outlier.record(endpoint.uid, { kind: 'local-failure' }, total);
      if (signal.aborted) {
        response?.destroy();
        return text(504, 'upstream request timeout', 'UT');
      }
      const answer: Answer =
        outcome.kind === 'response' && response !== undefined
          ? { status: outcome.status, headers: lowerHeaders(response.headers), body: response, flags: '-', endpoint }
          : outcome.kind === 'per-try-timeout'
            ? text(504, 'upstream request timeout', 'UT', {})
            : text(503, `upstream connect error or disconnect/reset before headers. reset reason: ${outcome.kind === 'connect-failure' ? 'connection failure' : 'connection termination'}`, outcome.kind === 'connect-failure' ? 'UF' : 'UC');
      if (retry === undefined || !shouldRetry(retry, outcome, retries)) {
        // A retriable outcome that ran out of retries is flagged as Envoy does.
        const exhausted = retry !== undefined && retries > 0 && shouldRetry(retry, outcome, 0);
        return exhausted ? { ...answer, flags: 'URX' } : answer;
      }
      // Retried: this response is discarded.
      response?.resume();
      last = answer;
      retries++;
      await sleep(retryBackoffMs(retry, retries - 1, random), signal);
      if (signal.aborted) return text(504, 'upstream request timeout', 'UT');
    }
  };

  /** Everything between the request and its answer; the answer is written by `handle`. */
  const decide = async (req: http.IncomingMessage, body: Buffer, tunnel: TunnelInfo, target: ServiceTarget, facts: { authn?: AuthnResult; route?: RouteRule }): Promise<Answer> => {
    const headers = lowerHeaders(req.headers);
    const view: RequestView = { method: req.method ?? 'GET', path: req.url ?? '/', authority: String(req.headers.host ?? ''), scheme: 'http', headers, servicePort: target.port };
    const { authn, authz } = securityFor(target.service);
    const authnResult = await authn.authenticate({ headers, path: view.path });
    facts.authn = authnResult;
    if (authnResult.kind === 'rejected') return text(authnResult.status, authnResult.body, '-');
    const decision = authz.decide({
      method: view.method,
      path: view.path,
      host: view.authority,
      headers,
      sourceIp: tunnel.sourceIp,
      sourcePrincipal: tunnel.peerPrincipal,
      destinationIp: tunnel.destinationIp,
      destinationPort: target.port,
      ...(authnResult.kind === 'authenticated' ? { request: authnResult.request } : {}),
    });
    if (!decision.allow) return text(decision.status, decision.body, 'RBAC');

    const routes = target.l7?.httpRoutes ?? [];
    const selected = routes.length === 0 ? undefined : selectRoute(routes, view);
    if (routes.length > 0 && selected === undefined) return { status: 404, headers: {}, body: Buffer.alloc(0), flags: 'NR' };
    const rule = selected?.rule;
    if (rule !== undefined) facts.route = rule;
    const action = rule?.action;
    if (rule !== undefined && action === undefined) return text(500, '', '-');
    if (action?.kind === 'redirect') {
      const r = redirectResponse(view, action);
      return { status: r.status, headers: { location: r.location }, body: Buffer.alloc(0), flags: '-' };
    }
    if (action?.kind === 'directResponse') return { status: action.status, headers: {}, body: Buffer.from(action.body), flags: '-' };

    const fault = decideFault(rule?.fault, random);
    if (fault.delayMs > 0) await sleep(fault.delayMs);
    if (fault.abort !== undefined) {
      const status = fault.abort.kind === 'http' ? fault.abort.status : 200;
      return text(status, 'fault filter abort', 'FI', fault.abort.kind === 'grpc' ? { 'grpc-status': String(fault.abort.status) } : {});
    }

    const chosen = action === undefined ? undefined : pickDestination(action.destinations, random);
    if (action !== undefined && chosen === undefined) return text(500, '', '-');
    const service = chosen === undefined ? target.service : destinationService(chosen, target);
    if (service === undefined) return text(503, 'no healthy upstream', 'UH');
    const port = chosen !== undefined && chosen.destination.port !== 0 ? chosen.destination.port : target.port;
    const destinationL7 = service === target.service ? target.l7 : context.l7.service(service.namespace, service.hostname);

    const rewritten = rewriteRequest(view, rule?.rewrite, selected?.match);
    const outgoing: Record<string, string | string[]> = { ...headers };
    for (const name of HOP_BY_HOP) delete outgoing[name];
    if (authnResult.kind === 'authenticated') {
      for (const name of authnResult.removeHeaders) delete outgoing[name.toLowerCase()];
      for (const [name, value] of Object.entries(authnResult.setHeaders)) outgoing[name.toLowerCase()] = value;
    }
    // Envoy without most_specific_header_mutations_wins: the destination's operations first, the route's last (wins).
    applyHeaderOperations(outgoing, chosen?.requestHeaders);
    applyHeaderOperations(outgoing, rule?.requestHeaders);
    outgoing['host'] = rewritten.authority;
    outgoing['x-forwarded-proto'] ??= 'http';
    outgoing['x-request-id'] ??= randomUUID();
    outgoing['content-length'] = String(body.length);

    const timeoutMs = rule?.timeoutMs ?? 0;
    const signal = timeoutMs > 0 ? AbortSignal.timeout(timeoutMs) : new AbortController().signal;
    const request = { method: view.method, path: rewritten.path, headers: outgoing, body };
    for (const mirror of rule?.mirrors ?? []) {
      const mirrorService = context.state.serviceByKey(`${mirror.destination.serviceNamespace}/${mirror.destination.host}`);
      if (mirrorService === undefined || random() * 100 >= mirror.percentage) continue;
      const shadowHeaders = { ...outgoing, host: `${rewritten.authority.replace(/(:\d+)?$/, '-shadow$1')}` };
      const mirrorPort = mirror.destination.port !== 0 ? mirror.destination.port : target.port;
      void forward({ ...request, headers: shadowHeaders }, { service: mirrorService, l7: context.l7.service(mirrorService.namespace, mirrorService.hostname), subset: mirror.destination.subset, port: mirrorPort }, undefined, AbortSignal.timeout(30_000)).then(
        (answer) => {
          if (!Buffer.isBuffer(answer.body)) answer.body.resume();
        },
        () => undefined,
      );
    }
    const answer = await forward(request, { service, l7: destinationL7, subset: chosen?.destination.subset ?? '', port }, rule, signal);
    const responseHeaders = { ...answer.headers };
    for (const name of HOP_BY_HOP) delete responseHeaders[name];
    applyHeaderOperations(responseHeaders, chosen?.responseHeaders);
    applyHeaderOperations(responseHeaders, rule?.responseHeaders);
    return { ...answer, headers: responseHeaders };
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const held = tunnels.get(req.socket);
    if (held === undefined) {
      res.writeHead(503).end();
      return;
    }
    const { tunnel, target } = held;
    const stream = req.socket as Duplex;
    inFlight.set(stream, (inFlight.get(stream) ?? 0) + 1);
    res.on('close', () => {
      const count = inFlight.get(stream);
      if (count === undefined) return;
      const active = count - 1;
      inFlight.set(stream, active);
      // While closing, a connection ends once its last request is answered instead of waiting for the next one.
      if (closing && active === 0) stream.destroy();
    });
    const started = now();
    const span = context.tracing.start(lowerHeaders(req.headers), `${target.service.hostname}:${target.port}/*`);
    const facts: { authn?: AuthnResult; route?: RouteRule } = {};
    let answer: Answer;
    const body = await readBody(req).catch(() => undefined);
    if (body === undefined) {
      answer = text(413, 'Payload Too Large', '-');
    } else {
      try {
        // Envoy's connection manager assigns x-request-id up front, so the access log and the upstream see the same id.
        req.headers = { 'x-request-id': randomUUID(), ...req.headers, ...span.propagate };
        answer = await decide(req, body, tunnel, target, facts);
      } catch (cause) {
        context.logger.warn({ err: cause instanceof Error ? cause.message : String(cause) }, 'request failed');
        answer = text(503, 'upstream connect error or disconnect/reset before headers. reset reason: connection termination', 'UC');
      }
    }
    let responseBytes = 0;
    const finish = (): void => {
      const source = context.state.workloadByAddress('', tunnel.sourceIp);
      const destination = workloadOf(answer.endpoint);
      const record: RequestRecord = {
        ...(source === undefined ? {} : { source }),
        sourcePrincipal: tunnel.peerPrincipal,
        destinationService: { hostname: target.service.hostname, namespace: target.service.namespace, name: target.service.name },
        ...(destination === undefined ? {} : { destination, destinationPrincipal: `spiffe://${destination.trustDomain}/ns/${destination.namespace}/sa/${destination.serviceAccount}` }),
        protocol: 'http',
        responseCode: answer.status,
        responseFlags: answer.flags,
        durationMs: now() - started,
        requestBytes: body?.length ?? 0,
        responseBytes,
      };
      context.metrics.record(record);
      context.accessLog(
        accessLogLine({
          startTime: new Date(started),
          method: req.method ?? '-',
          path: req.url ?? '-',
          protocol: `HTTP/${req.httpVersion}`,
          responseCode: answer.status,
          responseFlags: answer.flags,
          requestBytes: body?.length ?? 0,
          responseBytes,
          durationMs: now() - started,
          ...(answer.endpoint === undefined ? {} : { upstreamHost: `${answer.endpoint.ip}:${answer.endpoint.port}` }),
          upstreamCluster: `inbound-vip|${target.port}|http|${target.service.hostname}`,
          authority: String(req.headers.host ?? ''),
          userAgent: String(req.headers['user-agent'] ?? ''),
          requestId: String(req.headers['x-request-id'] ?? ''),
          forwardedFor: String(req.headers['x-forwarded-for'] ?? ''),
          downstreamRemoteAddress: tunnel.sourceIp,
          sourcePrincipal: tunnel.peerPrincipal,
          ...(record.destinationPrincipal === undefined ? {} : { destinationPrincipal: record.destinationPrincipal }),
        }),
      );
      span.end({ 'http.method': req.method ?? '', 'http.url': req.url ?? '', 'http.status_code': answer.status, 'response_flags': answer.flags }, answer.status >= 500);
    };
    res.on('close', finish);
    if (closing) res.setHeader('connection', 'close');
    res.writeHead(answer.status, answer.headers);
    if (Buffer.isBuffer(answer.body)) {
      responseBytes = answer.body.length;
      res.end(answer.body);
      return;
    }
    const upstream = answer.body;
    upstream.on('data', (chunk: Buffer) => {
      responseBytes += chunk.length;
    });
    upstream.on('error', () => res.destroy());
    upstream.pipe(res);
  };

  const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => void handle(req, res));
  server.on('clientError', (_error, socket) => socket.destroy());

  return {
    serve(stream, tunnel, target) {
      if (closing) {
        stream.destroy();
        return;
      }
      tunnels.set(stream, { tunnel, target });
      inFlight.set(stream, 0);
      stream.once('close', () => forget(stream));
      server.emit('connection', stream);
    },
    close() {
      closing = true;
      for (const [stream, active] of inFlight) if (active === 0) stream.destroy();
      if (inFlight.size === 0) {
        agents.close();
        return Promise.resolve();
      }
      return new Promise((resolve) => {
        const deadline = setTimeout(() => {
          for (const stream of inFlight.keys()) stream.destroy();
        }, CLOSE_DEADLINE_MS);
        deadline.unref();
        drained.add(() => {
          clearTimeout(deadline);
          agents.close();
          resolve();
        });
      });
    },
  };
}
