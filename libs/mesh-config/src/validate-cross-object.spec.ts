import { kubeObject, summary } from '../test/validation/objects';
import { validateObjects } from './validate-objects';

const vs = (name: string, hosts: readonly string[], created?: string, ns = 'default') =>
  kubeObject('VirtualService', name, { hosts, http: [{ route: [{ destination: { host: hosts[0] } }] }] },
    created === undefined ? { namespace: ns } : { namespace: ns, creationTimestamp: created });
const route = (name: string, service: string, created?: string) =>
  kubeObject('HTTPRoute', name, { parentRefs: [{ group: '', kind: 'Service', name: service }], rules: [{ backendRefs: [{ name: service, port: 80 }] }] },
    created === undefined ? {} : { creationTimestamp: created });
const policy = (ports: readonly string[], matchLabels: Record<string, string> = { app: 'web' }) =>
  kubeObject('AuthorizationPolicy', 'web-access', { selector: { matchLabels }, rules: [{ to: [{ operation: { ports } }] }] });
const service = (ports: readonly Record<string, unknown>[], selector: Record<string, string> = { app: 'web' }) => kubeObject('Service', 'web', { selector, ports });
const pod = (labels: Record<string, string>, containerPorts: readonly Record<string, unknown>[] = []) =>
  kubeObject('Pod', 'web-1', { containers: [{ name: 'c', ports: containerPorts }] }, { labels });

describe('AuthorizationPolicy ports vs Service ports', () => {
  const cases: readonly (readonly [string, readonly unknown[], readonly string[]])[] = [
    ['a Service port that is not a target port', [policy(['8000']), service([{ port: 8000, targetPort: 80 }])],
      ['warning WARN_AUTHZ_SERVICE_PORT spec.rules[0].to[0].operation.ports[0]']],
    ['the target port is fine', [policy(['80']), service([{ port: 8000, targetPort: 80 }])], []],
    ['port equal to target port', [policy(['8080']), service([{ port: 8080 }])], []],
    ['a port that is both a Service port and another target port', [policy(['80']), service([{ port: 80, targetPort: 8080 }, { port: 81, targetPort: 80 }])], []],
    ['a Service in another namespace', [policy(['8000']), { ...service([{ port: 8000, targetPort: 80 }]), metadata: { name: 'web', namespace: 'other' } }], []],
    ['a Service selecting other pods', [policy(['8000']), service([{ port: 8000, targetPort: 80 }], { app: 'db' })], []],
    ['named targetPort resolved from a Pod', [policy(['8000'], { app: 'web' }), service([{ port: 8000, targetPort: 'http' }], { app: 'web', tier: 'fe' }),
      pod({ app: 'web', tier: 'fe' }, [{ name: 'http', containerPort: 9090 }])],
      ['warning WARN_AUTHZ_SERVICE_PORT spec.rules[0].to[0].operation.ports[0]']],
    ['a policy without selector is not checked', [kubeObject('AuthorizationPolicy', 'ns-wide', { rules: [{ to: [{ operation: { ports: ['8000'] } }] }] }),
      service([{ port: 8000, targetPort: 80 }])], []],
  ];
  it.each(cases)('%s', (_name, objects, expected) => {
    expect(summary(validateObjects(objects as never).messages)).toEqual(expected);
  });

  it('says which port to use', () => {
    const { messages } = validateObjects([policy(['8000']), service([{ port: 8000, targetPort: 'http' }]), pod({ app: 'web' }, [{ name: 'http', containerPort: 9090 }])]);
    expect(messages[0]?.message).toBe("port 8000 is a Service port of web (default/web); Istio matches the workload's target port, so this rule will not match — use port 9090");
  });
});

describe('VirtualService and HTTPRoute for one service', () => {
  it('rejects the later-created HTTPRoute', () => {
    const v = vs('reviews', ['reviews'], '2024-01-01T00:00:00Z');
    const r = route('reviews', 'reviews', '2024-02-01T00:00:00Z');
    const { valid, messages } = validateObjects([r, v]);
    expect(valid).toEqual([v]);
    expect(messages).toEqual([expect.objectContaining({ level: 'error', code: 'ERR_MIXED_VS_HTTPROUTE', object: 'HTTPRoute default/reviews', field: 'spec.parentRefs[0]' })]);
    expect(messages[0]?.message).toContain('mixing VirtualService and HTTPRoute for the same service is not supported');
  });

  it('rejects the later-created VirtualService, matching an FQDN host', () => {
    const v = vs('reviews', ['reviews.default.svc.cluster.local'], '2024-03-01T00:00:00Z');
    const r = route('reviews', 'reviews', '2024-02-01T00:00:00Z');
    const { valid, messages } = validateObjects([v, r]);
    expect(valid).toEqual([r]);
    expect(summary(messages)).toEqual(['error ERR_MIXED_VS_HTTPROUTE spec.hosts[0]']);
  });

  it('ignores a VirtualService bound only to an ingress gateway, and other namespaces', () => {
    const gw = { ...vs('reviews', ['reviews']), spec: { hosts: ['reviews'], gateways: ['ingress'], http: [{ route: [{ destination: { host: 'reviews' } }] }] } };
    expect(validateObjects([gw, route('r', 'reviews')]).messages).toEqual([]);
    expect(validateObjects([vs('reviews', ['reviews'], undefined, 'other'), route('r', 'reviews')]).messages).toEqual([]);
  });
});

describe('several VirtualServices for one host', () => {
  it('warns on all but the oldest (creationTimestamp, then name)', () => {
    const { valid, messages } = validateObjects([
      vs('a', ['reviews'], '2024-05-01T00:00:00Z'), vs('b', ['reviews'], '2024-01-01T00:00:00Z'), vs('c', ['reviews.default.svc.cluster.local'], '2024-01-01T00:00:00Z'),
    ]);
    expect(valid).toHaveLength(3);
    expect(messages.map((m) => `${m.code} ${m.object}`)).toEqual(['WARN_VS_DUPLICATE_HOST VirtualService default/c', 'WARN_VS_DUPLICATE_HOST VirtualService default/a']);
  });

  it('does not compare hosts across namespaces', () => {
    expect(validateObjects([vs('a', ['reviews']), vs('b', ['reviews'], undefined, 'other')]).messages).toEqual([]);
  });
});
