import type { KubeObject } from '@weft/mesh-config';
import { Debouncer } from './change-batcher';
import { parseManifest } from './manifest-parse';
import { deepEqual, ObjectSet, objectChanged } from './object-set';

function svc(name: string, port: number, resourceVersion?: string): KubeObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'ns', resourceVersion }, spec: { port } };
}

describe('ObjectSet', () => {
  it('computes the net diff of a batch and only moves the version on change', () => {
    const set = new ObjectSet();
    expect(set.apply({ upserts: [svc('a', 1), svc('b', 1)] }).added).toHaveLength(2);
    const before = set.snapshot();
    const change = set.apply({ upserts: [svc('a', 1), svc('b', 2)], deletes: ['Service/ns/missing'] });
    expect(change.updated.map((o) => o.metadata.name)).toEqual(['b']);
    expect(change.added).toEqual([]);
    expect(set.version).toBe(2);
    expect(set.apply({ upserts: [svc('a', 1)] }).updated).toEqual([]);
    expect(set.version).toBe(2);
    // An old snapshot never changes.
    expect(before.get('Service/ns/b')?.spec).toEqual({ port: 1 });
    expect(set.snapshot().get('Service/ns/b')?.spec).toEqual({ port: 2 });
  });

  it('removes objects of a re-listed kind that the list no longer has', () => {
    const set = new ObjectSet();
    set.apply({ upserts: [svc('a', 1), svc('b', 1)] });
    const change = set.apply({ upserts: [svc('a', 1)], replaceKinds: ['Service'] });
    expect(change.removed.map((o) => o.metadata.name)).toEqual(['b']);
    expect(set.snapshot().list('Service', 'ns')).toHaveLength(1);
  });

  it('compares by resourceVersion when both objects have one, else deeply', () => {
    expect(objectChanged(svc('a', 1, '7'), svc('a', 2, '7'))).toBe(false);
    expect(objectChanged(svc('a', 1, '7'), svc('a', 1, '8'))).toBe(true);
    expect(objectChanged(svc('a', 1), svc('a', 2))).toBe(true);
    expect(deepEqual({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] })).toBe(true);
    expect(deepEqual([1], { 0: 1 })).toBe(false);
  });
});

describe('Debouncer', () => {
  it('runs once per quiet period and not after close', async () => {
    let runs = 0;
    const debouncer = new Debouncer(() => (runs += 1), 20, 200);
    debouncer.trigger();
    debouncer.trigger();
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(runs).toBe(1);
    debouncer.trigger();
    debouncer.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(runs).toBe(1);
  });
});

describe('parseManifest', () => {
  it('defaults namespaces, strips them from cluster-scoped kinds and expands typed lists', () => {
    const text = [
      'apiVersion: v1\nkind: Node\nmetadata: { name: n1, namespace: x }',
      'apiVersion: v1\nkind: PodList\nitems:\n  - { apiVersion: v1, kind: Pod, metadata: { name: p } }',
      '',
    ].join('\n---\n');
    const { objects, errors } = parseManifest('m.yaml', text);
    expect(errors).toEqual([]);
    expect(objects.map((o) => [o.kind, o.metadata.namespace])).toEqual([
      ['Node', undefined],
      ['Pod', 'default'],
    ]);
  });

  it('names file, document and line for parse errors and invalid documents', () => {
    const { errors } = parseManifest('m.yaml', 'apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\n- 1\n---\na: b: c\n');
    expect(errors.map((e) => [e.code, e.location.documentIndex, e.location.line])).toEqual([
      ['ERR_CONFIG_OBJECT_INVALID', 1, 5],
      ['ERR_CONFIG_YAML_PARSE', 2, 7],
    ]);
  });
});
