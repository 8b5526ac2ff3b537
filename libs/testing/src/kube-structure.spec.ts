import { rootTypeName, structuralProblems, type AttributeType, type TypeLookup } from './kube-structure';

const attr = (baseName: string, type: string, format = ''): AttributeType => ({ baseName, type, format });
const types: Record<string, AttributeType[]> = {
  V1Thing: [attr('apiVersion', 'string'), attr('kind', 'string'), attr('spec', 'V1ThingSpec'), attr('labels', '{ [key: string]: string; }')],
  V1ThingSpec: [attr('replicas', 'number', 'int32'), attr('ratio', 'number', 'double'), attr('paused', 'boolean'), attr('ports', 'Array<V1Port>'), attr('extra', 'any')],
  V1Port: [attr('port', 'IntOrString'), attr('name', 'string')],
};
const lookup: TypeLookup = (name) => types[name];

describe('rootTypeName', () => {
  it.each([
    ['v1', 'Service', 'V1Service'],
    ['apps/v1', 'DaemonSet', 'V1DaemonSet'],
    ['rbac.authorization.k8s.io/v1', 'ClusterRole', 'V1ClusterRole'],
    ['batch/v1beta1', 'CronJob', 'V1beta1CronJob'],
  ])('%s %s → %s', (apiVersion, kind, expected) => {
    expect(rootTypeName(apiVersion, kind)).toBe(expected);
  });
});

describe('structuralProblems', () => {
  it.each<[string, unknown, string[]]>([
    ['a valid object', { apiVersion: 'v1', kind: 'Thing', spec: { replicas: 2, ratio: 0.5, paused: false, ports: [{ port: 80 }, { port: 'http' }], extra: { any: [1] } }, labels: { a: 'b' } }, []],
    ['an unknown field, with its path', { spec: { replicaz: 1 } }, ['spec.replicaz: unknown field of V1ThingSpec']],
    ['an unknown field in a list item', { spec: { ports: [{ port: 80 }, { prot: 'TCP' }] } }, ['spec.ports[1].prot: unknown field of V1Port']],
    ['a string where a number belongs', { spec: { replicas: '2' } }, ['spec.replicas: expected a number, got string']],
    ['a fraction where an integer belongs', { spec: { replicas: 1.5 } }, ['spec.replicas: expected an integer, got 1.5']],
    ['a fraction where a double belongs is fine', { spec: { ratio: 1.5 } }, []],
    ['a fractional IntOrString', { spec: { ports: [{ port: 1.5 }] } }, ['spec.ports[0].port: expected an integer or a string, got number']],
    ['a map value of the wrong type', { labels: { a: 1 } }, ['labels.a: expected a string, got number']],
    ['a scalar where a list belongs', { spec: { ports: 'x' } }, ['spec.ports: expected a list, got string']],
    ['null where an object belongs', { spec: null }, ['spec: expected an object (V1ThingSpec), got null']],
  ])('%s', (_name, value, expected) => {
    expect(structuralProblems(value, 'V1Thing', lookup)).toEqual(expected);
  });

  it('names a type it cannot check against', () => {
    expect(structuralProblems({}, 'V1Unknown', lookup)).toEqual(['(root): no type V1Unknown to check against']);
  });
});
