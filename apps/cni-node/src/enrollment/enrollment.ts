// Which pods the node agent redirects into ztunnel (reference §5.1, istio cni/pkg/util/podutil.go and the Helm
// default `AMBIENT_ENABLEMENT_SELECTOR`), and the per-pod redirection options. Pure: takes the Pod and its
// Namespace as the config source holds them.

import type { KubeObject } from '@weft/mesh-config';

export const DATAPLANE_MODE_LABEL = 'istio.io/dataplane-mode';
export const DATAPLANE_MODE_AMBIENT = 'ambient';
export const DATAPLANE_MODE_NONE = 'none';
export const SIDECAR_STATUS_ANNOTATION = 'sidecar.istio.io/status';
export const BYPASS_INBOUND_CAPTURE_ANNOTATION = 'ambient.istio.io/bypass-inbound-capture';
export const DNS_CAPTURE_ANNOTATION = 'ambient.istio.io/dns-capture';
export const REROUTE_VIRTUAL_INTERFACES_ANNOTATION = 'istio.io/reroute-virtual-interfaces';

export interface EnrollmentOptions {
  /** The mesh's own namespace: ztunnel's pods there (`app=ztunnel`) are never redirected. */
  readonly systemNamespace: string;
  /** `exclude_namespaces`: never enrolled, whatever their labels. */
  readonly excludeNamespaces: readonly string[];
  /** Mesh-wide default for DNS capture (istio `AMBIENT_DNS_CAPTURE`, on by default since 1.25). */
  readonly dnsCapture: boolean;
}

export type EnrollmentDecision =
  | { readonly enroll: true; readonly reason: string }
  | { readonly enroll: false; readonly reason: string };

function field(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[name] : undefined;
}

/** Pods that are done (Succeeded/Failed) or being deleted no longer get redirection. */
export function isPodTerminal(pod: KubeObject): boolean {
  const phase = field(pod.status, 'phase');
  return phase === 'Succeeded' || phase === 'Failed';
}

export function enrollmentOf(
  pod: KubeObject,
  namespace: KubeObject | undefined,
  options: EnrollmentOptions,
): EnrollmentDecision {
  const podNamespace = pod.metadata.namespace ?? 'default';
  const podMode = pod.metadata.labels?.[DATAPLANE_MODE_LABEL];
  const namespaceMode = namespace?.metadata.labels?.[DATAPLANE_MODE_LABEL];
  const no = (reason: string): EnrollmentDecision => ({ enroll: false, reason });

  if (options.excludeNamespaces.includes(podNamespace)) return no(`namespace ${podNamespace} is excluded`);
  if (podNamespace === options.systemNamespace && pod.metadata.labels?.['app'] === 'ztunnel') {
    return no('ztunnel itself is never redirected');
  }
  if (field(pod.spec, 'hostNetwork') === true) return no('the pod uses the node network (hostNetwork)');
  if (pod.metadata.annotations?.[SIDECAR_STATUS_ANNOTATION] !== undefined) return no('the pod has a sidecar');
  if (isPodTerminal(pod)) return no('the pod has finished');
  if (podMode === DATAPLANE_MODE_NONE) return no(`pod label ${DATAPLANE_MODE_LABEL}=none opts it out`);
  if (podMode === DATAPLANE_MODE_AMBIENT) return { enroll: true, reason: `pod label ${DATAPLANE_MODE_LABEL}=ambient` };
  if (namespaceMode === DATAPLANE_MODE_AMBIENT) {
    return { enroll: true, reason: `namespace label ${DATAPLANE_MODE_LABEL}=ambient` };
  }
  return no(`neither the pod nor namespace ${podNamespace} has ${DATAPLANE_MODE_LABEL}=ambient`);
}

/** How the in-pod rules are shaped for one pod (reference §5.1 per-pod annotations). */
export interface RedirectionOptions {
  /** "Ingress mode": no inbound capture, probes are not special-cased. */
  readonly bypassInbound: boolean;
  readonly dnsCapture: boolean;
  /** Inbound on these interfaces is treated as outbound. */
  readonly virtualInterfaces: readonly string[];
}

const INTERFACE_NAME = /^[A-Za-z0-9_.:@-]{1,15}$/;

export function redirectionOptionsOf(pod: KubeObject, options: Pick<EnrollmentOptions, 'dnsCapture'>): RedirectionOptions {
  const annotations = pod.metadata.annotations ?? {};
  const dns = annotations[DNS_CAPTURE_ANNOTATION];
  const interfaces = (annotations[REROUTE_VIRTUAL_INTERFACES_ANNOTATION] ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => INTERFACE_NAME.test(name));
  return {
    bypassInbound: annotations[BYPASS_INBOUND_CAPTURE_ANNOTATION] === 'true',
    dnsCapture: dns === 'true' ? true : dns === 'false' ? false : options.dnsCapture,
    virtualInterfaces: [...new Set(interfaces)],
  };
}
