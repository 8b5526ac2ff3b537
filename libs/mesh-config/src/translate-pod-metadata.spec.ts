import { node, pod } from '../test/translation/kube-builders';
import { canonicalServiceOf, isTerminal, localityOf, podAddresses, statusOf, tunnelOf, workloadNameOf } from './translate-pod-metadata';

describe('workloadNameOf (istio GetDeployMetaFromPod)', () => {
  it.each([
    ['no owner: the pod name', undefined, {}, 'p'],
    ['ReplicaSet with pod-template-hash: the Deployment', { kind: 'ReplicaSet', name: 'web-5d9c7b6f4' }, { 'pod-template-hash': '5d9c7b6f4' }, 'web'],
    ['ReplicaSet without the hash label: the ReplicaSet', { kind: 'ReplicaSet', name: 'web-5d9c7b6f4' }, {}, 'web-5d9c7b6f4'],
    ['Job of a CronJob: the CronJob', { kind: 'Job', name: 'backup-28472640' }, {}, 'backup'],
    ['plain Job: the Job', { kind: 'Job', name: 'migrate' }, {}, 'migrate'],
    ['StatefulSet: the StatefulSet', { kind: 'StatefulSet', name: 'db' }, {}, 'db'],
  ])('%s', (_case, owner, labels, expected) => {
    const p = pod('p', { labels, ...(owner === undefined ? {} : { ownerReferences: [owner] }) });
    expect(workloadNameOf(p)).toBe(expected);
  });
});

describe('canonicalServiceOf (§4.2 fields 10, 11)', () => {
  it.each([
    [{ 'service.istio.io/canonical-name': 'c', 'app.kubernetes.io/name': 'k', app: 'a' }, 'c'],
    [{ 'app.kubernetes.io/name': 'k', app: 'a' }, 'k'],
    [{ app: 'a' }, 'a'],
    [{}, 'owner'],
  ])('name from %j is %s', (labels, expected) => {
    expect(canonicalServiceOf(pod('p', { labels }), 'owner').name).toBe(expected);
  });
  it.each([
    [{ 'service.istio.io/canonical-revision': 'r', 'app.kubernetes.io/version': 'k', version: 'v' }, 'r'],
    [{ 'app.kubernetes.io/version': 'k', version: 'v' }, 'k'],
    [{ version: 'v' }, 'v'],
    [{}, 'latest'],
  ])('revision from %j is %s', (labels, expected) => {
    expect(canonicalServiceOf(pod('p', { labels }), 'owner').revision).toBe(expected);
  });
});

describe('tunnelOf (§4.4, §5.1)', () => {
  it.each([
    ['redirection enabled', { annotations: { 'ambient.istio.io/redirection': 'enabled' } }, 'HBONE', false],
    ['redirection pending', { annotations: { 'ambient.istio.io/redirection': 'pending' } }, 'NONE', false],
    ['ambient label only (CNI has not acted yet)', { labels: { 'istio.io/dataplane-mode': 'ambient' } }, 'NONE', false],
    ['HBONE sidecar', { labels: { 'networking.istio.io/tunnel': 'http' } }, 'HBONE', true],
    ['nothing', {}, 'NONE', false],
  ])('%s', (_case, meta, protocol, native) => {
    expect(tunnelOf(pod('p', meta))).toEqual({ tunnelProtocol: protocol, nativeTunnel: native });
  });
});

describe('pod state', () => {
  it('is UNHEALTHY when not Ready or when being deleted', () => {
    expect(statusOf(pod('p'))).toBe('HEALTHY');
    expect(statusOf(pod('p', {}, { ready: false }))).toBe('UNHEALTHY');
    expect(statusOf(pod('p', { deletionTimestamp: '2026-01-01T00:00:00Z' }))).toBe('UNHEALTHY');
  });
  it('treats Succeeded and Failed as terminal', () => {
    expect(isTerminal(pod('p', {}, { phase: 'Succeeded' }))).toBe(true);
    expect(isTerminal(pod('p', {}, { phase: 'Failed' }))).toBe(true);
    expect(isTerminal(pod('p', {}, { phase: 'Running' }))).toBe(false);
  });
  it('reads podIPs (dual stack) before podIP, canonicalized', () => {
    const p = { ...pod('p'), status: { podIP: '10.0.0.1', podIPs: [{ ip: '10.0.0.1' }, { ip: 'FD00:0::1' }] } };
    expect(podAddresses(p)).toEqual(['10.0.0.1', 'fd00::1']);
    expect(podAddresses(pod('p', {}, { ip: null }))).toEqual([]);
  });
});

describe('localityOf (istiod getPodLocality)', () => {
  it('takes region, zone and subzone from the Node labels', () => {
    const n = node('n', { 'topology.kubernetes.io/region': 'r', 'topology.kubernetes.io/zone': 'z', 'topology.istio.io/subzone': 's' });
    expect(localityOf(n)).toEqual({ region: 'r', zone: 'z', subzone: 's' });
  });
  it('is absent without a Node or without topology labels', () => {
    expect(localityOf(undefined)).toBeUndefined();
    expect(localityOf(node('n', { other: 'x' }))).toBeUndefined();
  });
});
