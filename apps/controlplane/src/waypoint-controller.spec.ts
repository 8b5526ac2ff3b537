// The waypoint controller against a fake KubeApi (no API server here) and a config source built on the real
// ObjectSet: what it writes when Gateways come, change and go, how it retries, and that close() stops it.
import type { KubeApi, KubeResource } from '@weft/config-source';
import { objectKey, waypointGateway, type KubeObject } from '@weft/mesh-config';
import { eventually } from '@weft/testing';

import { FakeSource, recordingLogger } from '../test/controller-fakes';
import { createWaypointController, type WaypointController } from './waypoint-controller';

jest.setTimeout(15_000);

type Write =
  | { readonly verb: 'apply'; readonly key: string; readonly object: KubeObject }
  | { readonly verb: 'delete'; readonly key: string }
  | { readonly verb: 'status'; readonly key: string; readonly patch: object };

/** Records every write; `fail` makes matching writes throw, `gate` holds applies until it resolves. */
class FakeKubeApi implements Pick<KubeApi, 'applyObject' | 'deleteObject' | 'mergePatchStatus'> {
  readonly writes: Write[] = [];
  fail: ((key: string) => boolean) | undefined;
  gate: Promise<void> | undefined;

  async applyObject(object: KubeObject): Promise<void> {
    const key = objectKey(object);
    await this.gate;
    if (this.fail?.(key) === true) throw Object.assign(new Error('deployments.apps is forbidden'), { code: 403 });
    this.writes.push({ verb: 'apply', key, object });
  }

  async deleteObject(_apiVersion: string, kind: string, namespace: string, name: string): Promise<void> {
    this.writes.push({ verb: 'delete', key: `${kind}/${namespace}/${name}` });
  }

  async mergePatchStatus(resource: KubeResource, namespace: string, name: string, patch: object): Promise<void> {
    this.writes.push({ verb: 'status', key: `${resource.kind}/${namespace}/${name}`, patch });
  }

  keys(verb: Write['verb']): string[] {
    return this.writes.filter((w) => w.verb === verb).map((w) => w.key);
  }
}

function gateway(labels?: Record<string, string>): KubeObject {
  const base = waypointGateway({ namespace: 'shop' });
  return { ...base, metadata: { ...base.metadata, uid: 'gw-uid', ...(labels === undefined ? {} : { labels }) } };
}

const WAYPOINT_KEYS = ['ServiceAccount/shop/waypoint', 'Service/shop/waypoint', 'Deployment/shop/waypoint'];

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 50));

describe('waypoint controller (fake KubeApi)', () => {
  let api: FakeKubeApi;
  let source: FakeSource;
  let logs: { level: string; message: string; fields: Readonly<Record<string, unknown>> }[];
  let controller: WaypointController;

  beforeEach(() => {
    api = new FakeKubeApi();
    source = new FakeSource();
    logs = [];
    const logger = recordingLogger((line) => logs.push(line));
    controller = createWaypointController({
      api,
      source,
      deployment: { image: 'registry.example/waypoint:1' },
      domainSuffix: 'cluster.local',
      logger,
      retryMinMs: 20,
      retryMaxMs: 40,
    });
    controller.start();
  });

  afterEach(async () => {
    await controller.close(1_000);
  });

  it('applies the three objects of a new Gateway, owned by it, then writes its status', async () => {
    source.upsert(gateway());
    await eventually(() => api.keys('status').length === 1, 'the Gateway status');
    expect(api.keys('apply')).toEqual(WAYPOINT_KEYS);
    for (const write of api.writes) {
      if (write.verb !== 'apply') continue;
      expect(write.object.metadata.ownerReferences).toEqual([
        { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', name: 'waypoint', uid: 'gw-uid', controller: true },
      ]);
    }
    expect(JSON.stringify(api.writes.find((w) => w.key === 'Deployment/shop/waypoint'))).toContain('registry.example/waypoint:1');
    expect(api.writes.at(-1)).toMatchObject({
      key: 'Gateway/shop/waypoint',
      patch: { status: { addresses: null, conditions: [{ type: 'Accepted' }, { type: 'Programmed', status: 'False' }] } },
    });
  });

  it('writes the Service ClusterIP and hostname as the Gateway address once a Ready pod backs the Service', async () => {
    source.upsert(gateway());
    await eventually(() => api.keys('status').length === 1, 'the first status');
    const applied = api.writes.find((w) => w.verb === 'apply' && w.key === 'Service/shop/waypoint');
    if (applied?.verb !== 'apply') throw new Error('the Service was not applied');
    source.upsert({ ...applied.object, spec: { ...(applied.object.spec as object), clusterIP: '10.96.0.30' } });
    await eventually(() => api.keys('status').length === 2, 'the status for the Service');
    expect(api.writes.at(-1)).toMatchObject({ patch: { status: { addresses: null, conditions: [{}, { type: 'Programmed', status: 'False', reason: 'AddressNotAssigned' }] } } });
    source.upsert({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'waypoint-0', namespace: 'shop', labels: { 'gateway.networking.k8s.io/gateway-name': 'waypoint' } },
      status: { conditions: [{ type: 'Ready', status: 'True' }] },
    });
    await eventually(() => api.keys('status').length === 3, 'the programmed status');
    expect(api.writes.at(-1)).toMatchObject({
      patch: {
        status: {
          addresses: [
            { type: 'IPAddress', value: '10.96.0.30' },
            { type: 'Hostname', value: 'waypoint.shop.svc.cluster.local' },
          ],
          conditions: [{}, { type: 'Programmed', status: 'True' }],
        },
      },
    });
  });

  it('re-applies what changed when the Gateway changes, and nothing when it does not', async () => {
    source.upsert(gateway());
    await eventually(() => api.keys('apply').length === 3, 'the first apply');
    await settle();
    source.upsert({ ...gateway(), metadata: { ...gateway().metadata, annotations: { note: 'unrelated' } } });
    await settle();
    expect(api.keys('apply')).toHaveLength(3);
    source.upsert(gateway({ 'istio.io/waypoint-for': 'all' }));
    await eventually(() => api.keys('apply').length === 6, 'the re-apply');
    expect(api.keys('apply').slice(3)).toEqual(WAYPOINT_KEYS);
  });

  it('deletes the objects when the Gateway goes', async () => {
    source.upsert(gateway());
    await eventually(() => controller.applied().size === 3, 'the apply');
    source.remove(gateway());
    await eventually(() => api.keys('delete').length === 3, 'the deletes');
    expect(api.keys('delete')).toEqual([...WAYPOINT_KEYS].reverse());
    expect(controller.applied().size).toBe(0);
  });

  it('logs a failed apply with the object named and retries it on a timer', async () => {
    api.fail = (key) => key === 'Deployment/shop/waypoint';
    source.upsert(gateway());
    await eventually(() => logs.some((l) => l.level === 'error'), 'the error log');
    expect(logs.find((l) => l.level === 'error')).toMatchObject({
      message: 'failed to apply waypoint Deployment shop/waypoint',
      fields: { kind: 'Deployment', namespace: 'shop', name: 'waypoint' },
    });
    expect(api.keys('apply')).toEqual(WAYPOINT_KEYS.slice(0, 2));
    api.fail = undefined;
    await eventually(() => api.keys('apply').includes('Deployment/shop/waypoint'), 'the retried apply');
    // Only the failed object is applied again.
    expect(api.keys('apply')).toEqual(WAYPOINT_KEYS);
  });

  it('reconciles one snapshot at a time, folding changes made meanwhile into one pass on the newest', async () => {
    let open = (): void => undefined;
    api.gate = new Promise((resolve) => (open = resolve));
    source.upsert(gateway());
    await settle();
    source.upsert(gateway({ 'istio.io/waypoint-for': 'service' }));
    source.upsert(gateway({ 'istio.io/waypoint-for': 'all' }));
    api.gate = undefined;
    open();
    await eventually(() => api.keys('apply').length === 6, 'the follow-up pass');
    await settle();
    expect(api.keys('apply')).toHaveLength(6);
    const last = api.writes.filter((w) => w.verb === 'apply').at(-1);
    expect(last?.verb === 'apply' ? last.object.metadata.labels?.['istio.io/waypoint-for'] : undefined).toBe('all');
  });

  it('re-applies everything on the resync timer, repairing edits made by others', async () => {
    await controller.close();
    const quiet = (): void => undefined;
    const logger = { debug: quiet, info: quiet, warn: quiet, error: quiet };
    controller = createWaypointController({ api, source, deployment: { image: 'w:1' }, domainSuffix: 'cluster.local', logger, resyncIntervalMs: 50 });
    controller.start();
    source.upsert(gateway());
    await eventually(() => api.keys('apply').length >= 6, 'the resync re-apply');
    expect(api.keys('apply').slice(0, 6)).toEqual([...WAYPOINT_KEYS, ...WAYPOINT_KEYS]);
  });

  it('stops on close: no writes for later changes and no pending retry', async () => {
    api.fail = () => true;
    source.upsert(gateway());
    await eventually(() => logs.some((l) => l.message.includes('retrying')), 'the scheduled retry');
    await controller.close(1_000);
    api.fail = undefined;
    const before = api.writes.length;
    source.upsert(gateway({ 'istio.io/waypoint-for': 'all' }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(api.writes.length).toBe(before);
  });

  it('waits for the write in flight on close, but no longer than the deadline', async () => {
    api.gate = new Promise(() => undefined); // an API server that never answers
    source.upsert(gateway());
    await settle();
    const started = Date.now();
    await controller.close(100);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect(logs.some((l) => l.message.includes('still running at shutdown'))).toBe(true);
  });
});
