import type { KubeObject } from '@weft/mesh-config';

import {
  planRootCertConfigMaps,
  publishesRootCert,
  rootCertConfigMap,
  ROOT_CERT_CONFIGMAP_KEY,
  ROOT_CERT_CONFIGMAP_NAME,
} from './root-cert-configmaps';

const ROOT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const OLD_ROOT = '-----BEGIN CERTIFICATE-----\nOLD\n-----END CERTIFICATE-----\n';

function namespace(name: string, extra: { phase?: string; deletionTimestamp?: string } = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, ...(extra.deletionTimestamp === undefined ? {} : { deletionTimestamp: extra.deletionTimestamp }) },
    status: { phase: extra.phase ?? 'Active' },
  };
}

function configMap(ns: string, data: Record<string, string> | undefined, name = ROOT_CERT_CONFIGMAP_NAME): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns }, ...(data === undefined ? {} : { data }) };
}

describe('rootCertConfigMap', () => {
  it('is the ConfigMap istiod writes: its name, the istio.io/config label and only the root-cert.pem key', () => {
    expect(rootCertConfigMap('shop', ROOT)).toEqual({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'istio-ca-root-cert', namespace: 'shop', labels: { 'istio.io/config': 'true' } },
      data: { 'root-cert.pem': ROOT },
    });
  });
});

describe('publishesRootCert', () => {
  it.each([
    ['a user namespace', namespace('shop'), true],
    ['kube-system (istiod serves it, for ztunnel)', namespace('kube-system'), true],
    ['istio-system', namespace('istio-system'), true],
    ['kube-public', namespace('kube-public'), false],
    ['kube-node-lease', namespace('kube-node-lease'), false],
    ['local-path-storage', namespace('local-path-storage'), false],
    ['a terminating namespace', namespace('shop', { phase: 'Terminating' }), false],
    ['a namespace marked for deletion', namespace('shop', { deletionTimestamp: '2026-01-01T00:00:00Z' }), false],
    ['a namespace without status', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'new' } }, true],
  ])('%s → %s', (_what, ns, expected) => {
    expect(publishesRootCert(ns)).toBe(expected);
  });
});

describe('planRootCertConfigMaps', () => {
  const cases: {
    name: string;
    namespaces: KubeObject[];
    configMaps: KubeObject[];
    rootCertPem?: string;
    expected: [string, 'missing' | 'stale'][];
  }[] = [
    { name: 'no namespaces: nothing', namespaces: [], configMaps: [], expected: [] },
    {
      name: 'namespaces without the ConfigMap get it, in name order',
      namespaces: [namespace('shop'), namespace('default'), namespace('kube-system')],
      configMaps: [],
      expected: [['default', 'missing'], ['kube-system', 'missing'], ['shop', 'missing']],
    },
    {
      name: 'an up-to-date ConfigMap is not written, whatever else it holds',
      namespaces: [namespace('shop')],
      configMaps: [configMap('shop', { [ROOT_CERT_CONFIGMAP_KEY]: ROOT, extra: 'kept' })],
      expected: [],
    },
    {
      name: 'a ConfigMap with another root (edited, or the root changed) is rewritten',
      namespaces: [namespace('shop')],
      configMaps: [configMap('shop', { [ROOT_CERT_CONFIGMAP_KEY]: OLD_ROOT })],
      expected: [['shop', 'stale']],
    },
    {
      name: 'a ConfigMap without the key, or without data, is rewritten',
      namespaces: [namespace('a'), namespace('b')],
      configMaps: [configMap('a', { other: 'x' }), configMap('b', undefined)],
      expected: [['a', 'stale'], ['b', 'stale']],
    },
    {
      name: 'other ConfigMaps do not count',
      namespaces: [namespace('shop')],
      configMaps: [configMap('shop', { [ROOT_CERT_CONFIGMAP_KEY]: ROOT }, 'kube-root-ca.crt')],
      expected: [['shop', 'missing']],
    },
    {
      name: 'skipped and terminating namespaces are left alone, even with a stale ConfigMap',
      namespaces: [namespace('kube-public'), namespace('gone', { phase: 'Terminating' }), namespace('shop')],
      configMaps: [configMap('kube-public', { [ROOT_CERT_CONFIGMAP_KEY]: OLD_ROOT }), configMap('gone', { [ROOT_CERT_CONFIGMAP_KEY]: OLD_ROOT })],
      expected: [['shop', 'missing']],
    },
    {
      name: 'a ConfigMap whose namespace is not listed is not written',
      namespaces: [],
      configMaps: [configMap('orphan', { [ROOT_CERT_CONFIGMAP_KEY]: OLD_ROOT })],
      expected: [],
    },
    { name: 'no bundle: nothing is written', namespaces: [namespace('shop')], configMaps: [], rootCertPem: '', expected: [] },
  ];

  it.each(cases)('$name', ({ namespaces, configMaps, rootCertPem, expected }) => {
    const plan = planRootCertConfigMaps({ namespaces, configMaps, rootCertPem: rootCertPem ?? ROOT });
    expect(plan.map((write) => [write.namespace, write.reason])).toEqual(expected);
    for (const write of plan) expect(write.configMap).toEqual(rootCertConfigMap(write.namespace, ROOT));
  });
});
