import type { KubeObject } from '@weft/mesh-config';

import { planEnrollment, podFacts, type CurrentEnrollment } from './reconcile';

const options = { systemNamespace: 'istio-system', excludeNamespaces: [], dnsCapture: true };
const defaults = { bypassInbound: false, dnsCapture: true, virtualInterfaces: [] };
const AMBIENT = { 'istio.io/dataplane-mode': 'ambient' };

const ns = (name: string, labels: Record<string, string> = {}): [string, KubeObject] => [name, { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } }];
const pod = (name: string, extra: { node?: string; labels?: Record<string, string>; annotations?: Record<string, string>; uid?: string } = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', labels: extra.labels ?? {}, annotations: extra.annotations ?? {}, ...(extra.uid === undefined ? {} : { uid: extra.uid }) },
  spec: { nodeName: extra.node ?? 'node-a', serviceAccountName: 'sa' },
  status: { phase: 'Running', podIP: '10.0.0.5', podIPs: [{ ip: '10.0.0.5' }, { ip: 'fd00::5' }] },
});
const enrolled = (name: string, opts = defaults): [string, CurrentEnrollment] => [
  `Pod/default/${name}`,
  { pod: podFacts(pod(name)), options: opts, netns: `/run/netns/${name}` },
];

describe('podFacts', () => {
  it('reads uid, service account and addresses, with a name-based uid when the manifest has none', () => {
    expect(podFacts(pod('a', { uid: 'u-1' }))).toEqual({ key: 'Pod/default/a', uid: 'u-1', name: 'a', namespace: 'default', serviceAccount: 'sa', ips: ['10.0.0.5', 'fd00::5'] });
    expect(podFacts(pod('a')).uid).toBe('default/a');
  });
});

describe('planEnrollment', () => {
  const netns = new Map([['Pod/default/a', '/run/netns/a'], ['Pod/default/b', '/run/netns/b']]);

  it('enrolls ambient pods on this node that have a netns, and waits for the rest', () => {
    const plan = planEnrollment(
      [pod('a'), pod('b', { node: 'node-b' }), pod('c')],
      new Map([ns('default', AMBIENT)]),
      'node-a',
      netns,
      new Map(),
      options,
    );
    expect(plan.enroll.map((e) => [e.pod.key, e.netns])).toEqual([['Pod/default/a', '/run/netns/a']]);
    expect(plan.waiting).toEqual([{ key: 'Pod/default/c', uid: 'default/c', reason: expect.stringContaining('no network namespace') }]);
    expect(plan.unenroll).toEqual([]);
  });

  it('unenrolls when the namespace label goes, the pod opts out, or the pod is deleted', () => {
    const current = new Map([enrolled('a'), enrolled('b'), enrolled('gone')]);
    const plan = planEnrollment(
      [pod('a'), pod('b', { labels: { 'istio.io/dataplane-mode': 'none' } })],
      new Map([ns('default')]),
      'node-a',
      netns,
      current,
      options,
    );
    expect(plan.unenroll.map((e) => e.pod.key).sort()).toEqual(['Pod/default/a', 'Pod/default/b', 'Pod/default/gone']);
    expect(plan.enroll).toEqual([]);
  });

  it('changes nothing for an enrolled pod with the same options, and updates one whose options changed', () => {
    const same = planEnrollment([pod('a')], new Map([ns('default', AMBIENT)]), 'node-a', netns, new Map([enrolled('a')]), options);
    expect(same).toEqual({ enroll: [], update: [], unenroll: [], waiting: [] });
    const changed = planEnrollment(
      [pod('a', { annotations: { 'ambient.istio.io/dns-capture': 'false' } })],
      new Map([ns('default', AMBIENT)]),
      'node-a',
      netns,
      new Map([enrolled('a')]),
      options,
    );
    expect(changed.update.map((u) => [u.pod.key, u.options.dnsCapture, u.netns])).toEqual([['Pod/default/a', false, '/run/netns/a']]);
  });

  it('re-applies rules when an enrolled pod gains an IPv6 address', () => {
    const v4Only: CurrentEnrollment = { pod: { ...podFacts(pod('a')), ips: ['10.0.0.5'] }, options: defaults, netns: '/run/netns/a' };
    const plan = planEnrollment([pod('a')], new Map([ns('default', AMBIENT)]), 'node-a', netns, new Map([['Pod/default/a', v4Only]]), options);
    expect(plan.update.map((u) => [u.pod.key, u.reason])).toEqual([['Pod/default/a', 'pod address families changed']]);
  });

  it('keeps a terminating pod enrolled until it is gone, and never enrolls one', () => {
    const terminating = (name: string): KubeObject => {
      const p = pod(name);
      return { ...p, metadata: { ...p.metadata, deletionTimestamp: '2026-12-01T00:00:00Z' } };
    };
    const kept = planEnrollment([terminating('a')], new Map([ns('default', AMBIENT)]), 'node-a', netns, new Map([enrolled('a')]), options);
    expect(kept).toEqual({ enroll: [], update: [], unenroll: [], waiting: [] });
    const fresh = planEnrollment([terminating('b')], new Map([ns('default', AMBIENT)]), 'node-a', netns, new Map(), options);
    expect(fresh).toEqual({ enroll: [], update: [], unenroll: [], waiting: [] });
    const deleted = planEnrollment([], new Map([ns('default', AMBIENT)]), 'node-a', netns, new Map([enrolled('a')]), options);
    expect(deleted.unenroll.map((e) => e.pod.key)).toEqual(['Pod/default/a']);
  });
});
