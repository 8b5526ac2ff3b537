// What the agent should do for the pods on its node, as a pure diff: from the Pods and Namespaces the config source
// holds, the netns paths the CNI plugin reported, and what is enrolled now, to the enrollments to make, update and
// undo. The agent (node-agent.ts) carries the plan out.

import { objectKey, type KubeObject } from '@weft/mesh-config';

import { enrollmentOf, redirectionOptionsOf, type EnrollmentOptions, type RedirectionOptions } from '../enrollment/enrollment';

/** A pod as the agent tracks it. */
export interface PodFacts {
  /** `Pod/<ns>/<name>`, the status key. */
  readonly key: string;
  /** Kubernetes pod UID, the ZDS id; `<ns>/<name>` for a manifest pod without one. */
  readonly uid: string;
  readonly name: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly ips: readonly string[];
}

export interface DesiredEnrollment {
  readonly pod: PodFacts;
  readonly options: RedirectionOptions;
  readonly reason: string;
}

export interface CurrentEnrollment {
  readonly pod: PodFacts;
  readonly options: RedirectionOptions;
  readonly netns: string;
}

export interface EnrollmentPlan {
  /** Ambient pods with a known netns that are not enrolled yet. */
  readonly enroll: readonly (DesiredEnrollment & { readonly netns: string })[];
  /** Enrolled pods whose options (inbound bypass, DNS capture, interfaces) or address families changed. */
  readonly update: readonly (DesiredEnrollment & { readonly netns: string })[];
  /** Enrolled pods that are no longer ambient, no longer on this node, or deleted. */
  readonly unenroll: readonly CurrentEnrollment[];
  /** Ambient pods the agent cannot enroll yet, with why (e.g. no netns known). */
  readonly waiting: readonly { readonly key: string; readonly uid: string; readonly reason: string }[];
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function field(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[name] : undefined;
}

export function podFacts(pod: KubeObject): PodFacts {
  const namespace = pod.metadata.namespace ?? 'default';
  const listed = field(pod.status, 'podIPs');
  const ips = Array.isArray(listed) ? listed.map((entry) => text(field(entry, 'ip'))).filter((ip) => ip !== '') : [];
  const single = text(field(pod.status, 'podIP'));
  return {
    key: objectKey(pod),
    uid: pod.metadata.uid ?? `${namespace}/${pod.metadata.name}`,
    name: pod.metadata.name,
    namespace,
    serviceAccount: text(field(pod.spec, 'serviceAccountName')) || 'default',
    ips: ips.length > 0 ? ips : single === '' ? [] : [single],
  };
}

export function isOnNode(pod: KubeObject, node: string): boolean {
  return text(field(pod.spec, 'nodeName')) === node;
}

/** IPv4 always (the pod's primary family on every cluster Weft supports), IPv6 when the pod has a v6 address. */
export function familiesOf(pod: PodFacts): (4 | 6)[] {
  return pod.ips.some((ip) => ip.includes(':')) ? [4, 6] : [4];
}

function sameOptions(a: RedirectionOptions, b: RedirectionOptions): boolean {
  return a.bypassInbound === b.bypassInbound && a.dnsCapture === b.dnsCapture && a.virtualInterfaces.join(',') === b.virtualInterfaces.join(',');
}

export function planEnrollment(
  pods: readonly KubeObject[],
  namespaces: ReadonlyMap<string, KubeObject>,
  node: string,
  netnsByPod: ReadonlyMap<string, string>,
  current: ReadonlyMap<string, CurrentEnrollment>,
  options: EnrollmentOptions,
): EnrollmentPlan {
  const enroll: (DesiredEnrollment & { netns: string })[] = [];
  const update: (DesiredEnrollment & { netns: string })[] = [];
  const waiting: { key: string; uid: string; reason: string }[] = [];
  const desiredKeys = new Set<string>();

  for (const pod of pods) {
    if (pod.kind !== 'Pod' || !isOnNode(pod, node)) continue;
    const facts = podFacts(pod);
    if (pod.metadata.deletionTimestamp !== undefined) {
      // A terminating pod keeps its redirection until it is gone (CNI DEL or the object's deletion): requests
      // routed to it before it left the endpoints still need ztunnel to finish. It is never newly enrolled.
      if (current.has(facts.key)) desiredKeys.add(facts.key);
      continue;
    }
    const decision = enrollmentOf(pod, namespaces.get(facts.namespace), options);
    if (!decision.enroll) continue;
    desiredKeys.add(facts.key);
    const redirection = redirectionOptionsOf(pod, options);
    const enrolled = current.get(facts.key);
    if (enrolled !== undefined) {
      if (!sameOptions(enrolled.options, redirection)) {
        update.push({ pod: facts, options: redirection, reason: 'redirection options changed', netns: enrolled.netns });
      } else if (familiesOf(enrolled.pod).join() !== familiesOf(facts).join()) {
        // The pod's addresses arrived (or changed) after it was enrolled: rules for a new family are needed.
        update.push({ pod: facts, options: redirection, reason: 'pod address families changed', netns: enrolled.netns });
      }
      continue;
    }
    const netns = netnsByPod.get(facts.key);
    if (netns === undefined) {
      waiting.push({ key: facts.key, uid: facts.uid, reason: 'no network namespace known for the pod (no CNI ADD seen by this agent)' });
      continue;
    }
    enroll.push({ pod: facts, options: redirection, reason: decision.reason, netns });
  }
  const unenroll = [...current.values()].filter((enrolled) => !desiredKeys.has(enrolled.pod.key));
  return { enroll, update, unenroll, waiting };
}
