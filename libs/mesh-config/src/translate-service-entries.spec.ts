import type { KubeObject, KubeObjectMeta } from './kube-object';
import { authorizationPolicy, namespace, pod, service, waypointGateway, waypointPod } from '../test/translation/kube-builders';
import { buildInventory } from './translate-inventory';
import { translateMesh } from './translate-mesh';
import {
  selectServiceEntryServices,
  serviceEntryAppProtocol,
  serviceEntryVip,
  translateServiceEntry,
  translateServiceEntryWorkloads,
} from './translate-service-entries';
import { translateSettings } from './translate-types';
import { collectWaypoints } from './translate-waypoints';

const settings = translateSettings();

function serviceEntry(name: string, spec: Record<string, unknown>, meta: Partial<KubeObjectMeta> = {}, status?: unknown): KubeObject {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'ServiceEntry',
    metadata: { namespace: 'default', ...meta, name },
    spec,
    ...(status === undefined ? {} : { status }),
  };
}

const external = (spec: Record<string, unknown> = {}, meta: Partial<KubeObjectMeta> = {}, status?: unknown): KubeObject =>
  serviceEntry('ext', { hosts: ['api.example.com'], ports: [{ number: 443, name: 'https', protocol: 'TLS' }], resolution: 'DNS', ...spec }, meta, status);

function services(se: KubeObject, others: KubeObject[] = []) {
  const inventory = buildInventory([se, ...others]);
  return translateServiceEntry(se, inventory, collectWaypoints(inventory, settings), settings);
}

function workloads(se: KubeObject, others: KubeObject[] = []) {
  const result = translateMesh({ objects: [se, ...others] });
  return { workloads: result.workloads.filter((w) => w.uid.includes('/ServiceEntry/')), messages: result.messages };
}

describe('translateServiceEntry: one Service per host (services.go constructServiceEntries)', () => {
  it('names each Service after the ServiceEntry with the host as hostname', () => {
    const { services: out, messages } = services(external({ hosts: ['a.example.com', 'b.example.com'], subjectAltNames: ['spiffe://x/ns/a/sa/b'] }));
    expect(messages).toEqual([]);
    expect(out.map((s) => s.service)).toEqual(
      ['a.example.com', 'b.example.com'].map((hostname) => ({
        name: 'ext',
        namespace: 'default',
        hostname,
        vips: [],
        ports: [{ servicePort: 443, targetPort: 443, appProtocol: 'TLS' }],
        subjectAltNames: ['spiffe://x/ns/a/sa/b'],
        ipFamilies: 'AUTOMATIC',
        canonical: false,
        ingressUseWaypoint: false,
        weightedWaypoints: [],
        visibility: 'PUBLIC',
      })),
    );
  });

  it.each([
    ['an IP', '192.0.2.10', { network: '', address: '192.0.2.10' }],
    ['a CIDR, masked, with its length', '10.1.2.3/16', { network: '', address: '10.1.0.0', length: 16 }],
    ['a host CIDR as a plain address', '10.1.2.3/32', { network: '', address: '10.1.2.3' }],
    ['an IPv6 CIDR', '2001:db8::1/64', { network: '', address: '2001:db8::', length: 64 }],
    ['a non-octet IPv4 prefix', '10.1.255.3/20', { network: '', address: '10.1.240.0', length: 20 }],
  ])('maps spec.addresses: %s (helpers.go toNetworkAddressFromCidr)', (_, text, expected) => {
    expect(serviceEntryVip(text, '')).toEqual(expected);
  });

  it('sends nothing for the ServiceEntry when an address does not parse, and says so', () => {
    const out = services(external({ addresses: ['10.0.0.1', 'nope'] }));
    expect(out.services).toEqual([]);
    expect(out.messages).toEqual([expect.objectContaining({ code: 'WARN_SE_ADDRESS_INVALID', field: 'spec.addresses[1]' })]);
  });

  const allocated = { addresses: [{ host: 'api.example.com', value: '240.240.0.1' }, { host: 'other.example.com', value: '240.240.0.2' }, { host: 'api.example.com', value: '2001:2::1' }] };
  it.each([
    ['status.addresses of its host when spec.addresses is empty', {}, {}, ['240.240.0.1', '2001:2::1']],
    ['spec.addresses instead when set', { addresses: ['192.0.2.1'] }, {}, ['192.0.2.1']],
    ['none for resolution NONE', { resolution: 'NONE' }, {}, []],
    ['none with the opt-out label', {}, { 'networking.istio.io/enable-autoallocate-ip': 'False' }, []],
  ])('takes auto-allocated VIPs from %s (ip_autoallocation.go)', (_, spec, labels, expected) => {
    const out = services(external(spec, { labels }, allocated));
    expect(out.services[0]?.service.vips.map((v) => v.address)).toEqual(expected);
  });

  it('keeps a wildcard host (istiod does) without auto-allocated VIPs, and warns that ztunnel cannot capture it', () => {
    const out = services(external({ hosts: ['*.example.com'] }, {}, { addresses: [{ host: '*.example.com', value: '240.240.0.9' }] }));
    expect(out.services.map((s) => [s.service.hostname, s.service.vips])).toEqual([['*.example.com', []]]);
    expect(out.messages).toEqual([expect.objectContaining({ code: 'WARN_SE_WILDCARD_HOST_NO_VIP', field: 'spec.hosts[0]' })]);
    expect(services(external({ hosts: ['*.example.com'], addresses: ['10.9.0.0/16'] })).messages).toEqual([]);
  });

  it.each([
    ['HTTP', 'HTTP11'],
    ['http', 'HTTP11'],
    ['HTTP2', 'HTTP2'],
    ['GRPC', 'GRPC'],
    ['GRPC-WEB', 'UNKNOWN'],
    ['TLS', 'TLS'],
    ['HTTPS', 'TLS'],
    ['TCP', 'TCP'],
    ['tcp', 'TCP'],
    ['MONGO', 'UNKNOWN'],
    [undefined, 'UNKNOWN'],
  ])('maps port protocol %s to appProtocol %s (workloads.go toAppProtocolFromProtocol)', (protocol, expected) => {
    expect(serviceEntryAppProtocol(protocol)).toBe(expected);
  });

  it('keeps targetPort, defaulting it to the port number', () => {
    const out = services(external({ ports: [{ number: 80, name: 'http', protocol: 'HTTP', targetPort: 8080 }, { number: 81, name: 'tcp' }] }));
    expect(out.services[0]?.service.ports).toEqual([
      { servicePort: 80, targetPort: 8080, appProtocol: 'HTTP11' },
      { servicePort: 81, targetPort: 81, appProtocol: 'UNKNOWN' },
    ]);
  });

  it.each([
    ['NONE', {}, { routingPreference: [], mode: 'PASSTHROUGH', healthPolicy: 'ALLOW_ALL' }],
    ['STATIC', {}, undefined],
    ['DNS', { 'networking.istio.io/traffic-distribution': 'PreferClose' }, { routingPreference: ['NETWORK', 'REGION', 'ZONE'], mode: 'FAILOVER', healthPolicy: 'ONLY_HEALTHY' }],
    ['NONE', { 'networking.istio.io/traffic-distribution': 'PreferClose' }, { routingPreference: [], mode: 'PASSTHROUGH', healthPolicy: 'ALLOW_ALL' }],
  ])('resolution %s with annotations %j ⇒ loadBalancing %j', (resolution, annotations, expected) => {
    expect(services(external({ resolution }, { annotations })).services[0]?.service.loadBalancing).toEqual(expected);
  });

  it('ignores location: MESH_INTERNAL and MESH_EXTERNAL give the same Service', () => {
    const of = (location: string) => services(external({ location })).services.map((s) => s.service);
    expect(of('MESH_INTERNAL')).toEqual(of('MESH_EXTERNAL'));
  });

  describe('waypoint binding (istio.io/use-waypoint on the ServiceEntry, else its namespace)', () => {
    const ready = [waypointGateway('egress', { namespace: 'istio-egress' }, { listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE', allowedRoutes: { namespaces: { from: 'All' } } }] }), waypointPod('egress', 'istio-egress')];
    const egress = { kind: 'hostname', namespace: 'istio-egress', hostname: 'egress.istio-egress.svc.cluster.local' };

    it.each([
      ['its own label', { 'istio.io/use-waypoint': 'egress', 'istio.io/use-waypoint-namespace': 'istio-egress' }, {}, egress],
      ['the namespace label', {}, { 'istio.io/use-waypoint': 'egress', 'istio.io/use-waypoint-namespace': 'istio-egress' }, egress],
      ['none opting out of the namespace', { 'istio.io/use-waypoint': 'none' }, { 'istio.io/use-waypoint': 'egress', 'istio.io/use-waypoint-namespace': 'istio-egress' }, undefined],
    ])('binds from %s', (_, labels, nsLabels, expected) => {
      const out = services(external({}, { labels }), [namespace('default', nsLabels), ...ready]);
      expect(out.services[0]?.service.waypoint?.destination).toEqual(expected);
    });

    it('sets ingressUseWaypoint only with a bound waypoint', () => {
      const labels = { 'istio.io/use-waypoint': 'egress', 'istio.io/use-waypoint-namespace': 'istio-egress', 'istio.io/ingress-use-waypoint': 'true' };
      expect(services(external({}, { labels }), ready).services[0]?.service.ingressUseWaypoint).toBe(true);
      expect(services(external({}, { labels: { 'istio.io/ingress-use-waypoint': 'true' } }), ready).services[0]?.service.ingressUseWaypoint).toBe(false);
    });

    it('says why a missing waypoint is not bound', () => {
      const out = services(external({}, { labels: { 'istio.io/use-waypoint': 'missing' } }));
      expect(out.messages.map((m) => m.code)).toEqual(['WARN_WAYPOINT_NOT_FOUND']);
    });
  });
});

describe('selectServiceEntryServices (services.go selectWorkloadServices)', () => {
  const named = (name: string, meta: Partial<KubeObjectMeta>) => serviceEntry(name, external().spec as Record<string, unknown>, meta);
  const older = named('older', { creationTimestamp: '2024-01-01T00:00:00Z' });
  const newer = named('newer', { creationTimestamp: '2024-06-01T00:00:00Z' });
  const elsewhere = named('elsewhere', { namespace: 'other', creationTimestamp: '2024-03-01T00:00:00Z' });

  it('keeps the oldest ServiceEntry per namespace and hostname, and makes the oldest winner canonical', () => {
    const candidates = [newer, elsewhere, older].flatMap((se) => services(se).services);
    const { selected, messages } = selectServiceEntryServices([], candidates);
    expect(selected.map((s) => [s.service.namespace, s.service.name, s.service.canonical])).toEqual([
      ['default', 'older', true],
      ['other', 'elsewhere', false],
    ]);
    expect(messages).toEqual([expect.objectContaining({ object: 'ServiceEntry default/newer', code: 'WARN_SE_HOST_SHADOWED' })]);
  });

  it('lets a Kubernetes Service win its namespace and the canonical flag', () => {
    const kube = services(serviceEntry('x', { hosts: ['web.default.svc.cluster.local'] })).services;
    const seDefault = services(serviceEntry('shadow', { hosts: ['web.default.svc.cluster.local'] })).services;
    const seOther = services(serviceEntry('shadow', { hosts: ['web.default.svc.cluster.local'] }, { namespace: 'other' })).services;
    const kubeService = { ...kube[0]!.service, name: 'web', canonical: true };
    const { selected } = selectServiceEntryServices([kubeService], [...seDefault, ...seOther]);
    expect(selected.map((s) => [s.service.namespace, s.service.canonical])).toEqual([['other', false]]);
  });

  it('drops the endpoints of a ServiceEntry whose every host lost (translateMesh)', () => {
    const objects = [service('web', { clusterIP: '10.96.0.1' }), serviceEntry('shadow', { hosts: ['web.default.svc.cluster.local'], resolution: 'STATIC', endpoints: [{ address: '10.0.0.5' }] })];
    const result = translateMesh({ objects });
    expect(result.services.map((s) => s.name)).toEqual(['web']);
    expect(result.workloads).toEqual([]);
  });
});

describe('ServiceEntry endpoints → Workloads (workloads.go serviceEntryWorkloadBuilder)', () => {
  it('maps every endpoint field', () => {
    const se = external(
      {
        hosts: ['db.example.com'],
        ports: [{ number: 5432, name: 'tcp-pg', protocol: 'TCP' }, { number: 9000, name: 'admin', protocol: 'HTTP', targetPort: 9001 }],
        resolution: 'STATIC',
        endpoints: [
          { address: '192.0.2.1', ports: { 'tcp-pg': 15432 }, network: 'vm-net', locality: 'us-east1/us-east1-b', weight: 3, serviceAccount: 'db', labels: { tier: 'db' } },
          { address: '2001:db8::0001' },
        ],
      },
      { labels: { app: 'database', version: 'v2' }, annotations: { 'ambient.istio.io/redirection': 'enabled' } },
    );
    const { workloads: out, messages } = workloads(se);
    expect(messages).toEqual([]);
    expect(out).toEqual([
      {
        uid: 'Kubernetes/networking.istio.io/ServiceEntry/default/ext/192.0.2.1',
        name: 'ext',
        namespace: 'default',
        addresses: ['192.0.2.1'],
        hostname: '',
        network: 'vm-net',
        tunnelProtocol: 'HBONE',
        nativeTunnel: false,
        trustDomain: 'cluster.local',
        serviceAccount: 'db',
        node: '',
        canonicalName: 'database',
        canonicalRevision: 'v2',
        workloadType: 'POD',
        workloadName: 'ext',
        services: {
          'default/db.example.com': [
            { servicePort: 5432, targetPort: 15432, appProtocol: 'UNKNOWN' },
            { servicePort: 9000, targetPort: 9001, appProtocol: 'UNKNOWN' },
          ],
        },
        authorizationPolicies: [],
        status: 'HEALTHY',
        clusterId: 'Kubernetes',
        locality: { region: 'us-east1', zone: 'us-east1-b', subzone: '' },
        networkMode: 'STANDARD',
        capacity: 3,
      },
      expect.objectContaining({
        uid: 'Kubernetes/networking.istio.io/ServiceEntry/default/ext/2001:db8::0001',
        addresses: ['2001:db8::1'],
        network: '',
        // No service account on the endpoint: istiod sends "" (consumers read it as `default`).
        serviceAccount: '',
        capacity: 1,
        services: { 'default/db.example.com': [{ servicePort: 5432, targetPort: 5432, appProtocol: 'UNKNOWN' }, { servicePort: 9000, targetPort: 9001, appProtocol: 'UNKNOWN' }] },
      }),
    ]);
    expect(out[1]).not.toHaveProperty('locality');
  });

  it('gives a DNS endpoint a hostname instead of addresses', () => {
    const { workloads: out } = workloads(external({ endpoints: [{ address: 'backend.internal' }] }));
    expect(out.map((w) => [w.uid, w.addresses, w.hostname])).toEqual([['Kubernetes/networking.istio.io/ServiceEntry/default/ext/backend.internal', [], 'backend.internal']]);
  });

  it('makes each host its own endpoint for DNS resolution without endpoints or workloadSelector', () => {
    const { workloads: out } = workloads(external({ hosts: ['a.example.com', 'b.example.com'] }));
    expect(out.map((w) => [w.uid, w.hostname, Object.keys(w.services)])).toEqual([
      ['Kubernetes/networking.istio.io/ServiceEntry/default/ext/a.example.com', 'a.example.com', ['default/a.example.com']],
      ['Kubernetes/networking.istio.io/ServiceEntry/default/ext/b.example.com', 'b.example.com', ['default/b.example.com']],
    ]);
  });

  it.each(['NONE', 'STATIC'])('has no implicit endpoints for resolution %s', (resolution) => {
    expect(workloads(external({ resolution })).workloads).toEqual([]);
  });

  it('binds an endpoint to a workload waypoint through its own labels, and lists policies selecting the ServiceEntry labels', () => {
    const gateway = waypointGateway('wp', {}, { listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] });
    const wp = { ...gateway, metadata: { ...gateway.metadata, labels: { 'istio.io/waypoint-for': 'workload' } } };
    const policy: KubeObject = {
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: { namespace: 'default', name: 'db-only' },
      spec: { selector: { matchLabels: { app: 'database' } }, rules: [{ from: [{ source: { namespaces: ['default'] } }] }] },
    };
    const se = external({ resolution: 'STATIC', endpoints: [{ address: '192.0.2.1', labels: { 'istio.io/use-waypoint': 'wp' } }, { address: '192.0.2.2', labels: { 'istio.io/use-waypoint': 'missing' } }] }, { labels: { app: 'database' } });
    const { workloads: out, messages } = workloads(se, [wp, waypointPod('wp'), policy]);
    expect(out.map((w) => w.waypoint?.destination)).toEqual([{ kind: 'hostname', namespace: 'default', hostname: 'wp.default.svc.cluster.local' }, undefined]);
    expect(out.map((w) => w.authorizationPolicies)).toEqual([['default/db-only'], ['default/db-only']]);
    expect(messages).toEqual([expect.objectContaining({ object: 'ServiceEntry default/ext', field: 'spec.endpoints[1].labels.istio.io/use-waypoint', code: 'WARN_WAYPOINT_NOT_FOUND' })]);
  });

  it('uses the first of two endpoints with the same address, and warns about it and about unix sockets', () => {
    const { workloads: out, messages } = workloads(external({ resolution: 'STATIC', endpoints: [{ address: '192.0.2.1', weight: 2 }, { address: '192.0.2.1' }, { address: 'unix:///var/run/a.sock' }] }));
    expect(out.map((w) => [w.uid.split('/').pop(), w.capacity, w.hostname])).toEqual([
      ['192.0.2.1', 2, ''],
      ['a.sock', 1, 'unix:///var/run/a.sock'],
    ]);
    expect(messages.map((m) => [m.field, m.code])).toEqual([
      ['spec.endpoints[1].address', 'WARN_SE_ENDPOINT_DUPLICATE'],
      ['spec.endpoints[2].address', 'WARN_SE_UNIX_ENDPOINT'],
    ]);
  });

  it("attaches policies as istiod does: by the ServiceEntry's own labels, and every selector policy when it has none", () => {
    const policies = [
      authorizationPolicy('web-only', { selector: { matchLabels: { app: 'web' } }, rules: [{}] }),
      authorizationPolicy('mesh-db', { selector: { matchLabels: { app: 'db' } }, rules: [{}] }, { namespace: 'istio-system' }),
      authorizationPolicy('elsewhere', { selector: { matchLabels: { app: 'db' } }, rules: [{}] }, { namespace: 'other' }),
      authorizationPolicy('namespace-wide', { rules: [{}] }),
    ];
    const keys = (se: KubeObject): readonly string[] | undefined => workloads(se, policies).workloads[0]?.authorizationPolicies;
    const endpoints = { endpoints: [{ address: '192.0.2.1', labels: { app: 'web' } }] };
    expect(keys(external(endpoints))).toEqual(['default/web-only', 'istio-system/mesh-db']);
    expect(keys(external(endpoints, { labels: { app: 'db' } }))).toEqual(['istio-system/mesh-db']);
  });

  it('sends no endpoints without surviving Services', () => {
    const se = external({ endpoints: [{ address: '192.0.2.1' }] });
    expect(translateServiceEntryWorkloads(se, [], { inventory: buildInventory([se]), waypoints: new Map(), selectorPolicies: [], peerAuthentications: [], settings }).workloads).toEqual([]);
  });
});

describe('workloadSelector: selected Pods gain the ServiceEntry hosts (workloads.go constructServices)', () => {
  const se = serviceEntry('mesh-svc', {
    hosts: ['api.internal', 'api-alias.internal'],
    ports: [{ number: 80, name: 'http', protocol: 'HTTP', targetPort: 8080 }, { number: 90, name: 'metrics' }],
    resolution: 'STATIC',
    workloadSelector: { labels: { app: 'api' } },
  });
  const apiPod = pod('api-1', { labels: { app: 'api' } }, { ip: '10.0.0.7', spec: { containers: [{ name: 'app', ports: [{ name: 'http', containerPort: 8888 }, { name: 'metrics', containerPort: 9999, protocol: 'UDP' }] }] } });

  it('maps a port to the container port of the same name (TCP only), else the ServiceEntry targetPort', () => {
    const result = translateMesh({ objects: [se, apiPod, pod('other', { labels: { app: 'web' } }, { ip: '10.0.0.8' })] });
    const ports = [
      { servicePort: 80, targetPort: 8888, appProtocol: 'UNKNOWN' },
      { servicePort: 90, targetPort: 90, appProtocol: 'UNKNOWN' },
    ];
    expect(result.workloads.map((w) => [w.name, w.services])).toEqual([
      ['api-1', { 'default/api-alias.internal': ports, 'default/api.internal': ports }],
      ['other', {}],
    ]);
  });

  it('selects only Pods of its own namespace, and nothing with an empty selector', () => {
    const otherNs = { ...apiPod, metadata: { ...apiPod.metadata, namespace: 'other' } };
    const empty = serviceEntry('mesh-svc', { ...(se.spec as Record<string, unknown>), workloadSelector: { labels: {} } });
    expect(translateMesh({ objects: [se, otherNs] }).workloads[0]?.services).toEqual({});
    expect(translateMesh({ objects: [empty, apiPod] }).workloads[0]?.services).toEqual({});
  });
});
