// The root certificate publisher against a fake KubeApi (no API server here) and sources built on the real
// ObjectSet: which ConfigMaps it writes as namespaces and ConfigMaps come, change and go, how it treats namespaces
// being deleted, how it retries, that a new root is republished, and that close() stops it.
import type { KubeApi } from '@weft/config-source';
import type { KubeObject } from '@weft/mesh-config';
import { eventually } from '@weft/testing';

import { FakeSource, recordingLogger } from '../test/controller-fakes';
import { rootCertConfigMap } from './pipeline/root-cert-configmaps';
import { createRootCertPublisher, fixedRootCertificate, type RootCertificateSource, type RootCertPublisher } from './root-cert-publisher';

jest.setTimeout(15_000);

const ROOT = '-----BEGIN CERTIFICATE-----\nROOT-1\n-----END CERTIFICATE-----\n';
const NEXT_ROOT = '-----BEGIN CERTIFICATE-----\nROOT-2\n-----END CERTIFICATE-----\n';

/** Records every apply and, like the API server, lands it in the ConfigMap source; `fail` makes applies throw. */
class FakeKubeApi implements Pick<KubeApi, 'applyObject'> {
  readonly applied: KubeObject[] = [];
  fail: ((object: KubeObject) => unknown) | undefined;
  gate: Promise<void> | undefined;

  constructor(private readonly configMaps: FakeSource) {}

  async applyObject(object: KubeObject): Promise<void> {
    await this.gate;
    const error = this.fail?.(object);
    if (error !== undefined) throw error;
    this.applied.push(object);
    this.configMaps.upsert(object);
  }

  namespaces(): string[] {
    return this.applied.map((object) => object.metadata.namespace ?? '');
  }
}

/** A root whose change the test triggers. */
class ChangingRoot implements RootCertificateSource {
  private readonly listeners = new Set<() => void>();
  constructor(public pem: string) {}
  current(): string {
    return this.pem;
  }
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  rotate(pem: string): void {
    this.pem = pem;
    for (const listener of this.listeners) listener();
  }
}

function namespace(name: string, phase = 'Active'): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name }, status: { phase } };
}

function pod(name: string): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'shop' } };
}

/** The error client-node raises for a write into a namespace being deleted. */
function terminatingError(ns: string): Error {
  const body = { kind: 'Status', code: 403, reason: 'Forbidden', details: { causes: [{ reason: 'NamespaceTerminating', message: `namespace ${ns} is being terminated` }] } };
  return Object.assign(new Error('HTTP-Code: 403'), { code: 403, body: JSON.stringify(body) });
}

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 50));

describe('root certificate publisher (fake KubeApi)', () => {
  let namespaces: FakeSource;
  let configMaps: FakeSource;
  let api: FakeKubeApi;
  let root: ChangingRoot;
  let logs: { level: string; message: string; fields: Readonly<Record<string, unknown>> }[];
  let publisher: RootCertPublisher;

  beforeEach(() => {
    namespaces = new FakeSource();
    configMaps = new FakeSource();
    api = new FakeKubeApi(configMaps);
    root = new ChangingRoot(ROOT);
    logs = [];
    const logger = recordingLogger((line) => logs.push(line));
    publisher = createRootCertPublisher({ api, namespaces, configMaps, root, logger, retryMinMs: 20, retryMaxMs: 40 });
    publisher.start();
  });

  afterEach(async () => {
    await publisher.close(1_000);
  });

  it('waits for both lists, then writes the ConfigMap into every namespace but the skipped ones', async () => {
    namespaces.upsert(namespace('shop'), namespace('kube-system'), namespace('kube-public'), namespace('kube-node-lease'));
    await settle();
    expect(api.applied).toEqual([]); // the ConfigMaps are not listed yet
    configMaps.listed();
    await eventually(() => api.applied.length === 2, 'the two applies');
    expect(api.applied).toEqual([rootCertConfigMap('kube-system', ROOT), rootCertConfigMap('shop', ROOT)]);
    expect(logs.filter((l) => l.message === 'root certificate ConfigMap created').map((l) => l.fields)).toEqual([
      { namespace: 'kube-system', name: 'istio-ca-root-cert' },
      { namespace: 'shop', name: 'istio-ca-root-cert' },
    ]);
    await settle();
    expect(api.applied).toHaveLength(2); // its own writes, seen by the watch, need nothing more
  });

  it('writes nothing where the ConfigMap is current, and writes a new namespace as it comes', async () => {
    configMaps.upsert(rootCertConfigMap('shop', ROOT));
    namespaces.upsert(namespace('shop'));
    await settle();
    expect(api.applied).toEqual([]);
    namespaces.upsert(namespace('orders'));
    await eventually(() => api.applied.length === 1, 'the new namespace');
    expect(api.namespaces()).toEqual(['orders']);
  });

  it('rewrites a ConfigMap whose root someone changed, and recreates one someone deleted', async () => {
    namespaces.upsert(namespace('shop'));
    configMaps.upsert(rootCertConfigMap('shop', ROOT));
    await settle();
    configMaps.upsert({ ...rootCertConfigMap('shop', 'tampered'), metadata: { name: 'istio-ca-root-cert', namespace: 'shop' } });
    await eventually(() => api.applied.length === 1, 'the rewrite');
    expect(logs.some((l) => l.message === 'root certificate ConfigMap rewritten')).toBe(true);
    configMaps.remove(rootCertConfigMap('shop', ROOT));
    await eventually(() => api.applied.length === 2, 'the re-creation');
    expect(api.applied).toEqual([rootCertConfigMap('shop', ROOT), rootCertConfigMap('shop', ROOT)]);
  });

  it('plans again on Namespace changes, not on changes of other kinds', async () => {
    configMaps.listed();
    namespaces.upsert(namespace('shop'));
    await eventually(() => api.applied.length === 1, 'the first apply');
    root.pem = NEXT_ROOT; // changed without notice: only a new plan would publish it
    namespaces.upsert(pod('a'));
    await settle();
    expect(api.applied).toHaveLength(1);
    namespaces.upsert({ ...namespace('shop'), metadata: { name: 'shop', labels: { 'istio.io/dataplane-mode': 'ambient' } } });
    await eventually(() => api.applied.length === 2, 'the apply after the Namespace change');
  });

  it('leaves terminating namespaces alone and does not retry a write refused as NamespaceTerminating', async () => {
    configMaps.listed();
    namespaces.upsert(namespace('going', 'Terminating'), namespace('racing'));
    api.fail = (object) => (object.metadata.namespace === 'racing' ? terminatingError('racing') : undefined);
    await eventually(() => logs.some((l) => l.message.includes('gone or terminating')), 'the refused write');
    await settle();
    expect(api.applied).toEqual([]);
    expect(logs.filter((l) => l.level === 'warn' || l.level === 'error')).toEqual([]);
  });

  it('logs a failed apply with the ConfigMap named and retries it with backoff', async () => {
    configMaps.listed();
    let refusals = 0;
    api.fail = () => {
      refusals += 1;
      return refusals <= 2 ? Object.assign(new Error('configmaps is forbidden'), { code: 403 }) : undefined;
    };
    namespaces.upsert(namespace('shop'));
    await eventually(() => api.applied.length === 1, 'the retried apply');
    expect(logs.find((l) => l.level === 'error')).toMatchObject({
      message: 'failed to apply ConfigMap shop/istio-ca-root-cert',
      fields: { namespace: 'shop', name: 'istio-ca-root-cert' },
    });
    expect(logs.filter((l) => l.message.includes('retrying')).map((l) => l.fields['delayMs'])).toEqual([20, 40]);
  });

  it('republishes into every namespace when the root changes', async () => {
    configMaps.listed();
    namespaces.upsert(namespace('a'), namespace('b'));
    await eventually(() => api.applied.length === 2, 'the first publication');
    root.rotate(NEXT_ROOT);
    await eventually(() => api.applied.length === 4, 'the republication');
    expect(api.applied.slice(2)).toEqual([rootCertConfigMap('a', NEXT_ROOT), rootCertConfigMap('b', NEXT_ROOT)]);
  });

  it('stops on close: no writes for later changes, no root subscription, no pending retry', async () => {
    configMaps.listed();
    api.fail = () => new Error('connection refused');
    namespaces.upsert(namespace('shop'));
    await eventually(() => logs.some((l) => l.message.includes('retrying')), 'the scheduled retry');
    await publisher.close(1_000);
    api.fail = undefined;
    namespaces.upsert(namespace('orders'));
    root.rotate(NEXT_ROOT);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(api.applied).toEqual([]);
  });

  it('waits for the write in flight on close, but no longer than the deadline', async () => {
    api.gate = new Promise(() => undefined); // an API server that never answers
    configMaps.listed();
    namespaces.upsert(namespace('shop'));
    await settle();
    const started = Date.now();
    await publisher.close(100);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect(logs.some((l) => l.message.includes('still running at shutdown'))).toBe(true);
  });
});

describe('fixedRootCertificate', () => {
  it('always answers the same bundle and never calls back', () => {
    const root = fixedRootCertificate(ROOT);
    const listener = jest.fn();
    root.subscribe(listener)();
    expect(root.current()).toBe(ROOT);
    expect(listener).not.toHaveBeenCalled();
  });
});
