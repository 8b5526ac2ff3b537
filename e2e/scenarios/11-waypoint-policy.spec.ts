// Scenario 11: a waypoint (Gateway class istio-waypoint) bound to ambient `default` with `istio.io/use-waypoint`
// enforces what only a waypoint can (reference §6.2, §6.8, §7, §8.2):
//  - L7 AuthorizationPolicy attached with `targetRefs: Service httpbin`: ALLOW by principal + method, DENY by path;
//  - RequestAuthentication with an inline JWKS plus ALLOW `requestPrincipals: ["*"]`: no token 403, a token of
//    another key 401, a valid token 200 with the token stripped before httpbin;
//  - telemetry: `istio_requests_total{reporter="waypoint"}` counts per response code, the duration histogram, promtool;
//    a service in a namespace without a waypoint is not touched by it;
//  - DestinationRule outlierDetection: an endpoint that refuses every connection is ejected after 5 failures.
// Each section removes its policies afterwards, so the next one starts from an open waypoint.

import { createPrivateKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { spawnSync } from 'node:child_process';

import type { ClusterDriver } from '../src/driver';
import { AMBIENT, curl, eventually, manifest, namespaceYaml, useCluster, type CurlResult } from '../src/scenario';

jest.setTimeout(180_000);

const NS = 'default';
const SLEEP = 'deployment/sleep';
const NOTSLEEP = 'deployment/notsleep';
const WAYPOINT = 'deployment/waypoint';
const HTTPBIN = 'http://httpbin:8000';
const HTTPBIN_FQDN = 'httpbin.default.svc.cluster.local';
const RBAC_DENIED = 'RBAC: access denied';
/** Propagation of a policy to the waypoint: controlplane push, then xDS. */
const PROPAGATION_MS = 30_000;

const yaml = (text: string): { yaml: string } => ({ yaml: text.replace(/^\n/, '') });

const GATEWAY = yaml(`
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: waypoint
  namespace: default
spec:
  gatewayClassName: istio-waypoint
  listeners:
  - name: mesh
    port: 15008
    protocol: HBONE
`);

/** A second client with its own service account, so its principal is not sleep's. */
const NOTSLEEP_YAML = yaml(`
apiVersion: v1
kind: ServiceAccount
metadata:
  name: notsleep
  namespace: default
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: notsleep
  namespace: default
spec:
  replicas: 1
  selector:
    matchLabels:
      app: notsleep
  template:
    metadata:
      labels:
        app: notsleep
    spec:
      serviceAccountName: notsleep
      containers:
      - name: notsleep
        image: curlimages/curl:latest
        command: ["/bin/sleep", "infinity"]
`);

/** httpbin in an ambient namespace that uses no waypoint. */
const PLAIN_YAML = yaml(`
apiVersion: apps/v1
kind: Deployment
metadata:
  name: httpbin
  namespace: plain
spec:
  replicas: 1
  selector:
    matchLabels:
      app: httpbin
  template:
    metadata:
      labels:
        app: httpbin
    spec:
      containers:
      - name: httpbin
        image: kennethreitz/httpbin:latest
        ports:
        - containerPort: 80
---
apiVersion: v1
kind: Service
metadata:
  name: httpbin
  namespace: plain
spec:
  selector:
    app: httpbin
  ports:
  - port: 8000
    targetPort: 80
`);

// ---- the waypoint's access log (one JSON object per request, Istio's JSON format) ----

interface AccessLogEntry {
  readonly method: string;
  readonly path: string;
  readonly response_code: number;
  readonly response_flags: string;
  readonly authority: string | null;
  readonly upstream_host: string | null;
  readonly upstream_cluster: string | null;
  readonly source_principal: string | null;
}

function accessLog(text: string): AccessLogEntry[] {
  const entries: AccessLogEntry[] = [];
  for (const line of text.split('\n')) {
    const at = line.indexOf('{"start_time"');
    if (at < 0) continue;
    try {
      entries.push(JSON.parse(line.slice(at)) as AccessLogEntry);
    } catch {
      // a line that merely mentions the field
    }
  }
  return entries;
}

const waypointLog = async (d: ClusterDriver): Promise<AccessLogEntry[]> => accessLog(await d.logs(NS, WAYPOINT));

// ---- Prometheus text (the subset the waypoint renders; 08-metrics.spec.ts has the full parser) ----

interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

function parseSamples(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\S+)?$/.exec(line);
    if (m === null) throw new Error(`bad metrics line: ${line}`);
    const labels: Record<string, string> = {};
    const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
    for (let l = re.exec(m[2] ?? ''); l !== null; l = re.exec(m[2] ?? '')) {
      labels[l[1] ?? ''] = (l[2] ?? '').replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    }
    const raw = m[3] ?? '';
    samples.push({ name: m[1] ?? '', labels, value: raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw) });
  }
  return samples;
}

async function waypointMetrics(d: ClusterDriver): Promise<string> {
  const r = await d.exec(NS, WAYPOINT, ['curl', '-sS', '-m', '5', 'http://127.0.0.1:15020/stats/prometheus']);
  if (r.code !== 0) throw new Error(`waypoint metrics: curl ${r.code}: ${r.stderr}`);
  return r.stdout;
}

const matches = (s: Sample, name: string, labels: Readonly<Record<string, string>>): boolean =>
  s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v);

const total = (samples: readonly Sample[], name: string, labels: Readonly<Record<string, string>>): number =>
  samples.filter((s) => matches(s, name, labels)).reduce((a, s) => a + s.value, 0);

function promtoolCheck(text: string): { status: number | null; output: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 30_000 });
  if (r.error !== undefined && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new Error('promtool is not installed: apt-get install prometheus (or bash tools/setup.sh)');
  }
  if (r.error !== undefined) throw r.error;
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

// ---- JWTs (RS256), signed with node:crypto ----

const ISSUER = 'testing@secure.istio.io';
const KID = 'weft-e2e';

const b64url = (data: string | Buffer): string => Buffer.from(data).toString('base64url');

function signJwt(key: KeyObject, claims: Readonly<Record<string, unknown>>): string {
  const head = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: KID }));
  const body = b64url(JSON.stringify(claims));
  return `${head}.${body}.${b64url(sign('sha256', Buffer.from(`${head}.${body}`), key))}`;
}

function rsaKeyPair(): { privateKey: KeyObject; publicJwk: Record<string, unknown> } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
  return { privateKey: createPrivateKey(privateKey.export({ format: 'pem', type: 'pkcs8' })), publicJwk: { ...jwk, kid: KID, alg: 'RS256', use: 'sig' } };
}

// ---- helpers ----

const describeResult = (r: CurlResult): string => `status ${r.status}, curl ${r.code} ${r.stderr.trim()}, body ${r.body.slice(0, 200)}`;

/** Curls until `status` is what `want` says (a policy change reaching the waypoint); fails with the last answer. */
async function until(d: ClusterDriver, pod: string, url: string, want: number, extra: readonly string[] = []): Promise<CurlResult> {
  const r = await eventually(() => curl(d, NS, pod, url, extra), (x) => x.status === want, PROPAGATION_MS);
  if (r.status !== want) throw new Error(`${pod} → ${url}: expected ${want}, last ${describeResult(r)}\n${d.diagnostics()}`);
  return r;
}

/** One curl process, `n` sequential requests (keep-alive through the waypoint): the status of each. */
async function burst(d: ClusterDriver, pod: string, url: string, n: number, extra: readonly string[] = []): Promise<number[]> {
  const urls = Array.from({ length: n }, (_, i) => `${url}${url.includes('?') ? '&' : '?'}i=${i}`);
  const args = urls.flatMap((u) => ['-o', '/dev/null', u]);
  const r = await d.exec(NS, pod, ['curl', '-sS', '-m', '60', '-w', '%{http_code}\\n', ...extra, ...args], 90_000);
  const codes = r.stdout.split('\n').filter((l) => l !== '').map(Number);
  if (codes.length !== n) throw new Error(`burst of ${n} to ${url}: got ${codes.length} codes (curl ${r.code}: ${r.stderr})`);
  return codes;
}

describe('scenario 11: waypoint L7 policy, JWT, telemetry and outlier detection', () => {
  const cluster = useCluster();

  beforeAll(async () => {
    const d = cluster();
    await d.apply(
      namespaceYaml(NS, { ...AMBIENT, 'istio.io/use-waypoint': 'waypoint' }),
      namespaceYaml('plain', AMBIENT),
      manifest('01-sleep-httpbin.yaml'),
      NOTSLEEP_YAML,
      PLAIN_YAML,
      GATEWAY,
    );
    // Traffic goes through the waypoint once its access log shows a sleep → httpbin request.
    const probe = async (): Promise<boolean> => {
      const r = await curl(d, NS, SLEEP, `${HTTPBIN}/get?ready=1`);
      return r.status === 200 && (await waypointLog(d)).some((e) => e.path.startsWith('/get?ready=1'));
    };
    if (!(await eventually(probe, (ok) => ok, 60_000))) {
      throw new Error(`sleep → httpbin never went through the waypoint\n${d.diagnostics()}`);
    }
  }, 120_000);

  describe('L7 authorization (targetRefs Service httpbin)', () => {
    const policies = yaml(`
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: httpbin-get-from-sleep
  namespace: default
spec:
  targetRefs:
  - kind: Service
    group: ""
    name: httpbin
  action: ALLOW
  rules:
  - from:
    - source:
        principals: ["cluster.local/ns/default/sa/sleep"]
    to:
    - operation:
        methods: ["GET"]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: httpbin-deny-admin
  namespace: default
spec:
  targetRefs:
  - kind: Service
    group: ""
    name: httpbin
  action: DENY
  rules:
  - to:
    - operation:
        paths: ["/admin*", "/anything/admin*"]
`);

    beforeAll(async () => {
      const d = cluster();
      await d.apply(policies);
      await until(d, SLEEP, `${HTTPBIN}/anything`, 403, ['-X', 'POST']);
      await until(d, SLEEP, `${HTTPBIN}/anything/admin`, 403);
    });

    afterAll(async () => {
      const d = cluster();
      await d.delete(policies);
      await until(d, SLEEP, `${HTTPBIN}/anything`, 200, ['-X', 'POST']);
      await until(d, SLEEP, `${HTTPBIN}/anything/admin`, 200);
      await until(d, NOTSLEEP, `${HTTPBIN}/get`, 200);
    });

    it('lets sleep GET /get (200)', async () => {
      const r = await curl(cluster(), NS, SLEEP, `${HTTPBIN}/get`);
      expect({ status: r.status, code: r.code }).toEqual({ status: 200, code: 0 });
      expect((JSON.parse(r.body) as { url: string }).url).toBe(`${HTTPBIN}/get`);
    });

    it("denies sleep's POST /anything with 403 'RBAC: access denied'", async () => {
      const r = await curl(cluster(), NS, SLEEP, `${HTTPBIN}/anything`, ['-X', 'POST', '-d', 'x=1']);
      expect({ status: r.status, body: r.body }).toEqual({ status: 403, body: RBAC_DENIED });
      // The waypoint answered it: httpbin never saw the request.
      const denied = (log: AccessLogEntry[]): AccessLogEntry[] => log.filter((e) => e.method === 'POST' && e.path === '/anything');
      const last = denied(await eventually(() => waypointLog(cluster()), (log) => denied(log).length > 0, 5_000)).at(-1);
      expect(last).toMatchObject({ response_code: 403, upstream_host: null, source_principal: 'spiffe://cluster.local/ns/default/sa/sleep' });
    });

    it('denies GET /anything/admin by the DENY on paths /admin* (403)', async () => {
      const r = await curl(cluster(), NS, SLEEP, `${HTTPBIN}/anything/admin`);
      expect({ status: r.status, body: r.body }).toEqual({ status: 403, body: RBAC_DENIED });
      const other = await curl(cluster(), NS, SLEEP, `${HTTPBIN}/anything/public`);
      expect(other.status).toBe(200);
    });

    it('denies GET /get from another service account (403)', async () => {
      const r = await curl(cluster(), NS, NOTSLEEP, `${HTTPBIN}/get`);
      expect({ status: r.status, body: r.body }).toEqual({ status: 403, body: RBAC_DENIED });
      const fromNotsleep = (log: AccessLogEntry[]): AccessLogEntry[] => log.filter((e) => e.source_principal === 'spiffe://cluster.local/ns/default/sa/notsleep');
      const last = fromNotsleep(await eventually(() => waypointLog(cluster()), (log) => fromNotsleep(log).length > 0, 5_000)).at(-1);
      expect(last).toMatchObject({ method: 'GET', path: '/get', response_code: 403 });
    });
  });

  describe('RequestAuthentication with an inline JWKS + ALLOW requestPrincipals ["*"]', () => {
    const good = rsaKeyPair();
    const other = rsaKeyPair();
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: ISSUER, sub: ISSUER, iat: now, exp: now + 3600 };
    const validToken = signJwt(good.privateKey, claims);
    const foreignToken = signJwt(other.privateKey, claims);
    const jwks = JSON.stringify({ keys: [good.publicJwk] });
    const policies = yaml(`
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata:
  name: httpbin-jwt
  namespace: default
spec:
  targetRefs:
  - kind: Service
    group: ""
    name: httpbin
  jwtRules:
  - issuer: "${ISSUER}"
    jwks: '${jwks}'
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: httpbin-require-jwt
  namespace: default
spec:
  targetRefs:
  - kind: Service
    group: ""
    name: httpbin
  action: ALLOW
  rules:
  - from:
    - source:
        requestPrincipals: ["*"]
`);
    const bearer = (token: string): string[] => ['-H', `Authorization: Bearer ${token}`];

    beforeAll(async () => {
      const d = cluster();
      await d.apply(policies);
      await until(d, SLEEP, `${HTTPBIN}/headers`, 403);
      await until(d, SLEEP, `${HTTPBIN}/headers`, 401, bearer(foreignToken));
    });

    afterAll(async () => {
      const d = cluster();
      await d.delete(policies);
      await until(d, SLEEP, `${HTTPBIN}/headers`, 200);
      await until(d, SLEEP, `${HTTPBIN}/headers`, 200, bearer(foreignToken));
    });

    it('denies a request without a token (403)', async () => {
      const r = await curl(cluster(), NS, SLEEP, `${HTTPBIN}/headers`);
      expect({ status: r.status, body: r.body }).toEqual({ status: 403, body: RBAC_DENIED });
    });

    it('rejects a token signed by another key (401)', async () => {
      const r = await curl(cluster(), NS, SLEEP, `${HTTPBIN}/headers`, bearer(foreignToken));
      expect({ status: r.status, body: r.body }).toEqual({ status: 401, body: 'Jwt verification fails' });
    });

    it('rejects an expired token (401)', async () => {
      const expired = signJwt(good.privateKey, { ...claims, exp: now - 600 });
      const r = await curl(cluster(), NS, SLEEP, `${HTTPBIN}/headers`, bearer(expired));
      expect({ status: r.status, body: r.body }).toEqual({ status: 401, body: 'Jwt is expired' });
    });

    it('accepts a valid token (200) and strips it before httpbin (no forwardOriginalToken)', async () => {
      const r = await curl(cluster(), NS, SLEEP, `${HTTPBIN}/headers`, bearer(validToken));
      expect({ status: r.status, code: r.code }).toEqual({ status: 200, code: 0 });
      const headers = (JSON.parse(r.body) as { headers: Record<string, string> }).headers;
      expect(Object.keys(headers).map((h) => h.toLowerCase())).not.toContain('authorization');
      expect(r.body).not.toContain(validToken);
      // The request did reach httpbin through the waypoint.
      expect(headers['Host']).toBe('httpbin:8000');
    });
  });

  describe('telemetry', () => {
    const SLEEP_TO_HTTPBIN = {
      reporter: 'waypoint',
      destination_service: HTTPBIN_FQDN,
      destination_service_name: 'httpbin',
      destination_service_namespace: 'default',
      source_workload: 'sleep',
      source_workload_namespace: 'default',
      source_principal: 'spiffe://cluster.local/ns/default/sa/sleep',
    } as const;
    const denyPolicy = yaml(`
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: httpbin-deny-forbidden
  namespace: default
spec:
  targetRefs:
  - kind: Service
    group: ""
    name: httpbin
  action: DENY
  rules:
  - to:
    - operation:
        paths: ["/anything/forbidden"]
`);

    afterAll(async () => {
      await cluster().delete(denyPolicy);
      await until(cluster(), SLEEP, `${HTTPBIN}/anything/forbidden`, 200);
    });

    it('leaves a service in a namespace without a waypoint alone (200, no access-log line)', async () => {
      const d = cluster();
      const r = await curl(d, NS, SLEEP, 'http://httpbin.plain:8000/get?plain=1');
      expect({ status: r.status, code: r.code }).toEqual({ status: 200, code: 0 });
      // Straight from sleep's ztunnel to httpbin's: httpbin sees sleep's own address.
      const [sleepPod] = await d.pods(NS, { app: 'sleep' });
      expect((JSON.parse(r.body) as { origin: string }).origin).toBe(sleepPod?.ip);
      expect(await d.logs('plain', 'deployment/httpbin')).toContain('GET /get?plain=1 200');
      // Something that does go through the waypoint after it, so its log is known to be written up to here.
      await until(d, SLEEP, `${HTTPBIN}/get?after-plain=1`, 200);
      const log = await eventually(() => waypointLog(d), (l) => l.some((e) => e.path === '/get?after-plain=1'));
      expect(log.some((e) => e.path === '/get?after-plain=1')).toBe(true);
      expect(log.filter((e) => e.path.includes('plain=1') && e.path !== '/get?after-plain=1')).toEqual([]);
      expect(log.filter((e) => (e.authority ?? '').includes('plain') || (e.upstream_cluster ?? '').includes('.plain.'))).toEqual([]);
    });

    it('counts sleep → httpbin in istio_requests_total{reporter="waypoint"} per response code, with the duration histogram', async () => {
      const d = cluster();
      await d.apply(denyPolicy);
      await until(d, SLEEP, `${HTTPBIN}/anything/forbidden`, 403);
      const ok = { ...SLEEP_TO_HTTPBIN, response_code: '200' };
      const denied = { ...SLEEP_TO_HTTPBIN, response_code: '403' };
      const before = parseSamples(await waypointMetrics(d));
      const okCodes = await burst(d, SLEEP, `${HTTPBIN}/get`, 7);
      const deniedCodes = await burst(d, SLEEP, `${HTTPBIN}/anything/forbidden`, 3);
      expect({ okCodes, deniedCodes }).toEqual({ okCodes: Array<number>(7).fill(200), deniedCodes: Array<number>(3).fill(403) });

      const delta = (after: readonly Sample[], name: string, labels: Readonly<Record<string, string>>): number => total(after, name, labels) - total(before, name, labels);
      const text = await eventually(
        () => waypointMetrics(d),
        (t) => delta(parseSamples(t), 'istio_requests_total', ok) >= 7 && delta(parseSamples(t), 'istio_requests_total', denied) >= 3,
      );
      const after = parseSamples(text);
      expect(delta(after, 'istio_requests_total', ok)).toBe(7);
      expect(delta(after, 'istio_requests_total', denied)).toBe(3);
      for (const s of after.filter((x) => matches(x, 'istio_requests_total', SLEEP_TO_HTTPBIN))) {
        expect(s.labels).toMatchObject({ request_protocol: 'http', source_app: 'sleep', source_canonical_service: 'sleep' });
      }
      // Answered by httpbin: the destination workload is known; denied at the waypoint: no upstream, flag RBAC.
      for (const s of after.filter((x) => matches(x, 'istio_requests_total', ok))) {
        expect(s.labels).toMatchObject({ destination_workload: 'httpbin', destination_workload_namespace: 'default', destination_principal: 'spiffe://cluster.local/ns/default/sa/default', response_flags: '-' });
      }
      for (const s of after.filter((x) => matches(x, 'istio_requests_total', denied))) {
        expect(s.labels['response_flags']).toBe('RBAC');
      }

      const buckets = after.filter((x) => matches(x, 'istio_request_duration_milliseconds_bucket', ok));
      expect(buckets.length).toBeGreaterThan(0);
      expect(buckets.some((b) => b.labels['le'] === '+Inf')).toBe(true);
      expect(delta(after, 'istio_request_duration_milliseconds_count', ok)).toBe(7);
      expect(delta(after, 'istio_request_duration_milliseconds_count', denied)).toBe(3);
      expect(text).toMatch(/^# TYPE istio_requests_total counter$/m);
      expect(text).toMatch(/^# TYPE istio_request_duration_milliseconds histogram$/m);
    });

    it("passes `promtool check metrics` on the waypoint's metrics (the _milliseconds unit lint aside)", async () => {
      const { status, output } = promtoolCheck(await waypointMetrics(cluster()));
      const problems = output
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '' && !/^istio_[a-z_]*_milliseconds(_bucket|_sum|_count)?\b.*use base unit "seconds" instead of "milliseconds"$/.test(l));
      expect({ status: status === 0 || status === 3 ? 'ok' : status, problems, output }).toEqual({ status: 'ok', problems: [], output: expect.any(String) as string });
    });
  });

  describe('outlier detection: an endpoint that answers every request with 500 is ejected', () => {
    // Same `app: httpbin` label, but ealen/echo-server (port 80): it answers with the status in `x-echo-code`, which
    // the httpbin pods ignore. Requests carrying `x-echo-code: 500` fail on this endpoint only. 500 is not in Istio's
    // default retryOn (connect failures, 503), so every failure reaches the client as well as the detector.
    const bad = yaml(`
apiVersion: apps/v1
kind: Deployment
metadata:
  name: httpbin-bad
  namespace: default
spec:
  replicas: 1
  selector:
    matchLabels:
      app: httpbin
      variant: bad
  template:
    metadata:
      labels:
        app: httpbin
        variant: bad
    spec:
      containers:
      - name: echo
        image: ealen/echo-server:latest
        env:
        - name: PORT
          value: "80"
`);
    // And no retries at all, so what sleep counts is what the detector counts.
    const policy = yaml(`
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: httpbin-outlier
  namespace: default
spec:
  host: httpbin.default.svc.cluster.local
  trafficPolicy:
    outlierDetection:
      consecutive5xxErrors: 5
      interval: 1s
      baseEjectionTime: 30s
      maxEjectionPercent: 100
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: httpbin-no-retries
  namespace: default
spec:
  hosts:
  - httpbin.default.svc.cluster.local
  http:
  - route:
    - destination:
        host: httpbin.default.svc.cluster.local
    retries:
      attempts: 0
`);
    const FAIL_ON_BAD = ['-H', 'x-echo-code: 500'];
    let badAddress = '';

    beforeAll(async () => {
      const d = cluster();
      await d.apply(bad, policy);
      const [pod] = await d.pods(NS, { variant: 'bad' });
      if (pod?.ip === undefined) throw new Error('httpbin-bad has no pod IP');
      badAddress = `${pod.ip}:80`;
      // The waypoint has the endpoint and the DestinationRule (its admin config_dump on 15000).
      const configured = async (): Promise<string> => (await d.exec(NS, WAYPOINT, ['curl', '-sS', '-m', '5', 'http://127.0.0.1:15000/config_dump'])).stdout;
      const dump = await eventually(configured, (t) => t.includes(`"${pod.ip}"`) && t.includes('"consecutive5xxErrors":5') && t.includes('VirtualService default/httpbin-no-retries'), PROPAGATION_MS);
      if (!dump.includes('"consecutive5xxErrors":5') || !dump.includes(`"${pod.ip}"`)) throw new Error(`the waypoint never got httpbin-bad and the DestinationRule:\n${dump.slice(0, 5000)}`);
    });

    afterAll(async () => {
      await cluster().delete(policy, bad);
    });

    it('fails at most 5 requests on the bad endpoint, then sends the next 200 elsewhere (≥ 99% success)', async () => {
      const d = cluster();
      // Drive the detector: the bad endpoint fails until it has 5 consecutive 5xx and is ejected.
      const warm = await burst(d, SLEEP, `${HTTPBIN}/get?phase=eject`, 60, FAIL_ON_BAD);
      const failures = warm.filter((c) => c !== 200);
      expect({ failures: failures.length >= 1 && failures.length <= 5, codes: new Set(failures) }).toEqual({ failures: true, codes: new Set([500]) });

      const codes = await burst(d, SLEEP, `${HTTPBIN}/get?phase=after`, 200, FAIL_ON_BAD);
      const ok = codes.filter((c) => c === 200).length;
      expect({ ok, ratioOk: ok / codes.length >= 0.99 }).toEqual({ ok, ratioOk: true });

      const log = await eventually(() => waypointLog(d), (l) => l.filter((e) => e.path.startsWith('/get?phase=after')).length >= 200);
      const warmLines = log.filter((e) => e.path.startsWith('/get?phase=eject'));
      const afterLines = log.filter((e) => e.path.startsWith('/get?phase=after'));
      expect({ warm: warmLines.length, after: afterLines.length }).toEqual({ warm: 60, after: 200 });
      // The bad endpoint was chosen (and failed with 500) until the ejection, never after it.
      const onBad = warmLines.filter((e) => e.upstream_host === badAddress);
      expect({ chosen: onBad.length, codes: [...new Set(onBad.map((e) => e.response_code))] }).toEqual({ chosen: failures.length, codes: [500] });
      expect(afterLines.filter((e) => e.upstream_host === badAddress)).toEqual([]);
      expect(new Set(afterLines.map((e) => e.upstream_host)).size).toBe(2);
    });
  });
});
