// The real KubeApi (`loadKubeApi`, `loadTokenReviewer`: @kubernetes/client-node) against a fake API server on
// loopback: discovery, list and watch of the informers (with a field selector too), the merge patches of annotations and status, server-side
// apply, delete (404 counts as gone), get by name (404 is undefined), replace at a resourceVersion (409 is false) and TokenReview — the requests the controlplane makes in a cluster, checked on
// the wire (paths, query, content types, bearer token, bodies).
//
// client-node is ESM-only and jest runs this workspace as CommonJS, so the client runs in a child process (`node`, on
// the built `dist/`) driven over stdin/stdout with one JSON line per command and per informer event.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';

const CLIENT = path.join(__dirname, '..', 'dist', 'kubernetes-client.js');
const TOKEN = 'test-token-1';

interface Recorded {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  readonly contentType: string | undefined;
  readonly authorization: string | undefined;
  readonly body: unknown;
}

type JsonObject = Record<string, unknown>;

/** Resources the fake server knows, by group/version: what discovery lists. */
const DISCOVERY: Record<string, { name: string; kind: string; namespaced: boolean }[]> = {
  v1: [
    { name: 'pods', kind: 'Pod', namespaced: true },
    { name: 'configmaps', kind: 'ConfigMap', namespaced: true },
    { name: 'secrets', kind: 'Secret', namespaced: true },
  ],
  'security.istio.io/v1': [{ name: 'authorizationpolicies', kind: 'AuthorizationPolicy', namespaced: true }],
  'apps/v1': [{ name: 'deployments', kind: 'Deployment', namespaced: true }],
  'authentication.k8s.io/v1': [{ name: 'tokenreviews', kind: 'TokenReview', namespaced: false }],
  'coordination.k8s.io/v1': [{ name: 'leases', kind: 'Lease', namespaced: true }],
};

/** A kube-apiserver stand-in: discovery, list + watch of pods and ConfigMaps, and a record of every other request. */
class FakeApiServer {
  readonly requests: Recorded[] = [];
  /** The query of every ConfigMap list and watch request. */
  readonly configMapReads: Record<string, string>[] = [];
  private readonly pods = new Map<string, JsonObject>();
  /** Secrets by `namespace/name`, served to GETs by name. */
  readonly secrets = new Map<string, JsonObject>();
  /** Leases by `namespace/name`; a PUT is stored only at the stored resourceVersion, as the API server does. */
  readonly leases = new Map<string, JsonObject & { metadata: { resourceVersion?: string } }>();
  /** Open watches by collection path. */
  private readonly watches = new Map<string, Set<http.ServerResponse>>();
  private resourceVersion = 10;
  private readonly server = http.createServer((req, res) => this.serve(req, res));

  async start(): Promise<number> {
    this.pods.set('a', this.pod('a'));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as AddressInfo).port;
  }

  /** Changes a pod and tells the open watches, as the API server does. */
  change(type: 'ADDED' | 'MODIFIED' | 'DELETED', name: string): void {
    const pod = this.pod(name);
    if (type === 'DELETED') this.pods.delete(name);
    else this.pods.set(name, pod);
    this.tell('/api/v1/pods', type, pod);
  }

  /** Tells the open ConfigMap watches of a change, without filtering: what reaches them is what the selector asked. */
  changeConfigMap(type: 'ADDED' | 'MODIFIED' | 'DELETED', namespace: string, name: string): void {
    this.tell('/api/v1/configmaps', type, this.configMap(namespace, name));
  }

  openWatches(path?: string): number {
    if (path !== undefined) return this.watches.get(path)?.size ?? 0;
    return [...this.watches.values()].reduce((sum, open) => sum + open.size, 0);
  }

  async stop(): Promise<void> {
    for (const open of this.watches.values()) for (const watch of open) watch.end();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private pod(name: string): JsonObject {
    this.resourceVersion++;
    return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'ns', resourceVersion: String(this.resourceVersion) } };
  }

  private configMap(namespace: string, name: string): JsonObject {
    this.resourceVersion++;
    const metadata = { name, namespace, resourceVersion: String(this.resourceVersion) };
    return { apiVersion: 'v1', kind: 'ConfigMap', metadata, data: { 'root-cert.pem': 'PEM' } };
  }

  private tell(path: string, type: string, object: JsonObject): void {
    for (const watch of this.watches.get(path) ?? []) watch.write(`${JSON.stringify({ type, object })}\n`);
  }

  private watch(path: string, res: http.ServerResponse): void {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.flushHeaders();
    const open = this.watches.get(path) ?? new Set<http.ServerResponse>();
    this.watches.set(path, open);
    open.add(res);
    res.on('close', () => open.delete(res));
  }

  private serve(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const text = Buffer.concat(chunks).toString();
      const json = (status: number, body: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      const groupVersion = url.pathname === '/api/v1' ? 'v1' : url.pathname.startsWith('/apis/') ? url.pathname.slice('/apis/'.length) : '';
      const resources = DISCOVERY[groupVersion];
      if (req.method === 'GET' && resources !== undefined) {
        json(200, { kind: 'APIResourceList', apiVersion: 'v1', groupVersion, resources: resources.map((r) => ({ ...r, singularName: '', verbs: [] })) });
        return;
      }
      if (req.method === 'GET' && url.pathname === '/api/v1/pods') {
        if (url.searchParams.get('watch') === 'true') {
          this.watch(url.pathname, res);
          return;
        }
        json(200, { apiVersion: 'v1', kind: 'PodList', metadata: { resourceVersion: String(this.resourceVersion) }, items: [...this.pods.values()] });
        return;
      }
      if (req.method === 'GET' && url.pathname === '/api/v1/configmaps') {
        this.configMapReads.push(Object.fromEntries(url.searchParams));
        if (url.searchParams.get('watch') === 'true') {
          this.watch(url.pathname, res);
          return;
        }
        const items = [this.configMap('shop', 'istio-ca-root-cert')];
        json(200, { apiVersion: 'v1', kind: 'ConfigMapList', metadata: { resourceVersion: String(this.resourceVersion) }, items });
        return;
      }
      const secrets = /^\/api\/v1\/namespaces\/([^/]+)\/secrets$/.exec(url.pathname);
      if (req.method === 'POST' && secrets !== null) {
        const body = JSON.parse(text) as JsonObject & { metadata: { name: string } };
        this.requests.push({ method: 'POST', path: url.pathname, query: Object.fromEntries(url.searchParams), contentType: req.headers['content-type'], authorization: req.headers.authorization, body });
        const key = `${secrets[1] ?? ''}/${body.metadata.name}`;
        if (this.secrets.has(key)) {
          json(409, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'AlreadyExists', code: 409 });
        } else {
          this.secrets.set(key, body);
          json(201, body);
        }
        return;
      }
      const secret = /^\/api\/v1\/namespaces\/([^/]+)\/secrets\/([^/]+)$/.exec(url.pathname);
      if (req.method === 'GET' && secret !== null) {
        this.requests.push({ method: 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), contentType: undefined, authorization: req.headers.authorization, body: undefined });
        const found = this.secrets.get(`${secret[1] ?? ''}/${secret[2] ?? ''}`);
        if (found === undefined) json(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 });
        else json(200, found);
        return;
      }
      const lease = /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/([^/]+)\/leases\/([^/]+)$/.exec(url.pathname);
      if (req.method === 'PUT' && lease !== null) {
        const body = JSON.parse(text) as JsonObject & { metadata: { resourceVersion?: string } };
        this.requests.push({ method: 'PUT', path: url.pathname, query: Object.fromEntries(url.searchParams), contentType: req.headers['content-type'], authorization: req.headers.authorization, body });
        const key = `${lease[1] ?? ''}/${lease[2] ?? ''}`;
        const stored = this.leases.get(key);
        if (stored === undefined) {
          json(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 });
        } else if (body.metadata.resourceVersion !== stored.metadata.resourceVersion) {
          const message = 'Operation cannot be fulfilled on leases.coordination.k8s.io: the object has been modified; please apply your changes to the latest version and try again';
          json(409, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Conflict', code: 409, message });
        } else {
          this.resourceVersion++;
          const updated = { ...body, metadata: { ...body.metadata, resourceVersion: String(this.resourceVersion) } };
          this.leases.set(key, updated);
          json(200, updated);
        }
        return;
      }
      this.requests.push({
        method: req.method ?? '',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        contentType: req.headers['content-type'],
        authorization: req.headers.authorization,
        body: text === '' ? undefined : (JSON.parse(text) as unknown),
      });
      if (req.method === 'DELETE') {
        json(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 });
      } else if (url.pathname.endsWith('/tokenreviews')) {
        json(201, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', status: { authenticated: true, user: { username: 'system:serviceaccount:istio-system:ztunnel' }, audiences: ['istio-ca'] } });
      } else {
        json(200, JSON.parse(text) as unknown);
      }
    });
  }
}

/** The driver: the client in a child process, one JSON line per command in and per result or event out. */
const DRIVER = `
import { createInterface } from 'node:readline';
const { loadKubeApi, loadTokenReviewer } = await import(process.env.CLIENT);
const options = { kubeconfigPath: process.env.KUBECONFIG_PATH };
const api = await loadKubeApi(options);
const review = await loadTokenReviewer(options);
const say = (line) => process.stdout.write(JSON.stringify(line) + '\\n');
const informers = [];
for await (const text of createInterface({ input: process.stdin })) {
  const command = JSON.parse(text);
  try {
    if (command.op === 'watch') {
      const informer = api.createInformer(command.resource);
      for (const verb of ['add', 'update', 'delete']) informer.on(verb, (object) => say({ event: verb, kind: object.kind, name: object.metadata.name }));
      informer.on('error', (error) => say({ event: 'error', message: String(error?.message ?? error) }));
      await informer.start();
      informers.push(informer);
      say({ op: 'watch', ok: true, listed: informer.list().map((object) => object.metadata.name) });
    } else if (command.op === 'annotations') {
      await api.mergePatchAnnotations(command.resource, command.namespace, command.name, command.annotations);
      say({ op: command.op, ok: true });
    } else if (command.op === 'status') {
      await api.mergePatchStatus(command.resource, command.namespace, command.name, command.patch);
      say({ op: command.op, ok: true });
    } else if (command.op === 'apply') {
      await api.applyObject(command.object);
      say({ op: command.op, ok: true });
    } else if (command.op === 'delete') {
      await api.deleteObject(command.apiVersion, command.kind, command.namespace, command.name);
      say({ op: command.op, ok: true });
    } else if (command.op === 'create') {
      say({ op: command.op, ok: true, created: await api.createObject(command.object) });
    } else if (command.op === 'replace') {
      say({ op: command.op, ok: true, stored: await api.replaceObject(command.object) });
    } else if (command.op === 'get') {
      const object = await api.getObject(command.apiVersion, command.kind, command.namespace, command.name);
      say({ op: command.op, ok: true, found: object !== undefined, object: object ?? null });
    } else if (command.op === 'review') {
      say({ op: command.op, ok: true, result: await review(command.token, command.audiences) });
    } else if (command.op === 'stop') {
      for (const informer of informers) await informer.stop();
      say({ op: command.op, ok: true });
      process.exit(0);
    }
  } catch (error) {
    say({ op: command.op, ok: false, error: String(error?.message ?? error) });
  }
}
`;

type Line = JsonObject & { readonly op?: string; readonly event?: string };

/** The child process and the lines it has written. */
class Driver {
  private readonly lines: Line[] = [];
  private readonly waiters = new Set<() => void>();

  constructor(private readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on('line', (text) => {
      this.lines.push(JSON.parse(text) as Line);
      for (const wake of this.waiters) wake();
    });
  }

  /** Sends a command and resolves with its result line. */
  async run(command: JsonObject & { readonly op: string }): Promise<Line> {
    const seen = this.lines.length;
    this.child.stdin.write(`${JSON.stringify(command)}\n`);
    return this.until((lines) => lines.slice(seen).find((line) => line.op === command.op));
  }

  /** The informer events so far. */
  events(): Line[] {
    return this.lines.filter((line) => line.event !== undefined);
  }

  until<T>(found: (lines: Line[]) => T | undefined, timeoutMs = 10_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`the driver did not answer in time; it wrote ${JSON.stringify(this.lines)}`));
      }, timeoutMs);
      const check = (): void => {
        const value = found(this.lines);
        if (value === undefined) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(value);
      };
      this.waiters.add(check);
      check();
    });
  }
}

const POD = { kind: 'Pod', group: '', version: 'v1', plural: 'pods', namespaced: true };
const ROOT_CERT_CONFIGMAPS = { kind: 'ConfigMap', group: '', version: 'v1', plural: 'configmaps', namespaced: true, fieldSelector: 'metadata.name=istio-ca-root-cert' };
const AUTHORIZATION_POLICY = { kind: 'AuthorizationPolicy', group: 'security.istio.io', version: 'v1', plural: 'authorizationpolicies', namespaced: true };

describe('loadKubeApi and loadTokenReviewer against an API server', () => {
  const server = new FakeApiServer();
  let dir: string | undefined;
  let child: ChildProcessWithoutNullStreams | undefined;
  let driver: Driver;

  beforeAll(async () => {
    if (!existsSync(CLIENT)) throw new Error(`${CLIENT} is missing: build first (npx nx run config-source:build)`);
    const port = await server.start();
    dir = mkdtempSync(path.join(tmpdir(), 'weft-kubeapi-'));
    const kubeconfig = path.join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        '- name: fake',
        '  cluster:',
        `    server: http://127.0.0.1:${port}`,
        '    insecure-skip-tls-verify: true',
        'users:',
        '- name: controlplane',
        '  user:',
        `    token: ${TOKEN}`,
        'contexts:',
        '- name: fake',
        '  context: {cluster: fake, user: controlplane}',
        'current-context: fake',
        '',
      ].join('\n'),
    );
    child = spawn(process.execPath, ['--input-type=module', '-e', DRIVER], { env: { ...process.env, CLIENT, KUBECONFIG_PATH: kubeconfig } });
    child.stderr.on('data', (chunk: Buffer) => process.stderr.write(chunk));
    driver = new Driver(child);
  });

  afterAll(async () => {
    if (child !== undefined && child.exitCode === null) child.kill();
    await server.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('lists, then watches: added, modified and deleted objects reach the informer', async () => {
    expect(await driver.run({ op: 'watch', resource: POD })).toEqual({ op: 'watch', ok: true, listed: ['a'] });
    await driver.until(() => (server.openWatches('/api/v1/pods') > 0 ? true : undefined));

    server.change('ADDED', 'b');
    server.change('MODIFIED', 'a');
    server.change('DELETED', 'b');

    const events = await driver.until((lines) => {
      const seen = lines.filter((line) => line.event !== undefined);
      return seen.length >= 4 ? seen : undefined;
    });
    expect(events).toEqual([
      { event: 'add', kind: 'Pod', name: 'a' },
      { event: 'add', kind: 'Pod', name: 'b' },
      { event: 'update', kind: 'Pod', name: 'a' },
      { event: 'delete', kind: 'Pod', name: 'b' },
    ]);
  });

  it('lists and watches through the resource field selector', async () => {
    expect(await driver.run({ op: 'watch', resource: ROOT_CERT_CONFIGMAPS })).toEqual({ op: 'watch', ok: true, listed: ['istio-ca-root-cert'] });
    await driver.until(() => (server.openWatches('/api/v1/configmaps') > 0 ? true : undefined));
    expect(server.configMapReads).toEqual([
      expect.objectContaining({ fieldSelector: 'metadata.name=istio-ca-root-cert' }),
      expect.objectContaining({ fieldSelector: 'metadata.name=istio-ca-root-cert', watch: 'true' }),
    ]);
    expect(server.configMapReads[0]).not.toHaveProperty('watch');

    server.changeConfigMap('DELETED', 'shop', 'istio-ca-root-cert');
    server.changeConfigMap('ADDED', 'shop', 'istio-ca-root-cert');
    const events = await driver.until((lines) => {
      const seen = lines.filter((line) => line.event !== undefined && line.kind === 'ConfigMap');
      return seen.length >= 3 ? seen : undefined;
    });
    expect(events).toEqual([
      { event: 'add', kind: 'ConfigMap', name: 'istio-ca-root-cert' },
      { event: 'delete', kind: 'ConfigMap', name: 'istio-ca-root-cert' },
      { event: 'add', kind: 'ConfigMap', name: 'istio-ca-root-cert' },
    ]);
  });

  it('merge-patches annotations (null removes one) with the field manager, as the bearer of the kubeconfig token', async () => {
    expect(await driver.run({ op: 'annotations', resource: POD, namespace: 'ns', name: 'a', annotations: { 'ambient.istio.io/redirection': 'enabled', stale: null } })).toMatchObject({ ok: true });
    expect(server.requests.at(-1)).toEqual({
      method: 'PATCH',
      path: '/api/v1/namespaces/ns/pods/a',
      query: { fieldManager: 'weft-controlplane' },
      contentType: 'application/merge-patch+json',
      authorization: `Bearer ${TOKEN}`,
      body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a', namespace: 'ns', annotations: { 'ambient.istio.io/redirection': 'enabled', stale: null } } },
    });
  });

  it('merge-patches the status subresource of an Istio object', async () => {
    const patch = { status: { validationMessages: [{ type: { code: 'IST0101' }, level: 'ERROR' }] } };
    expect(await driver.run({ op: 'status', resource: AUTHORIZATION_POLICY, namespace: 'ns', name: 'deny-all', patch })).toMatchObject({ ok: true });
    expect(server.requests.at(-1)).toMatchObject({
      method: 'PATCH',
      path: '/apis/security.istio.io/v1/namespaces/ns/authorizationpolicies/deny-all/status',
      query: { fieldManager: 'weft-controlplane' },
      contentType: 'application/merge-patch+json',
      body: patch,
    });
  });

  it('server-side applies a whole object, forcing the fields it manages', async () => {
    const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'waypoint', namespace: 'ns' }, spec: { replicas: 1 } };
    expect(await driver.run({ op: 'apply', object: deployment })).toMatchObject({ ok: true });
    expect(server.requests.at(-1)).toMatchObject({
      method: 'PATCH',
      path: '/apis/apps/v1/namespaces/ns/deployments/waypoint',
      query: { fieldManager: 'weft-controlplane', force: 'true' },
      contentType: 'application/apply-patch+yaml',
      body: deployment,
    });
  });

  it('deletes in the background and counts an object already gone (404) as deleted', async () => {
    expect(await driver.run({ op: 'delete', apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'ns', name: 'gone' })).toEqual({ op: 'delete', ok: true });
    expect(server.requests.at(-1)).toMatchObject({ method: 'DELETE', path: '/apis/apps/v1/namespaces/ns/deployments/gone', query: { propagationPolicy: 'Background' } });
  });

  it('reads one object by name, and a missing one (404) as undefined', async () => {
    const stored = {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'istio.io/ca-root',
      metadata: { name: 'istio-ca-secret', namespace: 'istio-system', resourceVersion: '7' },
      data: { 'ca-cert.pem': Buffer.from('CERT').toString('base64') },
    };
    server.secrets.set('istio-system/istio-ca-secret', stored);
    expect(await driver.run({ op: 'get', apiVersion: 'v1', kind: 'Secret', namespace: 'istio-system', name: 'istio-ca-secret' })).toEqual({ op: 'get', ok: true, found: true, object: stored });
    expect(server.requests.at(-1)).toEqual({
      method: 'GET',
      path: '/api/v1/namespaces/istio-system/secrets/istio-ca-secret',
      query: {},
      contentType: undefined,
      authorization: `Bearer ${TOKEN}`,
      body: undefined,
    });

    expect(await driver.run({ op: 'get', apiVersion: 'v1', kind: 'Secret', namespace: 'istio-system', name: 'absent' })).toEqual({ op: 'get', ok: true, found: false, object: null });
    expect(server.requests.at(-1)).toMatchObject({ method: 'GET', path: '/api/v1/namespaces/istio-system/secrets/absent' });
  });

  it('creates an object only if its name is free: a second create is answered false (409) and changes nothing', async () => {
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'created-once', namespace: 'istio-system' }, type: 'istio.io/ca-root', data: { 'ca-cert.pem': 'QQ==' } };
    expect(await driver.run({ op: 'create', object: secret })).toEqual({ op: 'create', ok: true, created: true });
    expect(server.requests.at(-1)).toMatchObject({ method: 'POST', path: '/api/v1/namespaces/istio-system/secrets', query: { fieldManager: 'weft-controlplane' }, authorization: `Bearer ${TOKEN}`, body: secret });
    const other = { ...secret, data: { 'ca-cert.pem': 'Qg==' } };
    expect(await driver.run({ op: 'create', object: other })).toEqual({ op: 'create', ok: true, created: false });
    expect(server.secrets.get('istio-system/created-once')).toEqual(secret);
  });

  it('replaces a whole object at its resourceVersion: a PUT of the body, and a stale version answered false (409)', async () => {
    const spec = { holderIdentity: 'controlplane-a', leaseDurationSeconds: 15, renewTime: '2026-12-02T01:02:03.456789Z' };
    const stored = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'leader', namespace: 'istio-system', resourceVersion: '5' }, spec };
    server.leases.set('istio-system/leader', stored);

    const renewed = { ...stored, spec: { ...spec, renewTime: '2026-12-02T01:02:05.456789Z' } };
    expect(await driver.run({ op: 'replace', object: renewed })).toEqual({ op: 'replace', ok: true, stored: true });
    expect(server.requests.at(-1)).toEqual({
      method: 'PUT',
      path: '/apis/coordination.k8s.io/v1/namespaces/istio-system/leases/leader',
      query: { fieldManager: 'weft-controlplane' },
      contentType: 'application/json',
      authorization: `Bearer ${TOKEN}`,
      body: renewed,
    });
    const current = server.leases.get('istio-system/leader');
    expect(current).toMatchObject({ spec: renewed.spec });
    expect(current?.metadata.resourceVersion).not.toBe('5');

    // Still at version 5: someone else (this very write) got there first.
    const stale = { ...stored, spec: { ...spec, holderIdentity: 'controlplane-b' } };
    expect(await driver.run({ op: 'replace', object: stale })).toEqual({ op: 'replace', ok: true, stored: false });
    expect(server.requests.at(-1)).toMatchObject({ method: 'PUT', path: '/apis/coordination.k8s.io/v1/namespaces/istio-system/leases/leader', body: stale });
    expect(server.leases.get('istio-system/leader')).toEqual(current);
  });

  it('throws when a replace fails for another reason than a conflict (404)', async () => {
    const absent = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'absent', namespace: 'istio-system', resourceVersion: '1' }, spec: {} };
    expect(await driver.run({ op: 'replace', object: absent })).toMatchObject({ op: 'replace', ok: false });
  });

  it('creates a TokenReview with the audiences and returns its status', async () => {
    expect(await driver.run({ op: 'review', token: 'caller-token', audiences: ['istio-ca'] })).toEqual({
      op: 'review',
      ok: true,
      result: { authenticated: true, user: { username: 'system:serviceaccount:istio-system:ztunnel' }, audiences: ['istio-ca'] },
    });
    expect(server.requests.at(-1)).toMatchObject({
      method: 'POST',
      path: '/apis/authentication.k8s.io/v1/tokenreviews',
      authorization: `Bearer ${TOKEN}`,
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: 'caller-token', audiences: ['istio-ca'] } },
    });
  });

  it('stops the informers: the watch connection is closed', async () => {
    expect(await driver.run({ op: 'stop' })).toEqual({ op: 'stop', ok: true });
    const deadline = Date.now() + 3_000;
    while (server.openWatches() > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect({ pods: server.openWatches('/api/v1/pods'), configMaps: server.openWatches('/api/v1/configmaps') }).toEqual({ pods: 0, configMaps: 0 });
  });
});
