import type { KubeObject } from '@weft/mesh-config';

import { enrollmentOf, redirectionOptionsOf, type EnrollmentOptions } from './enrollment';

const options: EnrollmentOptions = { systemNamespace: 'istio-system', excludeNamespaces: ['kube-system'], dnsCapture: true };

const ns = (name: string, labels: Record<string, string> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
const pod = (
  namespace: string,
  labels: Record<string, string> = {},
  extra: { annotations?: Record<string, string>; spec?: Record<string, unknown>; phase?: string } = {},
): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', namespace, labels, annotations: extra.annotations ?? {} },
  spec: extra.spec ?? {},
  status: { phase: extra.phase ?? 'Running' },
});

const AMBIENT = { 'istio.io/dataplane-mode': 'ambient' };
const NONE = { 'istio.io/dataplane-mode': 'none' };

describe('enrollmentOf', () => {
  it.each<[string, KubeObject, KubeObject | undefined, boolean, string]>([
    ['namespace label', pod('default'), ns('default', AMBIENT), true, 'namespace label'],
    ['pod label in an unlabelled namespace', pod('default', AMBIENT), ns('default'), true, 'pod label'],
    ['pod label with no namespace object yet', pod('default', AMBIENT), undefined, true, 'pod label'],
    ['opt-out in a labelled namespace', pod('default', NONE), ns('default', AMBIENT), false, '=none'],
    ['neither labelled', pod('default'), ns('default'), false, 'neither'],
    ['namespace label other than ambient', pod('default'), ns('default', { 'istio.io/dataplane-mode': 'sidecar' }), false, 'neither'],
    ['excluded namespace wins over labels', pod('kube-system', AMBIENT), ns('kube-system', AMBIENT), false, 'excluded'],
    ['ztunnel itself', pod('istio-system', { app: 'ztunnel', ...AMBIENT }), ns('istio-system', AMBIENT), false, 'ztunnel'],
    ['another pod in the system namespace', pod('istio-system', AMBIENT), ns('istio-system'), true, 'pod label'],
    ['a sidecar pod', pod('default', {}, { annotations: { 'sidecar.istio.io/status': '{}' } }), ns('default', AMBIENT), false, 'sidecar'],
    ['hostNetwork', pod('default', {}, { spec: { hostNetwork: true } }), ns('default', AMBIENT), false, 'hostNetwork'],
    ['a finished pod', pod('default', {}, { phase: 'Succeeded' }), ns('default', AMBIENT), false, 'finished'],
  ])('%s', (_name, p, n, enroll, reason) => {
    const decision = enrollmentOf(p, n, options);
    expect(decision.enroll).toBe(enroll);
    expect(decision.reason).toContain(reason);
  });
});

describe('redirectionOptionsOf', () => {
  it.each<[string, Record<string, string>, boolean, { bypassInbound: boolean; dnsCapture: boolean; virtualInterfaces: string[] }]>([
    ['defaults', {}, true, { bypassInbound: false, dnsCapture: true, virtualInterfaces: [] }],
    ['mesh default off', {}, false, { bypassInbound: false, dnsCapture: false, virtualInterfaces: [] }],
    ['ingress mode', { 'ambient.istio.io/bypass-inbound-capture': 'true' }, true, { bypassInbound: true, dnsCapture: true, virtualInterfaces: [] }],
    ['dns off per pod', { 'ambient.istio.io/dns-capture': 'false' }, true, { bypassInbound: false, dnsCapture: false, virtualInterfaces: [] }],
    ['dns on per pod', { 'ambient.istio.io/dns-capture': 'true' }, false, { bypassInbound: false, dnsCapture: true, virtualInterfaces: [] }],
    [
      'virtual interfaces, deduplicated, bad names dropped',
      { 'istio.io/reroute-virtual-interfaces': 'tun0, tun1,tun0,bad name,' },
      true,
      { bypassInbound: false, dnsCapture: true, virtualInterfaces: ['tun0', 'tun1'] },
    ],
  ])('%s', (_name, annotations, dnsDefault, expected) => {
    expect(redirectionOptionsOf(pod('default', {}, { annotations }), { dnsCapture: dnsDefault })).toEqual(expected);
  });
});
