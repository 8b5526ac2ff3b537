import { mkdir, mkdtemp, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { ConfigEvent } from './config-source';
import type { StatusFileContent } from './status-file';
import { createManifestDirectorySource, type ManifestDirectorySource } from './manifest-directory-source';

jest.setTimeout(30_000);

const EVENT_TIMEOUT_MS = 10_000;
/** How long to keep listening after an event to be sure no second one follows (debounce is 100 ms). */
const QUIET_MS = 500;

const MESH = `apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: v1
kind: Service
metadata:
  name: cart
  namespace: shop
spec:
  ports: [{ port: 80 }]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: allow-cart
spec:
  action: ALLOW
`;

function serviceYaml(name: string, port: number): string {
  return `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\nspec:\n  ports: [{ port: ${port} }]\n`;
}

/** Records every event and lets a test wait for the next one. */
class EventLog {
  readonly events: ConfigEvent[] = [];
  private waiters: { count: number; resolve: () => void }[] = [];

  constructor(source: ManifestDirectorySource) {
    source.subscribe((event) => {
      this.events.push(event);
      this.waiters = this.waiters.filter((w) => (this.events.length >= w.count ? (w.resolve(), false) : true));
    });
  }

  /** Waits until `count` events in total have arrived. */
  async waitFor(count: number): Promise<ConfigEvent> {
    if (this.events.length < count) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.waiters.push({ count, resolve })),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no event #${count} within ${EVENT_TIMEOUT_MS} ms`)), EVENT_TIMEOUT_MS);
        }),
      ]).finally(() => clearTimeout(timer));
    }
    const event = this.events[count - 1];
    if (event === undefined) throw new Error('unreachable');
    return event;
  }

  async quiet(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
  }
}

function keys(objects: readonly { kind: string; metadata: { namespace?: string; name: string } }[]): string[] {
  return objects.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`);
}

describe('ManifestDirectorySource (real temp directory)', () => {
  let dir: string;
  let source: ManifestDirectorySource;
  let log: EventLog;

  async function open(debounceMs?: number): Promise<void> {
    source = createManifestDirectorySource({ directory: dir, rescanIntervalMs: 60_000, debounceMs });
    log = new EventLog(source);
    await source.start();
  }

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'weft-config-source-'));
  });

  afterEach(async () => {
    await source?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a multi-document file with several kinds and defaults namespaces', async () => {
    await writeFile(path.join(dir, 'mesh.yaml'), MESH);
    await mkdir(path.join(dir, 'nested'));
    await writeFile(path.join(dir, 'nested', 'node.json'), JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } }));
    await open();
    const snapshot = source.snapshot();
    expect(snapshot.version).toBe(1);
    expect(snapshot.size).toBe(4);
    expect(snapshot.get('Namespace//shop')).toBeDefined();
    expect(snapshot.get('AuthorizationPolicy/default/allow-cart')?.spec).toEqual({ action: 'ALLOW' });
    expect(keys(snapshot.list('Service', 'shop'))).toEqual(['Service/shop/cart']);
    expect(keys(snapshot.list('Node'))).toEqual(['Node//n1']);
    expect(Object.isFrozen(snapshot.get('Service/shop/cart'))).toBe(true);
    expect(log.events).toHaveLength(1);
    expect(log.events[0]?.changed.added).toHaveLength(4);
  });

  it('expands List kinds', async () => {
    const list = { apiVersion: 'v1', kind: 'List', items: [JSON.parse(JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } }))] };
    await writeFile(path.join(dir, 'list.json'), JSON.stringify(list));
    await open();
    expect(source.snapshot().get('Pod/default/p')).toBeDefined();
  });

  it('emits exactly one event with the right diff on add, modify and delete of a file', async () => {
    await writeFile(path.join(dir, 'a.yaml'), serviceYaml('a', 80));
    await open();

    await writeFile(path.join(dir, 'b.yaml'), serviceYaml('b', 81));
    const added = await log.waitFor(2);
    expect(keys(added.changed.added)).toEqual(['Service/default/b']);
    expect(added.changed.updated).toEqual([]);
    await log.quiet();
    expect(log.events).toHaveLength(2);

    await writeFile(path.join(dir, 'a.yaml'), serviceYaml('a', 8080));
    const updated = await log.waitFor(3);
    expect(keys(updated.changed.updated)).toEqual(['Service/default/a']);
    expect(source.snapshot().get('Service/default/a')?.spec).toEqual({ ports: [{ port: 8080 }] });

    await unlink(path.join(dir, 'b.yaml'));
    const removed = await log.waitFor(4);
    expect(keys(removed.changed.removed)).toEqual(['Service/default/b']);
    expect(removed.version).toBe(4);
    await log.quiet();
    expect(log.events).toHaveLength(4);
  });

  it('folds several quick writes into one debounced event', async () => {
    await open(300); // wider than the default so a slow, shared machine still writes all five in one window
    expect(log.events[0]).toMatchObject({ version: 1, changed: { added: [] } });
    for (let i = 0; i < 5; i++) await writeFile(path.join(dir, `s${i}.yaml`), serviceYaml(`s${i}`, 80 + i));
    const event = await log.waitFor(2);
    await log.quiet();
    expect(log.events).toHaveLength(2);
    expect(event.changed.added).toHaveLength(5);
  });

  it('keeps the last good objects of a broken file, names file and line, and recovers when fixed', async () => {
    await writeFile(path.join(dir, 'mesh.yaml'), MESH);
    await open();
    await writeFile(path.join(dir, 'mesh.yaml'), `${MESH}---\napiVersion: v1\nkind: Service\nmetadata: [oops\n`);
    const broken = await log.waitFor(2);
    expect(broken.changed).toEqual({ added: [], updated: [], removed: [] });
    const error = broken.errors[0];
    expect(error?.code).toBe('ERR_CONFIG_YAML_PARSE');
    expect(error?.location).toMatchObject({ file: 'mesh.yaml', documentIndex: 3 });
    // `metadata: [oops` is line 23; the parser notices the unclosed `[` at the end of the file, line 24.
    expect(error?.location.line).toBe(24);
    expect(error?.message).toContain('mesh.yaml');
    expect(source.snapshot().size).toBe(3);

    await writeFile(path.join(dir, 'mesh.yaml'), serviceYaml('only', 1));
    const fixed = await log.waitFor(3);
    expect(fixed.errors).toEqual([]);
    expect(keys(fixed.changed.added)).toEqual(['Service/default/only']);
    expect(fixed.changed.removed).toHaveLength(3);
  });

  it('keeps the first definition of a duplicate by file name order and reports the second', async () => {
    await writeFile(path.join(dir, 'b.yaml'), serviceYaml('dup', 2));
    await writeFile(path.join(dir, 'a.yaml'), serviceYaml('dup', 1));
    await open();
    expect(source.snapshot().get('Service/default/dup')?.spec).toEqual({ ports: [{ port: 1 }] });
    const [error] = log.events[0]?.errors ?? [];
    expect(error?.code).toBe('ERR_CONFIG_DUPLICATE_OBJECT');
    expect(error?.location).toMatchObject({ file: 'b.yaml', objectKey: 'Service/default/dup' });

    await unlink(path.join(dir, 'a.yaml'));
    const event = await log.waitFor(2);
    expect(keys(event.changed.updated)).toEqual(['Service/default/dup']);
    expect(event.errors).toEqual([]);
  });

  it('handles writes made by atomic rename', async () => {
    await writeFile(path.join(dir, 'svc.yaml'), serviceYaml('svc', 1));
    await open();
    const temp = path.join(dir, '.svc.yaml.tmp');
    await writeFile(temp, serviceYaml('svc', 2));
    await rename(temp, path.join(dir, 'svc.yaml'));
    const event = await log.waitFor(2);
    expect(keys(event.changed.updated)).toEqual(['Service/default/svc']);
    expect(source.snapshot().get('Service/default/svc')?.spec).toEqual({ ports: [{ port: 2 }] });
    await log.quiet();
    expect(log.events).toHaveLength(2);
  });

  it('watches subdirectories created after start', async () => {
    await open();
    await mkdir(path.join(dir, 'later'));
    await writeFile(path.join(dir, 'later', 'x.yml'), serviceYaml('x', 1));
    for (let n = 2; source.snapshot().size === 0; n++) await log.waitFor(n);
    expect(source.snapshot().get('Service/default/x')).toBeDefined();
  });

  it('warns about unknown kinds and reports invalid documents without stopping the others', async () => {
    await writeFile(path.join(dir, 'crd.yaml'), `apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n---\n${serviceYaml('beside-widget', 1)}`);
    await writeFile(path.join(dir, 'svc.yaml'), serviceYaml('svc', 1));
    await writeFile(path.join(dir, 'bad.yaml'), `kind: Service\nmetadata:\n  name: nameless\n`);
    await open();
    const errors = log.events[0]?.errors ?? [];
    expect(errors.map((e) => [e.code, e.severity, e.location.file])).toEqual([
      ['ERR_CONFIG_OBJECT_INVALID', 'error', 'bad.yaml'],
      ['ERR_CONFIG_UNKNOWN_KIND', 'warning', 'crd.yaml'],
    ]);
    // A warning does not hold the rest of its file back; an invalid document does (files apply whole).
    expect(keys(source.snapshot().list('Service'))).toEqual(['Service/default/beside-widget', 'Service/default/svc']);
  });

  it('writes reported statuses to status.json and does not read it back as a manifest', async () => {
    await writeFile(path.join(dir, 'mesh.yaml'), MESH);
    await open();
    source.reportStatus('Pod/default/p', { annotations: { 'ambient.istio.io/redirection': 'enabled' } });
    source.reportStatus('AuthorizationPolicy/default/allow-cart', {
      validationMessages: [{ level: 'warning', field: 'spec.rules', message: 'no rules: denies nothing' }],
    });
    source.reportStatus('Pod/default/p', undefined);
    await source.flushStatus();
    const content = JSON.parse(await readFile(path.join(dir, '.weft', 'status.json'), 'utf8')) as StatusFileContent;
    expect(Object.keys(content.statuses)).toEqual(['AuthorizationPolicy/default/allow-cart']);
    expect(source.statuses().get('AuthorizationPolicy/default/allow-cart')?.validationMessages).toHaveLength(1);
    await log.quiet();
    expect(log.events).toHaveLength(1);
  });

  it('writes statuses to a configured path on close', async () => {
    const statusFile = path.join(dir, 'out', 'status.json');
    source = createManifestDirectorySource({ directory: path.join(dir), statusFile });
    await source.start();
    source.reportStatus('Node//n1', { conditions: [{ type: 'Ready', status: 'True' }] });
    await source.close();
    const content = JSON.parse(await readFile(statusFile, 'utf8')) as StatusFileContent;
    expect(content.statuses['Node//n1']?.conditions?.[0]?.type).toBe('Ready');
  });

  it('keeps serving when the directory itself disappears, reporting ERR_CONFIG_READ', async () => {
    const inner = path.join(dir, 'inner');
    await mkdir(inner);
    await writeFile(path.join(inner, 'svc.yaml'), serviceYaml('svc', 1));
    source = createManifestDirectorySource({ directory: inner, rescanIntervalMs: 500 });
    log = new EventLog(source);
    await source.start();
    await rm(inner, { recursive: true });
    const event = await log.waitFor(2);
    expect(event.errors.map((e) => e.code)).toContain('ERR_CONFIG_READ');
    expect(source.snapshot().size).toBe(1);
    // Back again (found by the periodic rescan), with different content.
    await mkdir(inner);
    await writeFile(path.join(inner, 'svc.yaml'), serviceYaml('svc', 2));
    const spec = (): unknown => source.snapshot().get('Service/default/svc')?.spec;
    while (JSON.stringify(spec()) !== JSON.stringify({ ports: [{ port: 2 }] })) await log.waitFor(log.events.length + 1);
    // Watched again: a later edit arrives without waiting for a rescan.
    await writeFile(path.join(inner, 'svc.yaml'), serviceYaml('svc', 3));
    await log.waitFor(log.events.length + 1);
    expect(spec()).toEqual({ ports: [{ port: 3 }] });
  });

  it('rejects start() for a missing directory with ERR_CONFIG_READ', async () => {
    source = createManifestDirectorySource({ directory: path.join(dir, 'missing') });
    await expect(source.start()).rejects.toMatchObject({ code: 'ERR_CONFIG_READ' });
  });
});

describe('ManifestDirectorySource annotation overlays', () => {
  let dir: string;
  let source: ManifestDirectorySource;
  let log: EventLog;
  const POD = 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: web-0\n  namespace: shop\n  annotations:\n    team: cart\nspec: {}\n';
  const overlay = (annotations: Record<string, string>): string =>
    JSON.stringify({ statuses: { 'Pod/shop/web-0': { annotations }, 'Pod/shop/missing': { annotations: { a: 'b' } } } });

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'weft-overlay-'));
    await writeFile(path.join(dir, 'pod.yaml'), POD);
    source = createManifestDirectorySource({ directory: dir, debounceMs: 20, annotationOverlayDir: path.join(dir, '.weft') });
    log = new EventLog(source);
    await source.start();
  });

  afterEach(async () => {
    await source.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("lays another writer's annotations over the object, and takes them away with the file", async () => {
    const annotationsOf = (): Record<string, string> | undefined => source.snapshot().get('Pod/shop/web-0')?.metadata.annotations;
    expect(annotationsOf()).toEqual({ team: 'cart' });

    const file = path.join(dir, '.weft', 'cni-node-a.json');
    await writeFile(`${file}.tmp`, overlay({ 'ambient.istio.io/redirection': 'enabled' }));
    await rename(`${file}.tmp`, file);
    const added = await log.waitFor(2);
    expect(keys(added.changed.updated)).toEqual(['Pod/shop/web-0']);
    expect(annotationsOf()).toEqual({ team: 'cart', 'ambient.istio.io/redirection': 'enabled' });

    await unlink(file);
    await log.waitFor(3);
    expect(annotationsOf()).toEqual({ team: 'cart' });
  });

  it('never reads its own status file back', async () => {
    source.reportStatus('Pod/shop/web-0', { annotations: { mine: 'x' } });
    await source.flushStatus();
    await log.quiet();
    expect(source.snapshot().get('Pod/shop/web-0')?.metadata.annotations).toEqual({ team: 'cart' });
    expect(log.events).toHaveLength(1);
  });
});
