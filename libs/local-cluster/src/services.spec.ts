import { endpointsOf, hostsFile, natRules, podInfo, resolvConf, serviceInfo, serviceNames, type PodInfo, type ServiceInfo } from './services';

const svc = (over: Partial<ServiceInfo> = {}): ServiceInfo => ({
  namespace: 'default',
  name: 'httpbin',
  clusterIp: '10.96.0.10',
  selector: { app: 'httpbin' },
  ports: [{ name: 'http', port: 8000, protocol: 'TCP', targetPort: 80 }],
  ...over,
});

const pod = (name: string, ip: string, over: Partial<PodInfo> = {}): PodInfo => ({ namespace: 'default', name, labels: { app: 'httpbin' }, ip, ready: true, namedPorts: {}, ...over });

describe('serviceInfo / podInfo', () => {
  it('reads a Service: clusterIP, selector, ports with numeric, string-numeric, named and defaulted target ports', () => {
    expect(
      serviceInfo({
        kind: 'Service',
        metadata: { name: 'web', namespace: 'shop' },
        spec: { clusterIP: '10.96.0.11', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }, { name: 'metrics', port: 9090, targetPort: '9091' }, { port: 81, targetPort: 'http' }, { port: 53, protocol: 'UDP' }] },
      }),
    ).toEqual({
      namespace: 'shop',
      name: 'web',
      clusterIp: '10.96.0.11',
      selector: { app: 'web' },
      ports: [
        { name: undefined, port: 80, protocol: 'TCP', targetPort: 8080 },
        { name: 'metrics', port: 9090, protocol: 'TCP', targetPort: 9091 },
        { name: undefined, port: 81, protocol: 'TCP', targetPort: 'http' },
        { name: undefined, port: 53, protocol: 'UDP', targetPort: 53 },
      ],
    });
  });

  it('treats a headless Service as having no ClusterIP, and other kinds as no Service', () => {
    expect(serviceInfo({ kind: 'Service', metadata: { name: 'h' }, spec: { clusterIP: 'None' } })?.clusterIp).toBeUndefined();
    expect(serviceInfo({ kind: 'Pod', metadata: { name: 'p' } })).toBeUndefined();
  });

  it('reads a Pod: labels, podIP, readiness from the Ready condition, named container ports', () => {
    expect(
      podInfo({
        kind: 'Pod',
        metadata: { name: 'p', namespace: 'n', labels: { app: 'a' } },
        spec: { containers: [{ ports: [{ name: 'http', containerPort: 8080 }, { containerPort: 9 }] }] },
        status: { podIP: '10.244.1.2', conditions: [{ type: 'Ready', status: 'True' }] },
      }),
    ).toEqual({ namespace: 'n', name: 'p', labels: { app: 'a' }, ip: '10.244.1.2', ready: true, namedPorts: { http: 8080 } });
    expect(podInfo({ kind: 'Pod', metadata: { name: 'p' }, status: { conditions: [{ type: 'Ready', status: 'False' }] } })?.ready).toBe(false);
  });
});

describe('endpointsOf', () => {
  const port = svc().ports[0]!;
  it.each<[string, ServiceInfo, PodInfo[], string[]]>([
    ['Ready pods the selector matches, sorted', svc(), [pod('b', '10.244.2.2'), pod('a', '10.244.1.3')], ['10.244.1.3:80', '10.244.2.2:80']],
    ['not a pod that is not Ready', svc(), [pod('a', '10.244.1.3', { ready: false })], []],
    ['not a pod without an IP', svc(), [pod('a', '', { ip: undefined })], []],
    ['not a pod of another namespace', svc(), [pod('a', '10.244.1.3', { namespace: 'other' })], []],
    ['not a pod whose labels differ', svc(), [pod('a', '10.244.1.3', { labels: { app: 'web' } })], []],
    ['nothing for a Service without selector', svc({ selector: undefined }), [pod('a', '10.244.1.3')], []],
    ['nothing for an empty selector', svc({ selector: {} }), [pod('a', '10.244.1.3')], []],
  ])('%s', (_, service, pods, expected) => {
    expect(endpointsOf(service, port, pods).map((e) => `${e.ip}:${e.port}`)).toEqual(expected);
  });

  it('resolves a named target port per pod and leaves out pods that lack it', () => {
    const named = { name: undefined, port: 81, protocol: 'TCP', targetPort: 'http' };
    const pods = [pod('a', '10.244.1.3', { namedPorts: { http: 8080 } }), pod('b', '10.244.1.4')];
    expect(endpointsOf(svc(), named, pods)).toEqual([{ ip: '10.244.1.3', port: 8080 }]);
  });
});

describe('natRules', () => {
  it('spreads a ClusterIP port evenly over its endpoints and masquerades same-node hairpin traffic', () => {
    const rules = natRules([svc()], [pod('a', '10.244.1.3'), pod('b', '10.244.2.2'), pod('c', '10.244.2.3')], '10.244.1.0/24');
    const lines = rules.split('\n');
    const chain = /:(WEFT-SVC-[0-9A-F]{12}) /.exec(rules)?.[1] ?? '';
    expect(chain).not.toBe('');
    expect(lines).toEqual([
      '*nat',
      ':WEFT-SERVICES - [0:0]',
      ':WEFT-POSTROUTING - [0:0]',
      `:${chain} - [0:0]`,
      `-A WEFT-SERVICES -d 10.96.0.10/32 -p tcp -m tcp --dport 8000 -m comment --comment "default/httpbin:8000" -j ${chain}`,
      `-A ${chain} -p tcp -m statistic --mode random --probability 0.33333333333 -j DNAT --to-destination 10.244.1.3:80`,
      `-A ${chain} -p tcp -m statistic --mode random --probability 0.50000000000 -j DNAT --to-destination 10.244.2.2:80`,
      `-A ${chain} -p tcp -j DNAT --to-destination 10.244.2.3:80`,
      '-A WEFT-POSTROUTING -s 10.244.1.0/24 -d 10.244.1.0/24 -m conntrack --ctstate DNAT -j MASQUERADE',
      'COMMIT',
      '',
    ]);
  });

  it('has no rule for a Service without endpoints or without ClusterIP, but still declares (flushes) its chains', () => {
    const rules = natRules([svc({ name: 'empty' }), svc({ name: 'headless', clusterIp: undefined })], [], '10.244.1.0/24');
    expect(rules).not.toContain('WEFT-SVC-');
    expect(rules).toContain(':WEFT-SERVICES - [0:0]');
  });

  it('names chains stably per Service port', () => {
    const pods = [pod('a', '10.244.1.3')];
    expect(natRules([svc()], pods, '10.244.1.0/24')).toBe(natRules([svc()], pods, '10.244.1.0/24'));
    expect(/WEFT-SVC-\w+/.exec(natRules([svc()], pods, '10.244.1.0/24'))?.[0]).not.toBe(/WEFT-SVC-\w+/.exec(natRules([svc({ name: 'other' })], pods, '10.244.1.0/24'))?.[0]);
  });
});

describe('service names, hosts and resolv.conf', () => {
  it.each<[string, string[]]>([
    ['default', ['httpbin.default.svc.cluster.local', 'httpbin.default.svc', 'httpbin.default', 'httpbin']],
    ['other', ['httpbin.default.svc.cluster.local', 'httpbin.default.svc', 'httpbin.default']],
  ])('from a pod in %s', (namespace, names) => {
    expect(serviceNames(svc(), namespace)).toEqual(names);
  });

  it('writes the pod itself and every Service with a ClusterIP', () => {
    expect(hostsFile({ namespace: 'default', name: 'sleep-0', ip: '10.244.1.2' }, [svc(), svc({ name: 'headless', clusterIp: undefined })])).toBe(
      [
        '# Kubernetes-managed hosts file (Weft local cluster).',
        '127.0.0.1\tlocalhost',
        '::1\tlocalhost ip6-localhost ip6-loopback',
        '10.244.1.2\tsleep-0',
        '10.96.0.10\thttpbin.default.svc.cluster.local httpbin.default.svc httpbin.default httpbin',
        '',
      ].join('\n'),
    );
  });

  it("searches the pod's namespace first and fails fast for unknown names", () => {
    expect(resolvConf('shop')).toBe('search shop.svc.cluster.local svc.cluster.local cluster.local\nnameserver 127.0.0.1\noptions ndots:5 timeout:1 attempts:1\n');
  });
});
