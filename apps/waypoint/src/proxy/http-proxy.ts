// The HTTP side of a waypoint (reference §7.2–7.4): each tunnelled connection to a bound service port is served as
// HTTP/2 when it opens with the HTTP/2 preface (h2c, gRPC) and as HTTP/1.1 otherwise; each request goes through
// RequestAuthentication (401), L7 authorization (403), route selection (first match wins; 404 when routes exist and
// none matches), CORS, redirect / direct response / fault injection, a weighted destination, rewrites and header
// operations, then tries against the destination's endpoints — load balanced, outlier-filtered, within the
// connection-pool limits — over HBONE with the waypoint's identity in the codec the port calls for, retried as the
// route says, under the route and per-try timeouts. Bodies stream both ways (a request body is kept for replay while
// it fits the retry buffer); gRPC trailers are passed on and a gRPC request's local answers are gRPC statuses. A
// WebSocket upgrade goes through the same steps; once the endpoint answers 101 the client's connection and the
// endpoint's tunnel are joined, as Envoy does with Istio's `upgrade_configs`. Every request is measured, logged and
// traced.
//
// Decisions come from the pure modules (routing, upstream, security); this file does the I/O around them.

import { randomUUID } from 'node:crypto';
import * as http2 from 'node:http2';
import type { Duplex, Readable } from 'node:stream';

import { pipeTunnel } from '@weft/hbone';
import type { MeshState, RetryPolicy, RouteRule, Service, WaypointPortProtocol, WaypointService, WeightedDestination, Workload } from '@weft/mesh-model';

import {
  applyHeaderOperations,
  decideCors,
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
import { copyingDuplex } from './copying-duplex';
import { UpstreamConnectError, UpstreamProtocolError } from './http1/client-pool';
import { hasListToken, type RequestHead } from './http1/message-head';
import { serveHttp1 } from './http1/server-connection';
import { grpcLocalReply, isGrpcRequest, sniffCodec, upstreamCodec, type HttpCodec } from './protocol';
import { RequestBody } from './request-body';
import { protocolOf, type WaypointSelf } from './target';
import { UpstreamClients, UpstreamRefusedStreamError, type HeaderMap, type UpstreamResponse } from './upstream-exchange';

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

/** Connection-specific headers (RFC 9110 §7.6.1), never forwarded; HTTP/2 forbids them. `te: trailers` is kept. */
const HOP_BY_HOP: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'host']);

/** How long a connection may take to show its codec (the first bytes) before it is closed. */
export const CODEC_DETECTION_TIMEOUT_MS = 10_000;
/** How long an HTTP/1.1 connection may wait for its next request (Node's and Envoy's idle keep-alive). */
export const KEEP_ALIVE_TIMEOUT_MS = 60_000;

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
  /** The port's declared protocol; default HTTP. Decides the upstream codec. */
  readonly protocol?: WaypointPortProtocol;
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
  /** Serves one tunnelled connection (HTTP/1.1 or h2c, by its first bytes) for a bound service port. */
  serve(stream: Duplex, tunnel: TunnelInfo, target: ServiceTarget): void;
  /** Drops upstream tunnels and sessions to endpoints no longer in the mesh state (call on every mesh change). */
  pruneUpstreams(): void;
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
  readonly headers: HeaderMap;
  /** A local answer's body, or the endpoint's response (body and trailers). */
  readonly body: Buffer | UpstreamResponse;
  readonly flags: ResponseFlag;
  readonly endpoint?: Endpoint;
}

/** A served connection: its tunnel and target, and what every request on it reports the same way. */
interface Connection {
  readonly tunnel: TunnelInfo;
  readonly target: ServiceTarget;
  readonly stream: Duplex;
  readonly destinationService: { readonly hostname: string; readonly namespace: string; readonly name: string };
  /** Envoy's upstream cluster name for the access log. */
  readonly cluster: string;
  /** The source workload, looked up again only when the mesh state changes. */
  source?: { readonly version: number; readonly workload: Workload | undefined };
}

/** What `decide` learnt on the way, for the answer and the telemetry. */
interface Facts {
  authn?: AuthnResult;
  route?: RouteRule;
  /** A CORS request's headers, added to whatever the answer is. */
  corsHeaders?: Readonly<Record<string, string>>;
}

/** A downstream request in either codec, as the proxy reads it. */
interface Downstream {
  readonly codec: HttpCodec;
  readonly method: string;
  readonly path: string;
  readonly authority: string;
  /** Lower-case names, no pseudo-headers. */
  readonly headers: HeaderMap;
  readonly httpVersion: string;
  /** Whether a body follows the headers. */
  readonly hasBody: boolean;
  /** HTTP/1.1 `Upgrade` (with `Connection: upgrade`), lower-case; `h2c` is ignored, as Envoy's HTTP/1.1 codec does. */
  readonly upgrade: string | undefined;
}

/** What the proxy calls on a response, the same for the HTTP/1.1 connection's and `http2.Http2ServerResponse`. */
interface Responder {
  /** Headers that end the response: HTTP/2 sends them as one HEADERS frame with END_STREAM (gRPC's trailers-only). */
  headersOnly(status: number, headers: HeaderMap): void;
  writeHead(status: number, headers: HeaderMap): unknown;
  write(chunk: Buffer): boolean;
  end(chunk?: Buffer): unknown;
  addTrailers(headers: HeaderMap): void;
  /** `100 Continue` to a client that waits for it before sending its body; nothing once the head is written or the client is gone. */
  writeContinue(): void;
  /** HTTP/1.1 only: answers 101 and hands over the connection with the bytes received past the request head. */
  switchProtocols?(headers: HeaderMap): { readonly stream: Duplex; readonly head: Buffer | undefined };
  destroy(): unknown;
  readonly writableFinished: boolean;
  once(event: 'drain' | 'close', listener: () => void): unknown;
  on(event: 'close', listener: () => void): unknown;
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

/** An upstream body nobody will forward: a stream is read to its end (so its tunnel can be reused), a whole one dropped. */
function drain(body: Readable | Buffer): void {
  if (!Buffer.isBuffer(body)) body.resume();
}

/** An upstream body cut short: its stream is destroyed, and its tunnel with it. */
function cut(body: Readable | Buffer): void {
  if (!Buffer.isBuffer(body)) body.destroy();
}

function text(status: number, body: string, flags: ResponseFlag, extra: Record<string, string> = {}): Answer {
  return { status, headers: { 'content-type': 'text/plain', ...extra }, body: Buffer.from(body), flags };
}

/** An HTTP/2 request as the proxy reads it. */
function downstreamOfHttp2(req: http2.Http2ServerRequest): Downstream {
  const headers: HeaderMap = {};
  for (const [name, value] of Object.entries(req.headers)) if (value !== undefined && !name.startsWith(':')) headers[name.toLowerCase()] = value;
  return { codec: 'http2', method: req.method, path: req.url, authority: req.authority ?? String(req.headers.host ?? ''), headers, httpVersion: '2', hasBody: !req.stream.endAfterHeaders, upgrade: undefined };
}

/** An HTTP/1.1 request as the proxy reads it; its headers are the proxy's own copy. */
function downstreamOfHttp1(head: RequestHead): Downstream {
  const host = head.headers['host'];
  return {
    codec: 'http1',
    method: head.method,
    path: head.target,
    authority: typeof host === 'string' ? host : '',
    headers: head.headers,
    httpVersion: head.httpVersion,
    hasBody: head.body.kind !== 'none',
    upgrade: upgradeOf(head.headers),
  };
}

/** The protocol an HTTP/1.1 request asks to switch to (RFC 9110 §7.8), lower-case; not h2c (served as HTTP/1.1). */
function upgradeOf(headers: HeaderMap): string | undefined {
  const upgrade = headers['upgrade'];
  const connection = headers['connection'];
  if (typeof upgrade !== 'string' || typeof connection !== 'string' || !hasListToken(connection, 'upgrade')) return undefined;
  const protocol = (upgrade.split(',')[0] ?? '').trim().toLowerCase();
  return protocol === '' || protocol === 'h2c' ? undefined : protocol;
}

/** Protocols a request may switch to through the waypoint: Istio configures Envoy's `upgrade_configs` with WebSocket. */
const UPGRADES: ReadonlySet<string> = new Set(['websocket']);

/** The fields of `headers` that may be forwarded: all but the connection-specific ones. */
function withoutHopByHop(headers: HeaderMap): HeaderMap {
  const out: HeaderMap = {};
  for (const name in headers) if (!HOP_BY_HOP.has(name)) out[name] = headers[name] as string | string[];
  return out;
}

/** A request on its way to an endpoint: the route's rewrites and header operations done, its body replayable. */
interface ProxiedRequest {
  readonly method: string;
  readonly path: string;
  readonly authority: string;
  readonly headers: HeaderMap;
  readonly body: RequestBody | undefined;
  readonly upgrade?: string | undefined;
  /** The endpoint answered `100 Continue`: tell the client (only set when the client expects it). */
  readonly onContinue?: (() => void) | undefined;
}

export function createHttpProxy(context: HttpProxyContext): HttpProxy {
  const random = context.random ?? Math.random;
  const now = context.now ?? Date.now;
  const tunnels = new WeakMap<object, Connection>();
  const upstreams = new UpstreamClients(context.dial);
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

  /** A destination workload's SPIFFE identity, built once per workload object. */
  const principals = new WeakMap<Workload, string>();
  const principalOf = (workload: Workload | undefined): string | undefined => {
    if (workload === undefined) return undefined;
    let principal = principals.get(workload);
    if (principal === undefined) {
      principal = `spiffe://${workload.trustDomain}/ns/${workload.namespace}/sa/${workload.serviceAccount}`;
      principals.set(workload, principal);
    }
    return principal;
  };

  const sourceOf = (connection: Connection): Workload | undefined => {
    const version = context.state.version;
    if (connection.source?.version !== version) connection.source = { version, workload: context.state.workloadByAddress('', connection.tunnel.sourceIp) };
    return connection.source.workload;
  };

  /** The destination service of a weighted destination (its host, in its namespace or the request's). */
  const destinationService = (destination: WeightedDestination, current: ServiceTarget): Service | undefined => {
    const { host, serviceNamespace } = destination.destination;
    if (host === current.service.hostname) return current.service;
    const namespace = serviceNamespace !== '' ? serviceNamespace : current.service.namespace;
    return context.state.serviceByKey(`${namespace}/${host}`) ?? context.state.servicesByHostname(host)[0];
  };

  /** Tries the request against the destination until a response is final (or retries and time run out). */
  const forward = async (
    request: ProxiedRequest,
    destination: { service: Service; l7: WaypointService | undefined; subset: string; port: number; codec: HttpCodec },
    rule: RouteRule | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Answer> => {
    // The translator already filled in Istio's default policy where the route wrote none; an absent policy on a
    // rule means retries are off (`attempts: 0`, or a fault on the route). Only the implicit route (no routing
    // config at all) gets the default here.
    const retry = rule === undefined ? DEFAULT_RETRY_POLICY : rule.retries;
    // A function, so the compiler does not narrow what a timer changes.
    const timedOut = (): boolean => signal?.aborted === true;
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
      const perTry = retry?.perTryTimeoutMs === undefined ? undefined : AbortSignal.timeout(retry.perTryTimeoutMs);
      const attemptSignal = perTry === undefined ? signal : signal === undefined ? perTry : AbortSignal.any([signal, perTry]);
      tried.add(endpoint.uid);
      runtime.lb.started(endpoint.uid);
      let outcome: AttemptOutcome;
      /** Why a 'reset' outcome happened, as Envoy reports it. */
      let resetReason: 'connection termination' | 'protocol error' = 'connection termination';
      let response: UpstreamResponse | undefined;
      try {
        try {
          const headers = { ...request.headers, 'x-envoy-attempt-count': String(retries + 1) };
          const body = request.body === undefined ? undefined : (request.body.contents() ?? request.body.open());
          response = await upstreams.exchange(endpoint, destination.codec, { method: request.method, path: request.path, authority: request.authority, headers, body, upgrade: request.upgrade, onContinue: request.onContinue }, attemptSignal);
          const grpc = response.headers['grpc-status'];
          outcome = { kind: 'response', status: response.status, grpcStatus: typeof grpc === 'string' ? Number(grpc) : undefined };
        } catch (cause) {
          context.logger.debug({ endpoint: `${endpoint.ip}:${endpoint.port}`, err: cause instanceof Error ? cause.message : String(cause) }, 'upstream attempt failed');
          outcome =
            cause instanceof UpstreamConnectError
              ? { kind: 'connect-failure' }
              : cause instanceof UpstreamRefusedStreamError
                ? { kind: 'refused-stream' }
                : !timedOut() && attemptSignal?.aborted === true
                  ? { kind: 'per-try-timeout' }
                  : { kind: 'reset' };
          if (cause instanceof UpstreamProtocolError) resetReason = 'protocol error';
        }
      } finally {
        runtime.lb.finished(endpoint.uid);
        if (retries === 0) runtime.limits.finishRequest();
        else runtime.limits.finishRetry();
      }
      const total = endpoints.length;
      if (outcome.kind === 'response') runtime.outlier.record(endpoint.uid, { kind: 'response', status: outcome.status }, total);
      else runtime.outlier.record(endpoint.uid, { kind: 'local-failure' }, total);
      if (timedOut()) {
        if (response !== undefined) cut(response.body);
        return text(504, 'upstream request timeout', 'UT');
      }
      const answer: Answer =
        outcome.kind === 'response' && response !== undefined
          ? { status: outcome.status, headers: response.headers, body: response, flags: '-', endpoint }
          : outcome.kind === 'per-try-timeout'
            ? text(504, 'upstream request timeout', 'UT', {})
            : outcome.kind === 'connect-failure'
              ? text(503, 'upstream connect error or disconnect/reset before headers. reset reason: connection failure', 'UF')
              : text(503, `upstream connect error or disconnect/reset before headers. reset reason: ${resetReason}`, resetReason === 'protocol error' ? 'UPE' : 'UC');
      // A body already streamed past the retry buffer cannot be sent again: the answer stands.
      if (retry === undefined || !shouldRetry(retry, outcome, retries) || request.body?.replayable === false) {
        // A retriable outcome that ran out of retries is flagged as Envoy does.
        const exhausted = retry !== undefined && retries > 0 && shouldRetry(retry, outcome, 0);
        return exhausted ? { ...answer, flags: 'URX' } : answer;
      }
      // Retried: this response is discarded.
      if (response !== undefined) drain(response.body);
      last = answer;
      retries++;
      await sleep(retryBackoffMs(retry, retries - 1, random), signal);
      if (timedOut()) return text(504, 'upstream request timeout', 'UT');
    }
  };

  /** Everything between the request and its answer; the answer is written by `handle`. */
  const decide = async (request: Downstream, body: RequestBody | undefined, tunnel: TunnelInfo, target: ServiceTarget, facts: Facts, writeContinue: () => void): Promise<Answer> => {
    const headers = request.headers;
    // Envoy refuses an upgrade it has no upgrade config for, before any filter runs.
    if (request.upgrade !== undefined && !UPGRADES.has(request.upgrade)) return { status: 403, headers: {}, body: Buffer.alloc(0), flags: '-' };
    const view: RequestView = { method: request.method, path: request.path, authority: request.authority, scheme: 'http', headers, servicePort: target.port };
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
    // CORS runs where Envoy's filter does: after authorization, before redirects, direct responses and faults.
    const cors = decideCors(rule?.cors, view);
    if (cors.kind === 'preflight') return { status: 200, headers: { ...cors.headers }, body: Buffer.alloc(0), flags: '-' };
    if (cors.kind === 'actual') facts.corsHeaders = cors.headers;
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
    // An upgrade goes upstream as HTTP/1.1 whatever the port says (Envoy would need extended CONNECT for HTTP/2).
    const codec =
      request.upgrade !== undefined ? 'http1' : upstreamCodec(service === target.service && port === target.port ? (target.protocol ?? 'HTTP') : protocolOf(destinationL7, service, port), request.codec);

    const rewritten = rewriteRequest(view, rule?.rewrite, selected?.match);
    const outgoing = withoutHopByHop(headers);
    // gRPC needs `te: trailers` end to end; it is the one TE value an HTTP/2 request may carry.
    if (String(headers['te'] ?? '').toLowerCase().includes('trailers')) outgoing['te'] = 'trailers';
    if (authnResult.kind === 'authenticated') {
      for (const name of authnResult.removeHeaders) delete outgoing[name.toLowerCase()];
      for (const [name, value] of Object.entries(authnResult.setHeaders)) outgoing[name.toLowerCase()] = value;
    }
    // Envoy without most_specific_header_mutations_wins: the destination's operations first, the route's last (wins).
    applyHeaderOperations(outgoing, chosen?.requestHeaders);
    applyHeaderOperations(outgoing, rule?.requestHeaders);
    // The authority is the rewritten one, whatever the header operations did to Host; it travels as Host or :authority.
    delete outgoing['host'];
    const authority = rewritten.authority;
    outgoing['x-forwarded-proto'] ??= 'http';
    outgoing['x-request-id'] ??= randomUUID();

    const timeoutMs = rule?.timeoutMs ?? 0;
    const signal = timeoutMs > 0 ? AbortSignal.timeout(timeoutMs) : undefined;
    // Envoy relays the expectation (Istio's ENABLE_100_CONTINUE_HEADERS): the endpoint's `100 Continue` reaches the
    // client, which sends its body only then; a refusal before that saves the client the upload.
    const expect = headers['expect'];
    const onContinue = typeof expect === 'string' && hasListToken(expect, '100-continue') ? writeContinue : undefined;
    const upstreamRequest: ProxiedRequest = { method: view.method, path: rewritten.path, authority, headers: outgoing, body, upgrade: request.upgrade, onContinue };
    // A connection switching protocols is not mirrored.
    for (const mirror of request.upgrade === undefined ? (rule?.mirrors ?? []) : []) {
      const mirrorService = context.state.serviceByKey(`${mirror.destination.serviceNamespace}/${mirror.destination.host}`);
      if (mirrorService === undefined || random() * 100 >= mirror.percentage) continue;
      const mirrorPort = mirror.destination.port !== 0 ? mirror.destination.port : target.port;
      const mirrorL7 = context.l7.service(mirrorService.namespace, mirrorService.hostname);
      void shadow(
        { ...upstreamRequest, authority: authority.replace(/(:\d+)?$/, '-shadow$1'), onContinue: undefined },
        { service: mirrorService, l7: mirrorL7, subset: mirror.destination.subset, port: mirrorPort, codec: upstreamCodec(protocolOf(mirrorL7, mirrorService, mirrorPort), request.codec) },
      );
    }
    const answer = await forward(upstreamRequest, { service, l7: destinationL7, subset: chosen?.destination.subset ?? '', port, codec }, rule, signal);
    const responseHeaders = withoutHopByHop(answer.headers);
    applyHeaderOperations(responseHeaders, chosen?.responseHeaders);
    applyHeaderOperations(responseHeaders, rule?.responseHeaders);
    return { ...answer, headers: responseHeaders };
  };

  /** A mirrored copy, fire and forget: sent once the whole body is in (a body past the retry buffer is not mirrored). */
  const shadow = async (
    request: ProxiedRequest,
    destination: { service: Service; l7: WaypointService | undefined; subset: string; port: number; codec: HttpCodec },
  ): Promise<void> => {
    try {
      const copy = request.body === undefined ? undefined : await request.body.whole();
      if (request.body !== undefined && copy === undefined) return;
      const body = copy === undefined ? undefined : RequestBody.of(copy);
      const answer = await forward({ ...request, body }, destination, undefined, AbortSignal.timeout(30_000));
      if (!Buffer.isBuffer(answer.body)) drain(answer.body.body);
    } catch {
      // A mirror's failure never affects the request.
    }
  };

  const handle = async (request: Downstream, requestBody: Readable | Buffer | undefined, responder: Responder, held: Connection): Promise<void> => {
    const { tunnel, target, stream } = held;
    const codec = request.codec;
    inFlight.set(stream, (inFlight.get(stream) ?? 0) + 1);
    responder.on('close', () => {
      const count = inFlight.get(stream);
      if (count === undefined) return;
      const active = count - 1;
      inFlight.set(stream, active);
      // While closing, a connection ends once its last request is answered instead of waiting for the next one.
      if (closing && active === 0) stream.destroy();
    });
    const started = now();
    const grpc = isGrpcRequest(request.headers['content-type']);
    const span = context.tracing.start(request.headers, `${target.service.hostname}:${target.port}/*`);
    const facts: Facts = {};
    const body = requestBody === undefined ? undefined : new RequestBody(requestBody);
    // Envoy's connection manager assigns x-request-id up front, so the access log and the upstream see the same id.
    // (request.headers is this request's own copy.)
    const requestHeaders = request.headers;
    requestHeaders['x-request-id'] ??= randomUUID();
    Object.assign(requestHeaders, span.propagate);
    let answer: Answer;
    try {
      answer = await decide(request, body, tunnel, target, facts, () => responder.writeContinue());
    } catch (cause) {
      context.logger.warn({ err: cause instanceof Error ? cause.message : String(cause) }, 'request failed');
      answer = text(503, 'upstream connect error or disconnect/reset before headers. reset reason: connection termination', 'UC');
    }
    if (facts.corsHeaders !== undefined) answer = { ...answer, headers: { ...answer.headers, ...facts.corsHeaders } };
    if (grpc && Buffer.isBuffer(answer.body)) {
      const reply = grpcLocalReply(answer.status, answer.headers, answer.body.toString('utf8'));
      answer = { ...answer, ...reply, body: Buffer.alloc(0) };
    }
    let responseBytes = 0;
    /** Bytes the client sent over a connection that switched protocols. */
    let switchedRequestBytes = 0;
    let grpcStatus: number | undefined;
    const readGrpcStatus = (headers: HeaderMap): void => {
      const value = headers['grpc-status'];
      if (typeof value === 'string' && value !== '') grpcStatus = Number(value);
    };
    readGrpcStatus(answer.headers);
    const finish = (): void => {
      body?.discard();
      const source = sourceOf(held);
      const destination = workloadOf(answer.endpoint);
      // Fixed-shape objects (absent values as undefined): this runs for every request.
      const destinationPrincipal = principalOf(destination);
      const durationMs = now() - started;
      const requestBytes = (body?.bytes ?? 0) + switchedRequestBytes;
      const record: RequestRecord = {
        source,
        sourcePrincipal: tunnel.peerPrincipal,
        destinationService: held.destinationService,
        destination,
        destinationPrincipal,
        protocol: grpc ? 'grpc' : 'http',
        responseCode: answer.status,
        grpcStatus,
        responseFlags: answer.flags,
        durationMs,
        requestBytes,
        responseBytes,
      };
      context.metrics.record(record);
      const endpoint = answer.endpoint;
      context.accessLog(
        accessLogLine({
          startTime: new Date(started),
          method: request.method,
          path: request.path,
          protocol: `HTTP/${request.httpVersion}`,
          responseCode: answer.status,
          responseFlags: answer.flags,
          requestBytes,
          responseBytes,
          durationMs,
          upstreamHost: endpoint === undefined ? undefined : `${endpoint.ip}:${endpoint.port}`,
          upstreamCluster: held.cluster,
          authority: request.authority,
          userAgent: String(request.headers['user-agent'] ?? ''),
          requestId: String(requestHeaders['x-request-id'] ?? ''),
          forwardedFor: String(request.headers['x-forwarded-for'] ?? ''),
          downstreamRemoteAddress: tunnel.sourceIp,
          sourcePrincipal: tunnel.peerPrincipal,
          destinationPrincipal,
        }),
      );
      span.end({ 'http.method': request.method, 'http.url': request.path, 'http.status_code': answer.status, 'response_flags': answer.flags }, answer.status >= 500);
    };
    const switched = Buffer.isBuffer(answer.body) ? undefined : answer.body.switched;
    if (switched !== undefined) {
      // The endpoint accepted the upgrade: the client gets the 101 and the two connections are joined as an HBONE
      // tunnel is to its app. The request is measured and logged when both directions have ended.
      if (responder.switchProtocols === undefined || request.upgrade === undefined) {
        switched.stream.destroy();
        responder.destroy();
        finish();
        return;
      }
      const client = responder.switchProtocols({ ...answer.headers, connection: 'upgrade', upgrade: request.upgrade });
      // What each side sent behind its head goes first.
      if (client.head !== undefined) switched.stream.write(client.head);
      if (switched.head !== undefined) client.stream.write(switched.head);
      const joined = pipeTunnel(client.stream, switched.stream);
      client.stream.resume();
      switched.stream.resume();
      void joined.then((result) => {
        switchedRequestBytes = (client.head?.length ?? 0) + result.bytesSent;
        responseBytes = (switched.head?.length ?? 0) + result.bytesReceived;
        finish();
      });
      return;
    }
    responder.on('close', finish);
    const headers = closing && codec === 'http1' ? { ...answer.headers, connection: 'close' } : answer.headers;
    const headersOnly = Buffer.isBuffer(answer.body) ? answer.body.length === 0 && grpc : answer.body.headersOnly;
    try {
      if (headersOnly) {
        if (!Buffer.isBuffer(answer.body)) drain(answer.body.body);
        responder.headersOnly(answer.status, headers);
        return;
      }
      responder.writeHead(answer.status, headers);
    } catch (cause) {
      // A header value HTTP/2 refuses, from the endpoint or a header operation.
      context.logger.warn({ err: cause instanceof Error ? cause.message : String(cause) }, 'response headers refused');
      if (!Buffer.isBuffer(answer.body)) cut(answer.body.body);
      responder.destroy();
      return;
    }
    if (Buffer.isBuffer(answer.body)) {
      responseBytes = answer.body.length;
      responder.end(answer.body);
      return;
    }
    const upstream = answer.body;
    const content = upstream.body;
    if (Buffer.isBuffer(content)) {
      // The whole body came with the head: it leaves with the head, in one write.
      responseBytes = content.length;
      responder.end(content);
      return;
    }
    content.on('data', (chunk: Buffer) => {
      responseBytes += chunk.length;
      if (!responder.write(chunk)) {
        content.pause();
        responder.once('drain', () => content.resume());
      }
    });
    content.on('end', () => {
      const trailers = upstream.trailers();
      readGrpcStatus(trailers);
      // HTTP/1.1 responses carry no trailers here (gRPC needs HTTP/2 anyway).
      if (codec === 'http2' && Object.keys(trailers).length > 0) responder.addTrailers(trailers);
      responder.end();
    });
    content.on('error', () => responder.destroy());
    // The client went away before the end: the upstream stream is cancelled too.
    responder.on('close', () => {
      if (!responder.writableFinished) content.destroy();
    });
  };

  // The session of an h2c connection is created synchronously by the 'connection' event: `pending` carries its tunnel.
  let pending: Connection | undefined;
  const onHttp2Request = (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse): void => {
    const held = tunnels.get(req.stream.session ?? {});
    if (held === undefined) {
      res.writeHead(503).end();
      return;
    }
    const responder = res as unknown as Responder;
    responder.headersOnly = (status, headers) => {
      if (res.stream.destroyed) return;
      res.stream.respond({ ...headers, ':status': status }, { endStream: true });
    };
    const request = downstreamOfHttp2(req);
    void handle(request, request.hasBody ? req : undefined, responder, held);
  };
  const http2Server = http2.createServer({}, onHttp2Request);
  // Listening for Expect: 100-continue stops Node's automatic `100 Continue`: the endpoint's is relayed instead.
  http2Server.on('checkContinue', onHttp2Request);
  /** Open h2c sessions, sent GOAWAY on close so their clients open no new streams. */
  const http2Sessions = new Set<http2.ServerHttp2Session>();
  http2Server.on('session', (session) => {
    if (pending === undefined) return;
    tunnels.set(session, pending);
    http2Sessions.add(session);
    session.once('close', () => http2Sessions.delete(session));
    session.on('error', () => undefined);
  });

  /** Hands the connection to the server for its codec once its first bytes show which one it speaks. */
  const dispatch = (stream: Duplex, held: Connection): void => {
    let head = Buffer.alloc(0);
    const timer = setTimeout(() => stream.destroy(), CODEC_DETECTION_TIMEOUT_MS);
    const stop = (): void => {
      clearTimeout(timer);
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      stream.off('close', stop);
    };
    const onEnd = (): void => {
      stop();
      stream.destroy();
    };
    const onReadable = (): void => {
      let chunk: Buffer | null;
      while ((chunk = stream.read() as Buffer | null) !== null) head = Buffer.concat([head, chunk]);
      const codec = sniffCodec(head);
      if (codec === 'undecided') return;
      stop();
      stream.unshift(head);
      if (codec === 'http1') {
        serveHttp1(stream, { idleTimeoutMs: KEEP_ALIVE_TIMEOUT_MS, onRequest: ({ head, body, response }) => void handle(downstreamOfHttp1(head), body, response, held) });
        return;
      }
      pending = held;
      try {
        // Node's HTTP/2 code may reuse the buffers it writes: the tunnel gets private copies.
        http2Server.emit('connection', copyingDuplex(stream));
      } finally {
        pending = undefined;
      }
    };
    stream.on('readable', onReadable);
    stream.once('end', onEnd);
    stream.once('close', stop);
  };

  return {
    serve(stream, tunnel, target) {
      if (closing) {
        stream.destroy();
        return;
      }
      inFlight.set(stream, 0);
      stream.once('close', () => forget(stream));
      stream.on('error', () => undefined);
      const { service, port } = target;
      dispatch(stream, {
        tunnel,
        target,
        stream,
        destinationService: { hostname: service.hostname, namespace: service.namespace, name: service.name },
        cluster: `inbound-vip|${port}|http|${service.hostname}`,
      });
    },
    pruneUpstreams() {
      upstreams.retain((endpoint) => context.state.workloadByUid(endpoint.uid)?.addresses.includes(endpoint.ip) === true);
    },
    close() {
      closing = true;
      for (const session of http2Sessions) session.close();
      for (const [stream, active] of inFlight) if (active === 0) stream.destroy();
      if (inFlight.size === 0) {
        upstreams.close();
        return Promise.resolve();
      }
      return new Promise((resolve) => {
        const deadline = setTimeout(() => {
          for (const stream of inFlight.keys()) stream.destroy();
        }, CLOSE_DEADLINE_MS);
        deadline.unref();
        drained.add(() => {
          clearTimeout(deadline);
          upstreams.close();
          resolve();
        });
      });
    },
  };
}
