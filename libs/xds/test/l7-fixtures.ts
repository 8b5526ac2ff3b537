// Domain values that between them set every field and every oneof branch of the weft.l7.v1 messages, shared by the
// adapter round-trip tests and the field-number check against the .proto files.

import type { L7Authorization, L7Source, RequestAuthentication, RouteMatch, RouteRule, WaypointService } from '@weft/mesh-model';

const HOST = 'reviews.default.svc.cluster.local';

export const fullMatch: RouteMatch = {
  name: 'jason',
  uri: { kind: 'prefix', value: '/api/' },
  method: { kind: 'exact', value: 'GET' },
  authority: { kind: 'regex', value: '^reviews(\\.default)?(:9080)?$' },
  headers: { 'end-user': { kind: 'exact', value: 'jason' }, 'x-canary': { kind: 'any' } },
  withoutHeaders: { 'x-debug': { kind: 'prefix', value: '1' } },
  queryParams: { version: { kind: 'regex', value: 'v[12]' } },
  ignoreUriCase: true,
  port: 9080,
};

const ops = { set: { 'x-set': 'a' }, add: { 'x-add': 'b' }, remove: ['x-remove'] };

export const forwardRule: RouteRule = {
  name: 'canary',
  matches: [fullMatch, { name: '', headers: {}, withoutHeaders: {}, queryParams: {}, ignoreUriCase: false, port: 0 }],
  action: {
    kind: 'forward',
    destinations: [
      { destination: { host: HOST, serviceNamespace: 'default', port: 9080, subset: 'v1' }, weight: 90, requestHeaders: ops, responseHeaders: ops },
      { destination: { host: 'ratings.example.com', serviceNamespace: '', port: 0, subset: '' }, weight: 10 },
    ],
  },
  rewrite: { path: { kind: 'prefix', value: '/v1/' }, authority: 'reviews-v1' },
  timeoutMs: 10_000,
  retries: {
    attempts: 3,
    perTryTimeoutMs: 2_000,
    retryOn: ['5xx', 'reset', 'connect-failure', 'retriable-status-codes'],
    retriableStatusCodes: [503],
    backoffBaseIntervalMs: 25,
    retryRemoteLocalities: true,
    ignorePreviousHosts: true,
    hostSelectionRetryMaxAttempts: 5,
    isDefault: false,
  },
  requestHeaders: ops,
  responseHeaders: { set: {}, add: {}, remove: ['server'] },
  mirrors: [{ destination: { host: 'shadow.default.svc.cluster.local', serviceNamespace: 'default', port: 80, subset: 'v3' }, percentage: 12.5 }],
  cors: {
    allowOrigins: [{ kind: 'exact', value: 'https://a.example' }, { kind: 'regex', value: 'https://.*\\.example' }],
    allowMethods: ['GET', 'POST'],
    allowHeaders: ['authorization'],
    exposeHeaders: ['x-trace'],
    maxAgeMs: 86_400_000,
    allowCredentials: false,
  },
};

const bare = { matches: [], mirrors: [] } as const;

export const otherRules: readonly RouteRule[] = [
  { ...bare, name: 'redirect', action: { kind: 'redirect', uri: '/new', authority: 'b.example', scheme: 'https', port: 8443, responseCode: 308 } },
  { ...bare, name: 'direct', action: { kind: 'directResponse', status: 503, body: new Uint8Array([0x7b, 0x7d, 0x00, 0xff]) } },
  {
    ...bare,
    name: 'no-action-500',
    rewrite: { path: { kind: 'fullPath', value: '/health' }, authority: '' },
    fault: { delay: { fixedDelayMs: 1500.5, percentage: 50 }, abort: { error: { kind: 'http', status: 418 }, percentage: 0.1 } },
  },
  {
    ...bare,
    name: 'regex-rewrite',
    action: { kind: 'forward', destinations: [{ destination: { host: HOST, serviceNamespace: 'default', port: 0, subset: '' }, weight: 0 }] },
    rewrite: { path: { kind: 'regex', pattern: '^/service/([^/]+)(/.*)$', substitution: '\\2/instance/\\1' }, authority: '' },
    fault: { abort: { error: { kind: 'grpc', status: 14 }, percentage: 100 } },
    cors: { allowOrigins: [], allowMethods: [], allowHeaders: [], exposeHeaders: [] },
    timeoutMs: 0.001,
  },
  {
    ...bare,
    name: 'istio-default-retries',
    action: { kind: 'forward', destinations: [{ destination: { host: HOST, serviceNamespace: 'default', port: 0, subset: '' }, weight: 100 }] },
    retries: {
      attempts: 2,
      retryOn: ['connect-failure', 'refused-stream', 'unavailable', 'cancelled', 'retriable-status-codes'],
      retriableStatusCodes: [],
      retryRemoteLocalities: false,
      ignorePreviousHosts: true,
      hostSelectionRetryMaxAttempts: 5,
      isDefault: true,
    },
  },
];

export const fullService: WaypointService = {
  hostname: HOST,
  namespace: 'default',
  name: 'reviews',
  ports: [
    { name: 'http', port: 9080, targetPort: 9080, protocol: 'HTTP' },
    { name: 'http2-api', port: 9081, targetPort: 0, protocol: 'HTTP2' },
    { name: 'grpc', port: 9090, targetPort: 19090, protocol: 'GRPC' },
    { name: 'tcp-db', port: 5432, targetPort: 5432, protocol: 'TCP' },
    { name: '', port: 1, targetPort: 65535, protocol: 'UNKNOWN' },
  ],
  httpRoutes: [forwardRule, ...otherRules],
  routeSource: 'VirtualService default/reviews',
  trafficPolicy: {
    loadBalancer: { kind: 'simple', simple: 'ROUND_ROBIN' },
    connectionPool: {
      tcp: { maxConnections: 100, connectTimeoutMs: 30, idleTimeoutMs: 60_000, maxConnectionDurationMs: 3_600_000 },
      http: { http1MaxPendingRequests: 10, http2MaxRequests: 1000, maxRequestsPerConnection: 1, maxRetries: 3, idleTimeoutMs: 1000, maxConcurrentStreams: 100 },
    },
    outlierDetection: {
      consecutive5xxErrors: 0,
      consecutiveGatewayErrors: 3,
      intervalMs: 30_000,
      baseEjectionTimeMs: 30_000,
      maxEjectionPercent: 100,
      minHealthPercent: 50,
      splitExternalLocalOriginErrors: true,
      consecutiveLocalOriginFailures: 2,
    },
    portLevel: [
      {
        port: 9080,
        loadBalancer: { kind: 'consistentHash', hashKey: { kind: 'httpHeaderName', name: 'x-user' }, minimumRingSize: 1024 },
        connectionPool: { tcp: { maxConnections: 1 } },
        outlierDetection: { maxEjectionPercent: 0, minHealthPercent: 0, splitExternalLocalOriginErrors: false },
      },
      { port: 9090 },
    ],
  },
  subsets: [
    {
      name: 'v1',
      labels: { version: 'v1' },
      workloadUids: ['Kubernetes//Pod/default/reviews-v1-a', 'Kubernetes//Pod/default/reviews-v1-b'],
      trafficPolicy: {
        loadBalancer: { kind: 'consistentHash', hashKey: { kind: 'httpCookie', name: 'user', path: '/', ttlMs: 0 }, minimumRingSize: 0 },
        portLevel: [],
      },
    },
    { name: 'v2', labels: { version: 'v2', track: 'canary' }, workloadUids: ['Kubernetes//Pod/default/reviews-v2-a'] },
    { name: 'src-ip', labels: {}, workloadUids: [], trafficPolicy: { loadBalancer: { kind: 'consistentHash', hashKey: { kind: 'useSourceIp' }, minimumRingSize: 0 }, portLevel: [] } },
    {
      name: 'query',
      labels: {},
      workloadUids: [],
      trafficPolicy: { loadBalancer: { kind: 'consistentHash', hashKey: { kind: 'httpQueryParameterName', name: 'u' }, minimumRingSize: 0 }, portLevel: [] },
    },
    { name: 'cookie-no-ttl', labels: {}, workloadUids: [], trafficPolicy: { loadBalancer: { kind: 'consistentHash', hashKey: { kind: 'httpCookie', name: 'c', path: '' }, minimumRingSize: 0 }, portLevel: [] } },
    { name: 'random', labels: {}, workloadUids: [], trafficPolicy: { loadBalancer: { kind: 'simple', simple: 'RANDOM' }, portLevel: [] } },
    { name: 'passthrough', labels: {}, workloadUids: [], trafficPolicy: { loadBalancer: { kind: 'simple', simple: 'PASSTHROUGH' }, portLevel: [] } },
    { name: 'least', labels: {}, workloadUids: [], trafficPolicy: { loadBalancer: { kind: 'simple', simple: 'LEAST_REQUEST' }, portLevel: [] } },
  ],
  trafficPolicySource: 'DestinationRule default/reviews',
};

export const minimalService: WaypointService = {
  hostname: 'httpbin.default.svc.cluster.local',
  namespace: 'default',
  name: 'httpbin',
  ports: [],
  httpRoutes: [],
  routeSource: '',
  subsets: [],
  trafficPolicySource: '',
};

const source: L7Source = {
  principals: ['cluster.local/ns/default/sa/sleep'],
  notPrincipals: ['cluster.local/ns/default/sa/evil*'],
  requestPrincipals: ['https://issuer.example/*'],
  notRequestPrincipals: ['*/bot'],
  namespaces: ['default'],
  notNamespaces: ['kube-*'],
  serviceAccounts: ['default/sleep', 'curl'],
  notServiceAccounts: ['other/x'],
  ipBlocks: ['10.0.0.0/8'],
  notIpBlocks: ['10.1.2.3'],
  remoteIpBlocks: ['192.0.2.0/24'],
  notRemoteIpBlocks: ['192.0.2.7'],
  trustDomains: ['cluster.local'],
  notTrustDomains: ['evil.example'],
};

export const fullAuthorization: L7Authorization = {
  name: 'require-jwt',
  namespace: 'test-app',
  targets: [
    { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'waypoint', namespace: '' },
    { group: '', kind: 'Service', name: 'api', namespace: 'test-app' },
  ],
  action: 'CUSTOM',
  provider: 'ext-authz',
  dryRun: true,
  rules: [
    {
      from: [source, { ...source, principals: [], trustDomains: [] }],
      to: [
        {
          hosts: ['api.example'],
          notHosts: ['admin.*'],
          ports: ['8080'],
          notPorts: ['9090'],
          methods: ['GET', 'POST'],
          notMethods: ['DELETE'],
          paths: ['/api/{*}/items', '/v1/{**}'],
          notPaths: ['/admin*'],
        },
      ],
      when: [{ key: 'request.auth.claims[groups]', values: ['admins'], notValues: ['banned'] }],
    },
    { from: [], to: [], when: [] },
  ],
};

export const emptyAllow: L7Authorization = {
  name: 'allow-nothing',
  namespace: 'default',
  targets: [],
  action: 'ALLOW',
  provider: '',
  dryRun: false,
  rules: [],
};

export const fullRequestAuthentication: RequestAuthentication = {
  name: 'jwt',
  namespace: 'test-app',
  targets: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'waypoint', namespace: '' }],
  jwtRules: [
    {
      issuer: 'https://issuer.example',
      audiences: ['api', 'web'],
      jwksUri: 'https://issuer.example/.well-known/jwks.json',
      jwks: '{"keys":[]}',
      fromHeaders: [{ name: 'x-jwt', prefix: 'Bearer ' }],
      fromParams: ['token'],
      fromCookies: ['session'],
      outputPayloadToHeader: 'x-jwt-payload',
      forwardOriginalToken: true,
      outputClaimToHeaders: [{ header: 'x-sub', claim: 'sub' }],
      timeoutMs: 5000,
      spaceDelimitedClaims: ['scope'],
    },
    {
      issuer: 'other',
      audiences: [],
      jwksUri: '',
      jwks: '',
      fromHeaders: [],
      fromParams: [],
      fromCookies: [],
      outputPayloadToHeader: '',
      forwardOriginalToken: false,
      outputClaimToHeaders: [],
      spaceDelimitedClaims: [],
    },
  ],
};
