// What the gateway controller deploys for a waypoint Gateway (reference §1.2, §7.1; istiod's `waypoint.yaml`
// template): a ServiceAccount, a Deployment and a Service, each named after the Gateway and owned by it. The pods
// carry `istio.io/dataplane-mode: none` (a waypoint is never captured) and get their identity from the
// ServiceAccount (`spiffe://<td>/ns/<ns>/sa/<gateway>`). Pure: the controlplane (Kubernetes) or the local cluster's
// runtime creates the objects.

import type { KubeObject } from './kube-object';
import { GATEWAY_NAME_LABEL, WAYPOINT_FOR_LABEL } from './translate-waypoints';

export const WAYPOINT_GATEWAY_CLASS_NAME = 'istio-waypoint';
/** The image of Weft's waypoint proxy (deploy/ builds it; the local cluster maps it to apps/waypoint). */
export const WAYPOINT_IMAGE = 'weft/waypoint:0.1.0';
export const WAYPOINT_MANAGED_LABEL = 'gateway.istio.io/managed';
export const WAYPOINT_MANAGED_VALUE = 'istio.io-mesh-controller';

/** Whether an object is a Gateway the waypoint controller owns. */
export function isWaypointGateway(obj: { readonly kind?: string; readonly spec?: unknown }): boolean {
  const spec = obj.spec as { gatewayClassName?: unknown } | undefined;
  return obj.kind === 'Gateway' && spec?.gatewayClassName === WAYPOINT_GATEWAY_CLASS_NAME;
}

const fieldEnv = (name: string, fieldPath: string): Record<string, unknown> => ({ name, valueFrom: { fieldRef: { fieldPath } } });
const settingEnv = (name: string, value: string | undefined): Record<string, unknown>[] => (value === undefined ? [] : [{ name, value }]);

/** How the controlplane deploys waypoints: what differs between installs. */
export interface WaypointDeploymentOptions {
  /** Default {@link WAYPOINT_IMAGE}. */
  readonly image?: string;
  /** The controlplane's xDS and CA address (`istiod.<its namespace>.svc:15012`); default: the waypoint's own default. */
  readonly xdsAddress?: string;
  readonly trustDomain?: string;
  readonly clusterId?: string;
}

/** Where a waypoint's credentials are mounted: the paths its config reads by default (`WEFT_TOKEN_FILE`, `XDS_ROOT_CA`). */
export const WAYPOINT_TOKEN_DIR = '/var/run/secrets/tokens';
export const WAYPOINT_ROOT_CERT_DIR = '/var/run/secrets/istio';

/** ServiceAccount, Service and Deployment of a waypoint Gateway. */
export function waypointWorkloadObjects(gateway: KubeObject, options: WaypointDeploymentOptions = {}): KubeObject[] {
  const name = gateway.metadata.name;
  const namespace = gateway.metadata.namespace ?? 'default';
  const owner = { apiVersion: gateway.apiVersion, kind: 'Gateway', name, ...(gateway.metadata.uid === undefined ? {} : { uid: gateway.metadata.uid }), controller: true };
  const waypointFor = gateway.metadata.labels?.[WAYPOINT_FOR_LABEL];
  const labels: Record<string, string> = {
    [GATEWAY_NAME_LABEL]: name,
    [WAYPOINT_MANAGED_LABEL]: WAYPOINT_MANAGED_VALUE,
    ...(waypointFor === undefined ? {} : { [WAYPOINT_FOR_LABEL]: waypointFor }),
  };
  const metadata = { name, namespace, labels, ownerReferences: [owner] };
  const podLabels = {
    ...labels,
    'istio.io/dataplane-mode': 'none',
    'sidecar.istio.io/inject': 'false',
    'service.istio.io/canonical-name': name,
    'service.istio.io/canonical-revision': 'latest',
  };
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata,
      spec: {
        type: 'ClusterIP',
        ipFamilyPolicy: 'PreferDualStack',
        selector: { [GATEWAY_NAME_LABEL]: name },
        ports: [
          { name: 'status-port', port: 15021, protocol: 'TCP', appProtocol: 'tcp' },
          { name: 'mesh', port: 15008, protocol: 'TCP', appProtocol: 'all' },
        ],
      },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata,
      spec: {
        replicas: 1,
        selector: { matchLabels: { [GATEWAY_NAME_LABEL]: name } },
        template: {
          metadata: { labels: podLabels, annotations: { 'prometheus.io/port': '15020', 'prometheus.io/scrape': 'true', 'prometheus.io/path': '/stats/prometheus' } },
          spec: {
            serviceAccountName: name,
            containers: [
              {
                name: 'istio-proxy',
                image: options.image ?? WAYPOINT_IMAGE,
                ports: [
                  { name: 'status-port', containerPort: 15021, protocol: 'TCP' },
                  { name: 'mesh', containerPort: 15008, protocol: 'TCP' },
                  { name: 'http-envoy-prom', containerPort: 15020, protocol: 'TCP' },
                ],
                env: [
                  { name: 'GATEWAY_NAME', value: name },
                  fieldEnv('POD_NAME', 'metadata.name'),
                  fieldEnv('POD_NAMESPACE', 'metadata.namespace'),
                  fieldEnv('SERVICE_ACCOUNT', 'spec.serviceAccountName'),
                  fieldEnv('INSTANCE_IP', 'status.podIP'),
                  fieldEnv('NODE_NAME', 'spec.nodeName'),
                  ...settingEnv('XDS_ADDRESS', options.xdsAddress),
                  ...settingEnv('CA_ADDRESS', options.xdsAddress),
                  ...settingEnv('TRUST_DOMAIN', options.trustDomain),
                  ...settingEnv('CLUSTER_ID', options.clusterId),
                ],
                readinessProbe: { httpGet: { path: '/healthz/ready', port: 15021 } },
                securityContext: {
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  runAsNonRoot: true,
                  runAsUser: 1337,
                  runAsGroup: 1337,
                  capabilities: { drop: ['ALL'] },
                },
                volumeMounts: [
                  { name: 'istio-token', mountPath: WAYPOINT_TOKEN_DIR, readOnly: true },
                  { name: 'istiod-ca-cert', mountPath: WAYPOINT_ROOT_CERT_DIR, readOnly: true },
                ],
              },
            ],
            volumes: [
              // Its own service-account token, for the audience the CA reviews; the CA signs its identity with it.
              { name: 'istio-token', projected: { sources: [{ serviceAccountToken: { path: 'istio-token', audience: 'istio-ca', expirationSeconds: 43_200 } }] } },
              // The mesh root the controlplane publishes in every namespace, to trust 15012.
              { name: 'istiod-ca-cert', configMap: { name: 'istio-ca-root-cert' } },
            ],
          },
        },
      },
    },
  ];
}

export type WaypointFor = 'service' | 'workload' | 'all' | 'none';

/** The Gateway `istioctl waypoint apply|generate` writes (reference §7.1): `for` only labels it when given. */
export function waypointGateway(input: { readonly namespace: string; readonly name?: string; readonly for?: WaypointFor }): KubeObject {
  const name = input.name ?? 'waypoint';
  if (name === 'none') throw new Error('"none" is reserved (istio.io/use-waypoint: none opts out of a waypoint); choose another --name');
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name, namespace: input.namespace, ...(input.for === undefined ? {} : { labels: { [WAYPOINT_FOR_LABEL]: input.for } }) },
    spec: { gatewayClassName: WAYPOINT_GATEWAY_CLASS_NAME, listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] },
  };
}
