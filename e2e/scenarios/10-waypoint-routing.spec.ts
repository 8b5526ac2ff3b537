// Scenario 10: L7 traffic management in a waypoint. Ambient `default` bound to a service waypoint (`istio.io/use-waypoint:
// waypoint`), the guide's sleep + httpbin (2 replicas) and Istio's helloworld v1/v2. Through the waypoint:
// - retries: httpbin's /status/200,503 fails about half the time without retries; a VirtualService retrying 5xx hides
//   most failures (each try is an independent coin flip, so attempts: 3 leaves 1/16); a Service over one healthy and
//   one always-503 pod fails half the time without retries and not at all with attempts: 3, as a retry avoids the
//   host already tried;
// - canary: a VirtualService over DestinationRule subsets splits 90/10, then an HTTPRoute over per-version Services;
// - header routing: `end-user: jason` goes to v2, everyone else to v1;
// - faults and timeouts: abort 50% with 503, delay 2 s, a 1 s route timeout on /delay/3 answering 504;
// - an h2c client is served over HTTP/2 end to end through HBONE.
// Config propagation is awaited by observing the behaviour it should cause, never by a fixed sleep.

import type { ClusterDriver } from '../src/driver';
import { AMBIENT, curl, eventually, manifest, namespaceYaml, useCluster } from '../src/scenario';

jest.setTimeout(300_000);

const NS = 'default';
const SLEEP = 'deployment/sleep';
const HTTPBIN = 'http://httpbin:8000';
const HELLO = 'http://helloworld:5000/hello';
/** Parallel request loops inside the sleep pod (each curl is its own connection). */
const WORKERS = 8;
/** How long to wait for a configuration to show in the traffic. */
const PROPAGATION_MS = 30_000;

/** One line of the request loop: the HTTP status (000 without a response) and what was asked to be printed. */
interface Sample {
  readonly status: string;
  readonly text: string;
}

/**
 * Sends `n` requests to `url` from the sleep pod in one exec: WORKERS parallel shell loops of curl, one line per
 * request `<status> <text>`, where text is the response body (`body: true`, first line) or curl's total time.
 */
async function burst(d: ClusterDriver, url: string, n: number, opts: { readonly headers?: readonly string[]; readonly body?: boolean } = {}): Promise<Sample[]> {
  const headerArgs = (opts.headers ?? []).map((h) => `-H '${h}'`).join(' ');
  const workers = Math.min(WORKERS, n);
  const per = Math.ceil(n / workers);
  const one = opts.body === true
    ? `out=$(curl -s -m 10 ${headerArgs} -w '\\n%{http_code}' '${url}'); echo "$(echo "$out" | tail -n 1) $(echo "$out" | head -n 1)"`
    : `curl -s -o /dev/null -m 10 ${headerArgs} -w '%{http_code} %{time_total}\\n' '${url}'`;
  const script = [
    `w=0; while [ "$w" -lt ${workers} ]; do`,
    `  ( i=0; while [ "$i" -lt ${per} ]; do i=$((i+1)); ${one}; done ) > /tmp/weft-burst-$$-$w &`,
    '  w=$((w+1))',
    'done',
    'wait',
    `cat /tmp/weft-burst-$$-*; rm -f /tmp/weft-burst-$$-*`,
  ].join('\n');
  const r = await d.exec(NS, SLEEP, ['sh', '-c', script], 240_000);
  if (r.code !== 0) throw new Error(`request loop to ${url} exited ${r.code}: ${r.stderr}`);
  const lines = r.stdout.split('\n').filter((l) => l.trim() !== '');
  return lines.slice(0, n).map((l) => {
    const at = l.indexOf(' ');
    return at < 0 ? { status: l, text: '' } : { status: l.slice(0, at), text: l.slice(at + 1) };
  });
}

/** The waypoint's log once a line matches (it writes its access log out once a second, as Envoy buffers its own). */
const waypointLogMatching = (d: ClusterDriver, line: RegExp): Promise<string> => eventually(() => d.logs(NS, 'deployment/waypoint'), (log) => line.test(log), 5_000);

const count = (samples: readonly Sample[], pred: (s: Sample) => boolean): number => samples.filter(pred).length;
const share = (samples: readonly Sample[], pred: (s: Sample) => boolean): number => (samples.length === 0 ? 0 : count(samples, pred) / samples.length);
const is = (status: string) => (s: Sample): boolean => s.status === status;
const version = (v: string) => (s: Sample): boolean => s.status === '200' && s.text.startsWith(`Hello version: ${v},`);
const tally = (samples: readonly Sample[]): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const s of samples) {
    const key = s.text.startsWith('Hello version: ') ? `${s.status} ${s.text.slice(0, 'Hello version: vN'.length)}` : s.status;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
};

const httpbinVs = (http: string): { yaml: string } => ({
  yaml: `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: httpbin
  namespace: ${NS}
spec:
  hosts:
  - httpbin
  http:
${http}`,
});

const helloworldVs = (http: string): { yaml: string } => ({
  yaml: `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: helloworld
  namespace: ${NS}
spec:
  hosts:
  - helloworld
  http:
${http}`,
});

const CANARY_VS = helloworldVs(`  - route:
    - destination:
        host: helloworld
        subset: v1
      weight: 90
    - destination:
        host: helloworld
        subset: v2
      weight: 10
`);

const CANARY_HTTPROUTE = {
  yaml: `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: helloworld
  namespace: ${NS}
spec:
  parentRefs:
  - group: ""
    kind: Service
    name: helloworld
    port: 5000
  rules:
  - backendRefs:
    - name: helloworld-v1
      port: 5000
      weight: 90
    - name: helloworld-v2
      port: 5000
      weight: 10
`,
};

const HEADER_VS = helloworldVs(`  - match:
    - headers:
        end-user:
          exact: jason
    route:
    - destination:
        host: helloworld
        subset: v2
  - route:
    - destination:
        host: helloworld
        subset: v1
`);

const retryVs = (attempts: number): { yaml: string } =>
  httpbinVs(`  - route:
    - destination:
        host: httpbin
    retries:
      attempts: ${attempts}
      retryOn: 5xx
`);

/**
 * "A backend answering 503 to half its requests": Service flaky over two http-echo pods, one answering 200 and one
 * 503. Istio's retry policy skips hosts already tried (previous_hosts), so a retry of a 503 reaches the healthy pod.
 */
const FLAKY_URL = 'http://flaky:5678/';
const flakyDeployment = (name: string, args: string): string => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: ${NS}
spec:
  replicas: 1
  selector:
    matchLabels:
      app: flaky
      variant: ${name}
  template:
    metadata:
      labels:
        app: flaky
        variant: ${name}
    spec:
      containers:
      - name: echo
        image: hashicorp/http-echo:1.0
        args: [${args}]
        ports:
        - containerPort: 5678`;
const FLAKY = {
  yaml: [
    `apiVersion: v1
kind: Service
metadata:
  name: flaky
  namespace: ${NS}
spec:
  selector:
    app: flaky
  ports:
  - name: http
    port: 5678
    targetPort: 5678`,
    flakyDeployment('flaky-ok', '"-text=ok"'),
    flakyDeployment('flaky-503', '"-text=unavailable", "-status-code=503"'),
  ].join('\n---\n'),
};
const FLAKY_RETRY_VS = {
  yaml: `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: flaky
  namespace: ${NS}
spec:
  hosts:
  - flaky
  http:
  - route:
    - destination:
        host: flaky
    retries:
      attempts: 3
      retryOn: 5xx
`,
};

describe('scenario 10: routing, retries, canaries and faults in a waypoint', () => {
  const cluster = useCluster();
  let waypointIp = '';

  beforeAll(async () => {
    const d = cluster();
    await d.apply(
      namespaceYaml(NS, { ...AMBIENT, 'istio.io/use-waypoint': 'waypoint' }),
      manifest('01-sleep-httpbin.yaml'),
      manifest('waypoint-helloworld.yaml'),
      manifest('waypoint-gateway.yaml'),
    );
    const [waypoint] = await d.pods(NS, { 'gateway.networking.k8s.io/gateway-name': 'waypoint' });
    if (waypoint?.ip === undefined) throw new Error(`no waypoint pod\n${d.diagnostics()}`);
    waypointIp = waypoint.ip;
    // Traffic to httpbin goes through the waypoint once its config is in the ztunnels: httpbin sees it as the origin.
    const origin = await eventually(
      async () => {
        const r = await curl(d, NS, SLEEP, `${HTTPBIN}/get`);
        return r.status === 200 ? (JSON.parse(r.body) as { origin: string }).origin : `status ${r.status} ${r.stderr}`;
      },
      (o) => o === waypointIp,
      PROPAGATION_MS,
    );
    if (origin !== waypointIp) throw new Error(`httpbin does not see the waypoint ${waypointIp} as origin but ${origin}\n${d.diagnostics()}`);
  }, 120_000);

  describe('retries', () => {
    afterAll(async () => {
      await cluster().delete(retryVs(3), FLAKY_RETRY_VS, FLAKY);
    });

    it('without retries about half of /status/200,503 fail', async () => {
      const samples = await burst(cluster(), `${HTTPBIN}/status/200,503`, 200);
      expect(samples).toHaveLength(200);
      const failed = count(samples, is('503'));
      expect({ tally: tally(samples), ok: count(samples, is('200')) + failed === 200, halfFail: failed >= 60 && failed <= 140 }).toEqual({ tally: tally(samples), ok: true, halfFail: true });
    });

    it('with retries {attempts: 3, retryOn: 5xx} only a 503 on all 4 tries reaches the client (about 1/16)', async () => {
      const d = cluster();
      await d.apply(retryVs(3));
      await eventually(() => burst(d, `${HTTPBIN}/status/200,503`, 40), (s) => share(s, is('200')) >= 0.9, PROPAGATION_MS);
      const samples = await burst(d, `${HTTPBIN}/status/200,503`, 500);
      expect(samples).toHaveLength(500);
      // Expected 31 failures (σ 5.4): bounds far from both "no retries" (250) and "no failure at all".
      const failed = count(samples, is('503'));
      expect({ tally: tally(samples), ok: count(samples, is('200')) + failed === 500, atLeast90PercentOk: failed <= 50 }).toEqual({ tally: tally(samples), ok: true, atLeast90PercentOk: true });
      // A 503 that reached the client ran out of retries: the waypoint flags it URX (upstream retry limit exceeded).
      if (failed > 0) expect(await waypointLogMatching(d, /"response_code":503,"response_flags":"URX"/)).toMatch(/"response_code":503,"response_flags":"URX"/);
    });

    it('a backend whose one pod of two always answers 503: about half fail without retries', async () => {
      const d = cluster();
      await d.apply(FLAKY);
      const samples = await burst(d, FLAKY_URL, 200, { body: true });
      const failed = count(samples, is('503'));
      expect({ tally: tally(samples), ok: count(samples, is('200')) + failed === 200, halfFail: failed >= 60 && failed <= 140 }).toEqual({ tally: tally(samples), ok: true, halfFail: true });
    });

    it('with retries {attempts: 3, retryOn: 5xx} at least 99% of 500 requests succeed: a retry goes to another host', async () => {
      const d = cluster();
      await d.apply(FLAKY_RETRY_VS);
      await eventually(() => burst(d, FLAKY_URL, 100), (s) => count(s, is('200')) === 100, PROPAGATION_MS);
      const tries503 = async (): Promise<number> => (await d.logs(NS, 'deployment/flaky-503')).match(/ GET \/ 503 /g)?.length ?? 0;
      const before = await tries503();
      const samples = await burst(d, FLAKY_URL, 500, { body: true });
      expect(samples).toHaveLength(500);
      expect({ tally: tally(samples), atLeast99PercentOk: count(samples, is('200')) >= 495 }).toEqual({ tally: tally(samples), atLeast99PercentOk: true });
      // The 503 pod still got about half the first tries (about 250); each was retried on the healthy pod.
      expect((await tries503()) - before).toBeGreaterThan(150);
    });
  });

  describe('canary 90/10', () => {
    it('without routing config both versions share the traffic', async () => {
      const samples = await burst(cluster(), HELLO, 200, { body: true });
      const v2 = count(samples, version('v2'));
      expect({ tally: tally(samples), all200: count(samples, is('200')) === 200, v2Share30to70: v2 >= 60 && v2 <= 140 }).toEqual({ tally: tally(samples), all200: true, v2Share30to70: true });
    });

    it('a VirtualService over DestinationRule subsets sends 7–13% of 2,000 requests to v2', async () => {
      const d = cluster();
      await d.apply(CANARY_VS);
      await eventually(() => burst(d, HELLO, 200, { body: true }), (s) => share(s, version('v2')) <= 0.2 && share(s, version('v1')) >= 0.75, PROPAGATION_MS);
      const samples = await burst(d, HELLO, 2000, { body: true });
      expect(samples).toHaveLength(2000);
      const v2 = share(samples, version('v2'));
      expect({ tally: tally(samples), allV1orV2: count(samples, version('v1')) + count(samples, version('v2')) === 2000, v2Share7to13: v2 >= 0.07 && v2 <= 0.13 }).toEqual({ tally: tally(samples), allV1orV2: true, v2Share7to13: true });
    });

    it('an HTTPRoute with backendRefs weights 90/10 on helloworld-v1/-v2 does the same (the VirtualService deleted first)', async () => {
      const d = cluster();
      await d.delete(CANARY_VS);
      // The VirtualService's split is gone before the HTTPRoute comes: back to both versions.
      await eventually(() => burst(d, HELLO, 200, { body: true }), (s) => share(s, version('v2')) >= 0.3, PROPAGATION_MS);
      await d.apply(CANARY_HTTPROUTE);
      try {
        await eventually(() => burst(d, HELLO, 200, { body: true }), (s) => share(s, version('v2')) <= 0.2 && share(s, version('v1')) >= 0.75, PROPAGATION_MS);
        const samples = await burst(d, HELLO, 2000, { body: true });
        expect(samples).toHaveLength(2000);
        const v2 = share(samples, version('v2'));
        expect({ tally: tally(samples), allV1orV2: count(samples, version('v1')) + count(samples, version('v2')) === 2000, v2Share7to13: v2 >= 0.07 && v2 <= 0.13 }).toEqual({ tally: tally(samples), allV1orV2: true, v2Share7to13: true });
        const errors = await d.configErrors();
        expect(errors.problems.filter((p) => p.object.includes('helloworld') && p.level !== 'info')).toEqual([]);
      } finally {
        await d.delete(CANARY_HTTPROUTE);
      }
    });
  });

  describe('header routing', () => {
    afterAll(async () => {
      await cluster().delete(HEADER_VS);
    });

    it('sends end-user: jason to v2 and everyone else to v1', async () => {
      const d = cluster();
      await d.apply(HEADER_VS);
      const jason = ['end-user: jason'];
      await eventually(
        async () => [...(await burst(d, HELLO, 20, { body: true, headers: jason })), ...(await burst(d, HELLO, 20, { body: true }))],
        (s) => count(s.slice(0, 20), version('v2')) === 20 && count(s.slice(20), version('v1')) === 20,
        PROPAGATION_MS,
      );
      const asJason = await burst(d, HELLO, 20, { body: true, headers: jason });
      const anonymous = await burst(d, HELLO, 20, { body: true });
      const otherUser = await burst(d, HELLO, 20, { body: true, headers: ['end-user: mike'] });
      expect({ jason: tally(asJason), anonymous: tally(anonymous), mike: tally(otherUser) }).toEqual({
        jason: { '200 Hello version: v2': 20 },
        anonymous: { '200 Hello version: v1': 20 },
        mike: { '200 Hello version: v1': 20 },
      });
    });
  });

  // helloworld's port is named `http`: HTTP/1.1 upstream whatever the client speaks. (httpbin's unnamed port would get
  // the client's HTTP/2 upstream, as Istio's protocol detection does, which its HTTP/1.1-only server refuses.)
  it('an h2c client (HTTP/2 with prior knowledge) is served over HTTP/2 through the waypoint', async () => {
    const d = cluster();
    const r = await d.exec(NS, SLEEP, ['curl', '-s', '--http2-prior-knowledge', '-w', '\\n%{http_code} %{http_version}', `${HELLO}?h2c=1`]);
    expect(r.stdout).toMatch(/^Hello version: v[12], instance: \S+\s+200 2$/);
    const h2cLine = /"path":"\/hello\?h2c=1","protocol":"HTTP\/2","response_code":200/;
    expect(await waypointLogMatching(d, h2cLine)).toMatch(h2cLine);
  });

  describe('faults and timeouts', () => {
    afterEach(async () => {
      await cluster().delete(httpbinVs('  - route: []\n'));
    });

    it('fault abort 50% with 503: about half of 200 requests get 503', async () => {
      const d = cluster();
      await d.apply(
        httpbinVs(`  - fault:
      abort:
        httpStatus: 503
        percentage:
          value: 50
    route:
    - destination:
        host: httpbin
`),
      );
      await eventually(() => burst(d, `${HTTPBIN}/status/200`, 40), (s) => count(s, is('503')) >= 5, PROPAGATION_MS);
      const samples = await burst(d, `${HTTPBIN}/status/200`, 200);
      expect(samples).toHaveLength(200);
      const aborted = count(samples, is('503'));
      expect({ tally: tally(samples), ok: count(samples, is('200')) + aborted === 200, halfAborted: aborted >= 60 && aborted <= 140 }).toEqual({ tally: tally(samples), ok: true, halfAborted: true });
      // The waypoint answered them itself (fault injected: response flag FI), the app never saw them.
      const faultLine = /"response_code":503[^\n]*"response_flags":"FI"|"response_flags":"FI"[^\n]*"response_code":503/;
      expect(await waypointLogMatching(d, faultLine)).toMatch(faultLine);
    });

    it('fault delay 2s at 100%: a request takes at least 2 s', async () => {
      const d = cluster();
      await d.apply(
        httpbinVs(`  - fault:
      delay:
        fixedDelay: 2s
        percentage:
          value: 100
    route:
    - destination:
        host: httpbin
`),
      );
      const timed = async (): Promise<{ status: number; seconds: number }> => {
        const [s] = await burst(d, `${HTTPBIN}/get`, 1);
        return { status: Number(s?.status ?? 0), seconds: Number(s?.text ?? 0) };
      };
      await eventually(timed, (t) => t.seconds >= 2, PROPAGATION_MS);
      const t = await timed();
      expect({ status: t.status, atLeast2s: t.seconds >= 2, under4s: t.seconds < 4 }).toEqual({ status: 200, atLeast2s: true, under4s: true });
    });

    it('route timeout 1s on /delay/3: 504 after about 1 s', async () => {
      const d = cluster();
      await d.apply(
        httpbinVs(`  - timeout: 1s
    route:
    - destination:
        host: httpbin
`),
      );
      const timed = async (): Promise<{ status: string; seconds: number }> => {
        const [s] = await burst(d, `${HTTPBIN}/delay/3`, 1);
        return { status: s?.status ?? '', seconds: Number(s?.text ?? 0) };
      };
      await eventually(timed, (t) => t.status === '504', PROPAGATION_MS);
      const t = await timed();
      expect({ status: t.status, atLeast1s: t.seconds >= 0.95, aboutOneSecond: t.seconds < 2 }).toEqual({ status: '504', atLeast1s: true, aboutOneSecond: true });
    });
  });
});
