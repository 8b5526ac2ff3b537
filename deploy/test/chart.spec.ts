// The Helm chart as a cluster would receive it: it lints, refuses bad values naming the field, renders objects the
// API server accepts field by field, ships the CRDs and grants the RBAC that the code watching and writing them
// needs, and wires the components to each other (names, addresses, sockets) consistently.

import { KUBE_RESOURCES, type ApiResource } from '@weft/config-source';
import { WAYPOINT_IMAGE, waypointGateway, waypointWorkloadObjects } from '@weft/mesh-config';
import { CHART_DIR, containerEnv, findObject, podSpec, renderChart, runHelm, structureProblems, templateChart, type RenderedObject } from '@weft/testing';

jest.setTimeout(60_000);

interface PolicyRule {
  readonly apiGroups?: readonly string[];
  readonly resources?: readonly string[];
  readonly verbs: readonly string[];
}

function rules(role: RenderedObject): readonly PolicyRule[] {
  return (role['rules'] as PolicyRule[] | undefined) ?? [];
}

function allows(role: RenderedObject, group: string, resource: string, verb: string): boolean {
  return rules(role).some((rule) => (rule.apiGroups ?? []).includes(group) && (rule.resources ?? []).includes(resource) && rule.verbs.includes(verb));
}

const isIstioResource = (resource: ApiResource): boolean => resource.group.endsWith('.istio.io');

const fields = { 'metadata.name': 'pod-0', 'metadata.namespace': 'istio-system', 'spec.nodeName': 'node-a', 'status.podIP': '10.0.0.7' };
const GATEWAY_CLASS_API = 'gateway.networking.k8s.io/v1/GatewayClass';

describe('the Helm chart', () => {
  let objects: RenderedObject[];
  beforeAll(async () => {
    objects = await renderChart();
  });

  it('passes helm lint --strict', async () => {
    const lint = await runHelm(['lint', CHART_DIR, '--strict']);
    expect(lint.stderr).toBe('');
    expect(lint.ok).toBe(true);
  });

  it.each<[string, Record<string, string>, string]>([
    ['a negative number of controlplane replicas', { 'controlplane.replicas': '-1' }, "at '/controlplane/replicas': minimum: got -1, want 0"],
    ['an unknown setting', { 'ztunnel.logLevel': 'debug' }, "at '/ztunnel': additional properties 'logLevel' not allowed"],
    ['a trust domain that is not a DNS name', { 'meshConfig.trustDomain': 'Bad_Domain' }, "at '/meshConfig/trustDomain'"],
    ['an unknown log level', { 'global.logLevel': 'verbose' }, "at '/global/logLevel'"],
    ['a relative CNI directory', { 'cni.binDir': 'opt/cni/bin' }, "at '/cni/binDir'"],
    ['an unknown iptables backend', { 'cni.iptablesBackend': 'ebpf' }, "at '/cni/iptablesBackend'"],
  ])('refuses %s, naming the field', async (_name, set, message) => {
    const result = await templateChart({ set });
    expect(result.ok).toBe(false);
    expect(result.stderr).toContain(message);
  });

  it('renders only fields the Kubernetes API knows, with the right types', async () => {
    const withGatewayApi = await renderChart({ apiVersions: [GATEWAY_CLASS_API] });
    const builtIn = withGatewayApi.filter((object) => object.kind !== 'GatewayClass');
    expect(await structureProblems(builtIn)).toEqual([]);
    // The waypoint objects the controlplane creates are held to the same standard.
    expect(await structureProblems(waypointWorkloadObjects(waypointGateway({ namespace: 'demo' })) as unknown as RenderedObject[])).toEqual([]);
  });

  it('puts every namespaced object in the release namespace and labels every object', async () => {
    const elsewhere = await renderChart({ namespace: 'mesh-system' });
    const clusterScoped = new Set(['CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding', 'GatewayClass']);
    for (const object of elsewhere) {
      expect([object.kind, object.metadata.namespace ?? '']).toEqual([object.kind, clusterScoped.has(object.kind) ? '' : 'mesh-system']);
      expect(object.metadata.labels?.['app.kubernetes.io/part-of']).toBe('weft');
    }
    // Cluster-scoped names carry the namespace, so two installs do not collide.
    expect(elsewhere.filter((o) => o.kind === 'ClusterRole').map((o) => o.metadata.name).sort()).toEqual(['weft-cni-mesh-system', 'weft-istiod-mesh-system']);
  });

  describe('CRDs', () => {
    const istio = KUBE_RESOURCES.filter(isIstioResource);

    it('has one CRD per Istio kind the controlplane watches, serving the version it watches', () => {
      const crds = objects.filter((object) => object.kind === 'CustomResourceDefinition');
      expect(crds.map((crd) => crd.metadata.name).sort()).toEqual(istio.map((r) => `${r.plural}.${r.group}`).sort());
      for (const resource of istio) {
        const crd = findObject(objects, 'CustomResourceDefinition', `${resource.plural}.${resource.group}`);
        const spec = crd['spec'] as { group: string; scope: string; names: { kind: string; plural: string }; versions: { name: string; served: boolean; storage: boolean; subresources?: { status?: object }; schema: { openAPIV3Schema: { properties: Record<string, Record<string, unknown>> } } }[] };
        expect([spec.group, spec.scope, spec.names.kind, spec.names.plural]).toEqual([resource.group, 'Namespaced', resource.kind, resource.plural]);
        expect(spec.versions.find((v) => v.name === resource.version)?.served).toBe(true);
        expect(spec.versions.filter((v) => v.storage)).toHaveLength(1);
        for (const version of spec.versions) {
          // Validation messages go to status; spec keeps every field so the controlplane can report, not drop, them.
          expect(version.subresources?.status).toEqual({});
          expect(version.schema.openAPIV3Schema.properties['spec']?.['x-kubernetes-preserve-unknown-fields']).toBe(true);
        }
        expect(crd.metadata.annotations?.['helm.sh/resource-policy']).toBe('keep');
      }
    });

    it('leaves CRDs out when Istio already installed them', async () => {
      const without = await renderChart({ set: { 'crds.install': 'false' } });
      expect(without.filter((object) => object.kind === 'CustomResourceDefinition')).toEqual([]);
    });
  });

  it('creates the istio-waypoint GatewayClass only where the Gateway API is installed', async () => {
    expect(objects.some((object) => object.kind === 'GatewayClass')).toBe(false);
    const withGatewayApi = await renderChart({ apiVersions: [GATEWAY_CLASS_API] });
    const gatewayClass = findObject(withGatewayApi, 'GatewayClass', 'istio-waypoint');
    expect(gatewayClass['spec']).toMatchObject({ controllerName: 'istio.io/mesh-controller' });
  });

  describe("the controlplane's RBAC", () => {
    it('lets it list and watch every kind it watches, and write the status of the Istio kinds', () => {
      const role = findObject(objects, 'ClusterRole', 'weft-istiod-istio-system');
      for (const resource of KUBE_RESOURCES) {
        for (const verb of ['get', 'list', 'watch']) expect([resource.plural, verb, allows(role, resource.group, resource.plural, verb)]).toEqual([resource.plural, verb, true]);
        if (isIstioResource(resource)) expect([resource.plural, allows(role, resource.group, `${resource.plural}/status`, 'patch')]).toEqual([resource.plural, true]);
      }
      expect(allows(role, 'gateway.networking.k8s.io', 'gateways/status', 'patch')).toBe(true);
      expect(allows(role, 'authentication.k8s.io', 'tokenreviews', 'create')).toBe(true);
      for (const verb of ['get', 'list', 'watch', 'create', 'patch']) expect([verb, allows(role, '', 'configmaps', verb)]).toEqual([verb, true]);
      // The self-signed root: read, and created once, in its own namespace only; so is the leader Lease.
      const own = findObject(objects, 'Role', 'weft-istiod');
      expect(own.metadata.namespace).toBe('istio-system');
      for (const verb of ['get', 'create']) expect([verb, allows(own, '', 'secrets', verb)]).toEqual([verb, true]);
      for (const verb of ['get', 'create', 'update']) expect([verb, allows(own, 'coordination.k8s.io', 'leases', verb)]).toEqual([verb, true]);
      expect(allows(role, '', 'secrets', 'get')).toBe(false);
    });

    it("lets it create, apply and delete every object of a waypoint's deployment", () => {
      const role = findObject(objects, 'ClusterRole', 'weft-istiod-istio-system');
      for (const object of waypointWorkloadObjects(waypointGateway({ namespace: 'demo' }))) {
        const group = object.apiVersion.includes('/') ? object.apiVersion.split('/')[0] ?? '' : '';
        const plural = `${object.kind.toLowerCase()}s`;
        for (const verb of ['create', 'patch', 'delete']) expect([plural, verb, allows(role, group, plural, verb)]).toEqual([plural, verb, true]);
      }
    });

    it('binds the roles to the service accounts the workloads run as', () => {
      for (const [binding, account] of [
        ['weft-istiod-istio-system', 'istiod'],
        ['weft-cni-istio-system', 'istio-cni'],
      ] as const) {
        const subjects = findObject(objects, 'ClusterRoleBinding', binding)['subjects'];
        expect(subjects).toEqual([{ kind: 'ServiceAccount', name: account, namespace: 'istio-system' }]);
        findObject(objects, 'ServiceAccount', account);
      }
      expect(podSpec(findObject(objects, 'Deployment', 'istiod')).serviceAccountName).toBe('istiod');
      expect(podSpec(findObject(objects, 'DaemonSet', 'istio-cni-node')).serviceAccountName).toBe('istio-cni');
      expect(podSpec(findObject(objects, 'DaemonSet', 'ztunnel')).serviceAccountName).toBe('ztunnel');
    });
  });

  describe('wiring between the components', () => {
    const first = (workload: RenderedObject) => {
      const container = podSpec(workload).containers[0];
      if (container === undefined) throw new Error(`${workload.metadata.name} has no container`);
      return container;
    };

    it.each(['istio-system', 'mesh-system'])('points ztunnel at the controlplane Service in %s, as a node account the CA trusts', async (namespace) => {
      const rendered = await renderChart({ namespace });
      const ztunnel = containerEnv(first(findObject(rendered, 'DaemonSet', 'ztunnel')), { ...fields, 'metadata.namespace': namespace });
      const controlplane = containerEnv(first(findObject(rendered, 'Deployment', 'istiod')), { ...fields, 'metadata.namespace': namespace });
      expect(ztunnel['XDS_ADDRESS']).toBe(`istiod.${namespace}.svc:15012`);
      expect(ztunnel['CA_ADDRESS']).toBe(`istiod.${namespace}.svc:15012`);
      expect(controlplane['CA_TRUSTED_NODE_ACCOUNTS']).toBe(`${namespace}/ztunnel`);
      const service = findObject(rendered, 'Service', 'istiod');
      expect((service['spec'] as { ports: { port: number }[] }).ports.map((p) => p.port)).toEqual([15010, 15012, 15014]);
    });

    it('shares the ZDS socket directory between cni-node and ztunnel on the node', () => {
      const hostPathOf = (workload: RenderedObject, mountPath: string): string | undefined => {
        const pod = podSpec(workload);
        const mount = first(workload).volumeMounts?.find((m) => m.mountPath === mountPath);
        return pod.volumes?.find((v) => v.name === mount?.name)?.hostPath?.path;
      };
      const cni = findObject(objects, 'DaemonSet', 'istio-cni-node');
      const ztunnel = findObject(objects, 'DaemonSet', 'ztunnel');
      const socket = containerEnv(first(cni), fields)['WEFT_ZDS_SOCKET'] ?? '';
      expect(containerEnv(first(ztunnel), fields)['INPOD_UDS']).toBe(socket);
      const dir = socket.slice(0, socket.lastIndexOf('/'));
      expect(hostPathOf(cni, dir)).toBe('/var/run/ztunnel');
      expect(hostPathOf(ztunnel, dir)).toBe('/var/run/ztunnel');
    });

    it('names images <registry>/<component>:<tag>, the waypoint image included', async () => {
      const image = (rendered: RenderedObject[], kind: string, name: string) => first(findObject(rendered, kind, name)).image;
      expect([image(objects, 'Deployment', 'istiod'), image(objects, 'DaemonSet', 'ztunnel'), image(objects, 'DaemonSet', 'istio-cni-node')]).toEqual([
        'weft/controlplane:0.1.0',
        'weft/ztunnel:0.1.0',
        'weft/cni-node:0.1.0',
      ]);
      // The controlplane's built-in default and the chart's agree.
      expect(containerEnv(first(findObject(objects, 'Deployment', 'istiod')), fields)['WAYPOINT_IMAGE']).toBe(WAYPOINT_IMAGE);
      const moved = await renderChart({ set: { 'image.registry': 'registry.example/mesh', 'image.tag': '1.2.3' } });
      expect(image(moved, 'DaemonSet', 'ztunnel')).toBe('registry.example/mesh/ztunnel:1.2.3');
      expect(containerEnv(first(findObject(moved, 'Deployment', 'istiod')), fields)['WAYPOINT_IMAGE']).toBe('registry.example/mesh/waypoint:1.2.3');
    });
  });
});
