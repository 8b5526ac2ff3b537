// The synthetic mesh the controlplane scale benchmark serves: namespaces, nodes, Services that each select a few
// Pods, and AuthorizationPolicies (selector-bound ALLOWs and namespace-wide DENYs). Pure data; the caller writes
// the files. Objects carry the fields the translation reads, as apps/controlplane/test/component/harness.ts does.

export interface ScaleShape {
  readonly namespaces: number;
  readonly nodes: number;
  readonly services: number;
  readonly podsPerService: number;
  readonly policies: number;
}

export const DEFAULT_SHAPE: ScaleShape = { namespaces: 20, nodes: 10, services: 1000, podsPerService: 2, policies: 50 };

/** The controlplane's defaults (`CLUSTER_ID`, `CLUSTER_DOMAIN`, `TRUST_DOMAIN`); the bench does not override them. */
const CLUSTER_ID = 'Kubernetes';
const CLUSTER_DOMAIN = 'cluster.local';
const TRUST_DOMAIN = 'cluster.local';

interface PodState {
  readonly namespace: string;
  readonly name: string;
  readonly ip: string;
  readonly node: string;
  readonly app: string;
  readonly serviceAccount: string;
  ready: boolean;
}

interface ServiceState {
  readonly namespace: string;
  readonly name: string;
  readonly clusterIP: string;
}

interface PolicyState {
  readonly namespace: string;
  readonly name: string;
  readonly action: 'ALLOW' | 'DENY';
  /** ALLOW: the `app` label selected; DENY policies are namespace-wide. */
  readonly app: string | undefined;
  readonly principals: string[];
}

export interface ManifestFile {
  readonly name: string;
  readonly objects: readonly object[];
}

/** What every client must apply for a change to count as propagated. */
export type Expectation =
  | { readonly kind: 'workload-status'; readonly uid: string; readonly status: 'HEALTHY' | 'UNHEALTHY' }
  | { readonly kind: 'authorization-marker'; readonly key: string; readonly marker: string }
  | { readonly kind: 'new-service'; readonly serviceKey: string; readonly workloadUids: readonly string[] };

export interface Change {
  readonly file: ManifestFile;
  readonly expectation: Expectation;
}

/** 10.<a>.<b>.<c> from a 1-based index; distinct for up to 2^24 - 1 addresses per prefix. */
function ipv4(prefix: number, index: number): string {
  return `${prefix}.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}`;
}

export function workloadUid(namespace: string, pod: string): string {
  return `${CLUSTER_ID}//Pod/${namespace}/${pod}`;
}

/** The address resource name of a Service (namespace/hostname). */
export function serviceResourceKey(namespace: string, service: string): string {
  return `${namespace}/${service}.${namespace}.svc.${CLUSTER_DOMAIN}`;
}

function principal(namespace: string, serviceAccount: string): string {
  return `${TRUST_DOMAIN}/ns/${namespace}/sa/${serviceAccount}`;
}

function podObject(pod: PodState): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: pod.name,
      namespace: pod.namespace,
      labels: { app: pod.app, version: 'v1' },
      annotations: { 'ambient.istio.io/redirection': 'enabled' },
    },
    spec: {
      nodeName: pod.node,
      serviceAccountName: pod.serviceAccount,
      containers: [
        {
          name: 'app',
          image: 'app',
          ports: [
            { name: 'http', containerPort: 8080 },
            { name: 'admin', containerPort: 9090 },
          ],
        },
      ],
    },
    status: {
      phase: 'Running',
      podIP: pod.ip,
      podIPs: [{ ip: pod.ip }],
      conditions: [{ type: 'Ready', status: pod.ready ? 'True' : 'False' }],
    },
  };
}

function serviceObject(service: ServiceState): object {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: service.name, namespace: service.namespace },
    spec: {
      clusterIP: service.clusterIP,
      clusterIPs: [service.clusterIP],
      selector: { app: service.name },
      ports: [{ name: 'http', port: 80, targetPort: 8080 }],
    },
  };
}

function policyObject(policy: PolicyState): object {
  const spec =
    policy.action === 'ALLOW'
      ? {
          selector: { matchLabels: { app: policy.app } },
          action: 'ALLOW',
          rules: [{ from: [{ source: { principals: policy.principals } }], to: [{ operation: { ports: ['8080'] } }] }],
        }
      : {
          action: 'DENY',
          rules: [
            {
              from: [{ source: { notNamespaces: [policy.namespace, 'istio-system'] } }],
              to: [{ operation: { ports: ['9090'] } }],
            },
          ],
        };
  return {
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name: policy.name, namespace: policy.namespace },
    spec,
  };
}

/**
 * The mesh and the changes applied to it. Service `svc-<j>` lives in namespace `ns-<j mod N>` and selects its pods
 * `svc-<j>-<k>` by `app`; pod p runs on `node-<p mod nodes>` as service account `svc-<j>`. One policy in five (at
 * most one per namespace) is a namespace-wide DENY, the rest ALLOW two other services' principals on port 8080.
 * Files: one per namespace and kind, as `kubectl apply -f <dir>` users keep them.
 */
export class ScaleFixture {
  readonly namespaces: readonly string[];
  readonly nodes: readonly string[];
  private readonly services: ServiceState[] = [];
  private readonly pods: PodState[] = [];
  private readonly policies: PolicyState[] = [];
  private readonly allowPolicies: PolicyState[] = [];
  private addedServices = 0;

  constructor(readonly shape: ScaleShape) {
    if (shape.namespaces < 1 || shape.nodes < 1 || shape.services < 3 || shape.podsPerService < 1 || shape.policies < 0) {
      throw new Error(`invalid shape ${JSON.stringify(shape)}`);
    }
    this.namespaces = Array.from({ length: shape.namespaces }, (_, i) => `ns-${String(i).padStart(2, '0')}`);
    this.nodes = Array.from({ length: shape.nodes }, (_, i) => `node-${i}`);
    for (let j = 0; j < shape.services; j++) {
      const namespace = this.namespaceOf(j);
      const name = `svc-${j}`;
      this.services.push({ namespace, name, clusterIP: ipv4(10, (96 << 16) + j + 1) });
      for (let k = 0; k < shape.podsPerService; k++) {
        const p = j * shape.podsPerService + k;
        this.pods.push({
          namespace,
          name: `${name}-${k}`,
          ip: ipv4(10, (1 << 16) + p + 1),
          node: this.nodes[p % shape.nodes] ?? 'node-0',
          app: name,
          serviceAccount: name,
          ready: true,
        });
      }
    }
    const denies = Math.min(Math.floor(shape.policies / 5), shape.namespaces);
    const allows = shape.policies - denies;
    const stride = Math.max(1, Math.floor(shape.services / Math.max(1, allows)));
    for (let i = 0; i < allows; i++) {
      const j = (i * stride) % shape.services;
      const namespace = this.namespaceOf(j);
      const from = [1, 2].map((d) => {
        const other = (j + d * 7) % shape.services;
        return principal(this.namespaceOf(other), `svc-${other}`);
      });
      const policy: PolicyState = { namespace, name: `allow-svc-${j}`, action: 'ALLOW', app: `svc-${j}`, principals: from };
      this.policies.push(policy);
      this.allowPolicies.push(policy);
    }
    for (let i = 0; i < denies; i++) {
      const namespace = this.namespaces[i] ?? 'ns-00';
      this.policies.push({ namespace, name: 'deny-foreign-admin', action: 'DENY', app: undefined, principals: [] });
    }
  }

  get counts(): { namespaces: number; services: number; pods: number; policies: number; allow: number; deny: number } {
    return {
      namespaces: this.namespaces.length,
      services: this.services.length,
      pods: this.pods.length,
      policies: this.policies.length,
      allow: this.allowPolicies.length,
      deny: this.policies.length - this.allowPolicies.length,
    };
  }

  private namespaceOf(service: number): string {
    return this.namespaces[service % this.namespaces.length] ?? 'ns-00';
  }

  /** Every file of the initial mesh. */
  files(): ManifestFile[] {
    const files: ManifestFile[] = [
      {
        name: '00-namespaces.yaml',
        objects: this.namespaces.map((name) => ({
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: { name, labels: { 'istio.io/dataplane-mode': 'ambient' } },
        })),
      },
    ];
    for (const namespace of this.namespaces) {
      files.push({ name: `${namespace}-services.yaml`, objects: this.services.filter((s) => s.namespace === namespace).map(serviceObject) });
      files.push(this.podFile(namespace));
      const policies = this.policyFile(namespace);
      if (policies.objects.length > 0) files.push(policies);
    }
    return files;
  }

  private podFile(namespace: string): ManifestFile {
    return { name: `${namespace}-pods.yaml`, objects: this.pods.filter((p) => p.namespace === namespace).map(podObject) };
  }

  private policyFile(namespace: string): ManifestFile {
    return { name: `${namespace}-policies.yaml`, objects: this.policies.filter((p) => p.namespace === namespace).map(policyObject) };
  }

  /** Change (a): a Ready pod turns not Ready; its namespace's pod file is rewritten. A different pod each round. */
  podNotReady(round: number): Change {
    const start = (round * 7919 + 13) % this.pods.length;
    let pod: PodState | undefined;
    for (let i = 0; i < this.pods.length && pod === undefined; i++) {
      const candidate = this.pods[(start + i) % this.pods.length];
      if (candidate?.ready === true) pod = candidate;
    }
    if (pod === undefined) throw new Error('no Ready pod left');
    pod.ready = false;
    return {
      file: this.podFile(pod.namespace),
      expectation: { kind: 'workload-status', uid: workloadUid(pod.namespace, pod.name), status: 'UNHEALTHY' },
    };
  }

  /** Change (b): an ALLOW policy gains a principal; its namespace's policy file is rewritten. */
  policyChanged(round: number): Change {
    const policy = this.allowPolicies[round % Math.max(1, this.allowPolicies.length)];
    if (policy === undefined) throw new Error('the shape has no ALLOW policy to change');
    const marker = `bench-round-${round}`;
    policy.principals.push(principal('bench', marker));
    return {
      file: this.policyFile(policy.namespace),
      expectation: { kind: 'authorization-marker', key: `${policy.namespace}/${policy.name}`, marker },
    };
  }

  /** Change (c): a new Service and its pods, in a new file of their own. */
  serviceAdded(round: number): Change {
    const index = this.addedServices++;
    const namespace = this.namespaces[(round * 3 + 1) % this.namespaces.length] ?? 'ns-00';
    const name = `added-${index}`;
    const service: ServiceState = { namespace, name, clusterIP: ipv4(10, (97 << 16) + index + 1) };
    const pods: PodState[] = Array.from({ length: this.shape.podsPerService }, (_, k) => ({
      namespace,
      name: `${name}-${k}`,
      ip: ipv4(10, (2 << 16) + index * this.shape.podsPerService + k + 1),
      node: this.nodes[k % this.nodes.length] ?? 'node-0',
      app: name,
      serviceAccount: name,
      ready: true,
    }));
    // Kept out of `services`/`pods`: those are rendered into the per-namespace files, and each object lives in one file.
    return {
      file: { name: `zz-${name}.yaml`, objects: [serviceObject(service), ...pods.map(podObject)] },
      expectation: {
        kind: 'new-service',
        serviceKey: serviceResourceKey(namespace, name),
        workloadUids: pods.map((p) => workloadUid(namespace, p.name)),
      },
    };
  }
}
