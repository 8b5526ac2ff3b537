// Unit tests with a fake informer (no API server here); tests against a real kube-apiserver come separately.
import type { ConfigEvent } from './config-source';
import {
  annotationPatch,
  informerRestart,
  INFORMER_RETRY_MAX_MS,
  istioStatusPatch,
  KUBE_RESOURCES,
  resourcePath,
  hasStatusCause,
  statusCodeOf,
  toKubeObject,
  type ApiResource,
  type KubeResource,
} from './kubernetes-resources';
import { createKubernetesSource, type KubeApi, type KubernetesSource, type WatchInformer } from './kubernetes-source';

jest.setTimeout(30_000);

type Verb = 'add' | 'update' | 'delete' | 'error';

class FakeInformer implements WatchInformer {
  readonly items = new Map<string, unknown>();
  private readonly handlers = new Map<Verb, ((value: unknown) => void)[]>();
  starts = 0;
  stopped = false;
  failNextStart: unknown;

  constructor(seed: readonly unknown[]) {
    for (const item of seed) this.items.set(nameOf(item), item);
  }

  on(verb: Verb, callback: (value: unknown) => void): void {
    this.handlers.set(verb, [...(this.handlers.get(verb) ?? []), callback]);
  }

  async start(): Promise<void> {
    this.starts += 1;
    this.stopped = false;
    if (this.failNextStart !== undefined) {
      const error = this.failNextStart;
      this.failNextStart = undefined;
      throw error;
    }
    for (const item of this.items.values()) this.emit('add', item);
  }

  async stop(): Promise<void> {
    this.stopped = true;
  }

  list(): readonly unknown[] {
    return [...this.items.values()];
  }

  emit(verb: Verb, value: unknown): void {
    if (verb === 'add' || verb === 'update') this.items.set(nameOf(value), value);
    if (verb === 'delete') this.items.delete(nameOf(value));
    for (const handler of this.handlers.get(verb) ?? []) handler(value);
  }
}

function nameOf(item: unknown): string {
  const meta = (item as { metadata: { namespace?: string; name: string } }).metadata;
  return `${meta.namespace ?? ''}/${meta.name}`;
}

function pod(name: string, resourceVersion: string, extra: Record<string, unknown> = {}): unknown {
  // Items of a list response carry no apiVersion/kind; the source fills them in.
  return { metadata: { name, namespace: 'shop', resourceVersion, managedFields: [{ manager: 'kubectl' }] }, ...extra };
}

class FakeApi implements KubeApi {
  readonly informers = new Map<string, FakeInformer[]>();
  readonly seeds = new Map<string, unknown[]>();
  readonly patches: { kind: string; target: string; body: unknown }[] = [];
  readonly resources: ApiResource[] = [];
  failPatches = false;

  createInformer(resource: ApiResource): FakeInformer {
    this.resources.push(resource);
    const informer = new FakeInformer(this.seeds.get(resource.kind) ?? []);
    this.informers.set(resource.kind, [...(this.informers.get(resource.kind) ?? []), informer]);
    return informer;
  }

  latest(kind: string): FakeInformer {
    const list = this.informers.get(kind) ?? [];
    const informer = list[list.length - 1];
    if (informer === undefined) throw new Error(`no informer for ${kind}`);
    return informer;
  }

  async mergePatchAnnotations(resource: KubeResource, namespace: string, name: string, annotations: unknown): Promise<void> {
    if (this.failPatches) throw Object.assign(new Error('forbidden'), { code: 403 });
    this.patches.push({ kind: resource.kind, target: `${namespace}/${name}`, body: annotations });
  }

  async mergePatchStatus(resource: KubeResource, namespace: string, name: string, patch: object): Promise<void> {
    this.patches.push({ kind: `${resource.kind}/status`, target: `${namespace}/${name}`, body: patch });
  }

  async applyObject(): Promise<void> {
    throw new Error('the source never applies objects');
  }

  async deleteObject(): Promise<void> {
    throw new Error('the source never deletes objects');
  }

  async createObject(): Promise<boolean> {
    throw new Error('the source never creates objects');
  }

  async replaceObject(): Promise<boolean> {
    throw new Error('the source never replaces objects');
  }

  async getObject(): Promise<undefined> {
    throw new Error('the source never reads single objects');
  }
}

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('KubernetesSource with a fake informer', () => {
  let api: FakeApi;
  let source: KubernetesSource;
  let events: ConfigEvent[];

  async function open(): Promise<void> {
    source = createKubernetesSource({ api });
    events = [];
    source.subscribe((event) => events.push(event));
    await source.start();
  }

  beforeEach(() => {
    api = new FakeApi();
  });

  afterEach(async () => {
    await source?.close();
  });

  it('watches only the resources it is given, field selector included for a controller of its own', async () => {
    const configMaps: ApiResource = { kind: 'ConfigMap', group: '', version: 'v1', plural: 'configmaps', namespaced: true, fieldSelector: 'metadata.name=istio-ca-root-cert' };
    api.seeds.set('ConfigMap', [{ metadata: { name: 'istio-ca-root-cert', namespace: 'shop' }, data: { 'root-cert.pem': 'PEM' } }]);
    source = createKubernetesSource({ api, resources: [configMaps] });
    await source.start();
    expect(api.resources).toEqual([configMaps]);
    expect(source.snapshot().list('ConfigMap')).toEqual([
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'istio-ca-root-cert', namespace: 'shop' }, data: { 'root-cert.pem': 'PEM' } },
    ]);
  });

  it('lists every watched kind and emits one initial event with converted objects', async () => {
    api.seeds.set('Pod', [pod('a', '1'), pod('b', '2')]);
    await open();
    expect([...api.informers.keys()].sort()).toEqual(KUBE_RESOURCES.map((r) => r.kind).sort());
    expect(events).toHaveLength(1);
    expect(events[0]?.version).toBe(1);
    const a = source.snapshot().get('Pod/shop/a');
    expect(a).toMatchObject({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a', resourceVersion: '1' } });
    expect(a?.metadata).not.toHaveProperty('managedFields');
  });

  it('batches informer events into one event with the net diff', async () => {
    api.seeds.set('Pod', [pod('a', '1'), pod('b', '2')]);
    await open();
    const informer = api.latest('Pod');
    informer.emit('update', pod('a', '3', { spec: { nodeName: 'n1' } }));
    informer.emit('update', pod('b', '2')); // same resourceVersion: not a change
    informer.emit('add', pod('c', '4'));
    informer.emit('delete', pod('c', '4')); // added and gone within the batch: nothing
    informer.emit('delete', pod('b', '2'));
    await until(() => events.length === 2);
    const event = events[1];
    expect(event?.changed.updated.map((o) => o.metadata.name)).toEqual(['a']);
    expect(event?.changed.added).toEqual([]);
    expect(event?.changed.removed.map((o) => o.metadata.name)).toEqual(['b']);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(events).toHaveLength(2);
  });

  it('re-lists with a fresh informer after 410 Gone and drops objects missing from the new list', async () => {
    api.seeds.set('Pod', [pod('a', '1'), pod('b', '2')]);
    await open();
    api.seeds.set('Pod', [pod('a', '5')]);
    api.latest('Pod').emit('error', { statusCode: 410 });
    await until(() => events.length === 2);
    expect(api.informers.get('Pod')).toHaveLength(2);
    expect(api.informers.get('Pod')?.[0]?.stopped).toBe(true);
    expect(events[1]?.changed.removed.map((o) => o.metadata.name)).toEqual(['b']);
    expect(events[1]?.changed.updated.map((o) => o.metadata.resourceVersion)).toEqual(['5']);
    expect(events[1]?.errors).toEqual([]);
  });

  it('restarts the same informer after another error, reporting ERR_CONFIG_WATCH', async () => {
    await open();
    const informer = api.latest('Service');
    informer.emit('error', Object.assign(new Error('connection reset'), { code: 'ECONNRESET' }));
    await until(() => events.length === 2);
    expect(events[1]?.errors.map((e) => e.code)).toEqual(['ERR_CONFIG_WATCH']);
    await until(() => informer.starts === 2); // after the 1 s first backoff
    expect(api.informers.get('Service')).toHaveLength(1);
  });

  it('retries a kind whose initial list fails without holding up start()', async () => {
    api.seeds.set('Pod', [pod('a', '1')]);
    const original = api.createInformer.bind(api);
    api.createInformer = (resource) => {
      const informer = original(resource);
      if (resource.kind === 'HTTPRoute' && informer.starts === 0) informer.failNextStart = { statusCode: 404 };
      return informer;
    };
    await open();
    expect(source.snapshot().get('Pod/shop/a')).toBeDefined();
    expect(events[0]?.errors.map((e) => e.code)).toEqual(['ERR_CONFIG_WATCH']);
    await until(() => api.latest('HTTPRoute').starts === 2);
  });

  it('merge-patches the redirection annotation on Pods and status on Istio kinds', async () => {
    await open();
    source.reportStatus('Pod/shop/a', { annotations: { 'ambient.istio.io/redirection': 'enabled' } });
    source.reportStatus('AuthorizationPolicy/shop/deny', {
      validationMessages: [{ level: 'error', field: 'spec.action', message: 'unknown action' }],
    });
    source.reportStatus('Pod/shop/a', undefined);
    source.reportStatus('Service/shop/cart', { annotations: { x: 'y' } }); // kept in memory only
    await source.close();
    expect(api.patches).toEqual([
      { kind: 'Pod', target: 'shop/a', body: { 'ambient.istio.io/redirection': 'enabled' } },
      { kind: 'AuthorizationPolicy/status', target: 'shop/deny', body: istioStatusPatch(source.statuses().get('AuthorizationPolicy/shop/deny')) },
      { kind: 'Pod', target: 'shop/a', body: { 'ambient.istio.io/redirection': null } },
    ]);
    expect([...source.statuses().keys()]).toEqual(['AuthorizationPolicy/shop/deny', 'Service/shop/cart']);
  });

  it('reports a failed status write as ERR_CONFIG_STATUS_WRITE on the next event', async () => {
    await open();
    api.failPatches = true;
    source.reportStatus('Pod/shop/a', { annotations: { 'ambient.istio.io/redirection': 'enabled' } });
    await until(() => events.length === 2);
    expect(events[1]?.errors.map((e) => e.code)).toEqual(['ERR_CONFIG_STATUS_WRITE']);
  });

  it('re-lists every kind with a fresh informer on the resync interval', async () => {
    api.seeds.set('Pod', [pod('a', '1')]);
    source = createKubernetesSource({ api, resyncIntervalMs: 100 });
    await source.start();
    api.seeds.set('Pod', []);
    await until(() => (api.informers.get('Pod')?.length ?? 0) >= 2 && source.snapshot().size === 0);
    expect(api.informers.get('Pod')?.[0]?.stopped).toBe(true);
  });

  it('stops every informer on close()', async () => {
    await open();
    await source.close();
    expect([...api.informers.values()].flat().every((i) => i.stopped)).toBe(true);
  });
});

describe('Kubernetes source pure parts', () => {
  it.each([
    [{ statusCode: 410 }, 1, { relist: true, delayMs: 0 }],
    [{ code: 410 }, 3, { relist: true, delayMs: 0 }],
    [{ body: '{"kind":"Status","code":410}' }, 1, { relist: true, delayMs: 0 }],
    [{ statusCode: 500 }, 1, { relist: false, delayMs: 1_000 }],
    [new Error('reset'), 3, { relist: false, delayMs: 4_000 }],
    [undefined, 20, { relist: false, delayMs: INFORMER_RETRY_MAX_MS }],
  ])('informerRestart(%p, %p) → %p', (error, failures, expected) => {
    expect(informerRestart(error, failures)).toEqual(expected);
  });

  it('reads status codes from the shapes the client produces', () => {
    expect(statusCodeOf({ body: { code: 403 } })).toBe(403);
    expect(statusCodeOf({ body: 'not json' })).toBeUndefined();
    expect(statusCodeOf('boom')).toBeUndefined();
  });

  it('finds a cause in a Status, whether the client parsed the body or not', () => {
    // What the API server answers a write into a namespace being deleted.
    const terminating = {
      kind: 'Status',
      code: 403,
      reason: 'Forbidden',
      details: { name: 'istio-ca-root-cert', kind: 'configmaps', causes: [{ reason: 'NamespaceTerminating', field: 'metadata.namespace' }] },
    };
    expect(hasStatusCause({ code: 403, body: JSON.stringify(terminating) }, 'NamespaceTerminating')).toBe(true);
    expect(hasStatusCause({ body: terminating }, 'NamespaceTerminating')).toBe(true);
    expect(hasStatusCause({ body: { ...terminating, details: {} } }, 'NamespaceTerminating')).toBe(false);
    expect(hasStatusCause({ body: 'not json' }, 'NamespaceTerminating')).toBe(false);
    expect(hasStatusCause(new Error('socket hang up'), 'NamespaceTerminating')).toBe(false);
  });

  it('builds list/watch paths', () => {
    const byKind = new Map(KUBE_RESOURCES.map((r) => [r.kind, resourcePath(r)]));
    expect(byKind.get('Pod')).toBe('/api/v1/pods');
    expect(byKind.get('EndpointSlice')).toBe('/apis/discovery.k8s.io/v1/endpointslices');
    expect(byKind.get('HTTPRoute')).toBe('/apis/gateway.networking.k8s.io/v1/httproutes');
  });

  it('converts client objects to plain KubeObjects', () => {
    const node = KUBE_RESOURCES.find((r) => r.kind === 'Node');
    if (node === undefined) throw new Error('Node missing');
    const created = new Date('2026-01-01T00:00:00Z');
    expect(toKubeObject(node, { metadata: { name: 'n1', creationTimestamp: created } })).toEqual({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'n1', creationTimestamp: '2026-01-01T00:00:00.000Z' },
    });
    expect(toKubeObject(node, { metadata: {} })).toBeUndefined();
  });

  it('computes annotation merge patches', () => {
    expect(annotationPatch(undefined, { a: '1' })).toEqual({ metadata: { annotations: { a: '1' } } });
    expect(annotationPatch({ a: '1', b: '2' }, { a: '1' })).toEqual({ metadata: { annotations: { b: null } } });
    expect(annotationPatch({ a: '1' }, { a: '1' })).toBeUndefined();
  });
});
