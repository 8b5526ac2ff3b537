// The node agent's core: keeps the pods of one node enrolled exactly as the config says. It learns each pod's netns
// from the CNI plugin, installs and removes the in-pod rules, tells ztunnel over ZDS, and reports the
// `ambient.istio.io/redirection` status. All work is serialised, so a CNI ADD and a watch event never race.

import type { ConfigSource } from '@weft/config-source';
import type { KubeObject } from '@weft/mesh-config';

import type { EnrollmentOptions } from '../enrollment/enrollment';
import type { AgentAddReply, AgentAddRequest } from '../plugin/cni-protocol';
import type { IpFamily } from '../redirection/inpod-rules';
import type { RedirectionRunner } from '../redirection/redirection-runner';
import type { EnrolledWorkload } from '../zds/zds-sessions';
import { familiesOf, planEnrollment, type CurrentEnrollment } from './reconcile';

export const REDIRECTION_ANNOTATION = 'ambient.istio.io/redirection';

/** What the agent needs from the ZDS server. */
export interface ZdsPort {
  add(workload: EnrolledWorkload, netnsPath: string): void;
  del(uid: string): void;
}

/** Where the agent remembers pod netns paths across restarts. */
export interface NetnsStore {
  load(): Promise<ReadonlyMap<string, string>>;
  save(entries: ReadonlyMap<string, string>): Promise<void>;
}

export interface AgentLogger {
  debug(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

export interface NodeAgentOptions {
  readonly node: string;
  readonly enrollment: EnrollmentOptions;
  readonly source: ConfigSource;
  readonly runner: RedirectionRunner;
  readonly zds: ZdsPort;
  readonly netnsStore: NetnsStore;
  readonly logger: AgentLogger;
  /** Keep the node's probe ipset in step with enrolled pod IPs. */
  readonly probeRules: boolean;
  /** How long a CNI ADD waits for its pod to appear in the config source. */
  readonly podLookupTimeoutMs?: number;
  /**
   * Finds the netns of pods whose CNI ADD this agent never saw (pods older than the agent), by pod UID: the node's
   * /proc (pod-netns-scan.ts). Without it such pods wait for their next sandbox.
   */
  readonly findNetns?: (uids: ReadonlySet<string>) => Promise<ReadonlyMap<string, string>>;
}

/** A pod whose netns could not be found is looked for again no sooner than this. */
export const NETNS_SCAN_INTERVAL_MS = 10_000;

export interface AgentStats {
  enrolled: number;
  enrollFailures: number;
  unenrollFailures: number;
  pluginRequests: number;
}

export interface PodStatusView {
  readonly key: string;
  readonly uid: string;
  readonly netns: string;
  readonly status: 'pending' | 'enabled';
}

function familyOf(ip: string): IpFamily {
  return ip.includes(':') ? 6 : 4;
}

function describe(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}

export class NodeAgent {
  readonly stats: AgentStats = { enrolled: 0, enrollFailures: 0, unenrollFailures: 0, pluginRequests: 0 };
  private readonly enrolled = new Map<string, CurrentEnrollment>();
  private readonly status = new Map<string, 'pending' | 'enabled'>();
  private netns = new Map<string, string>();
  /** When each pod UID was last looked for in the node's /proc. */
  private readonly scanned = new Map<string, number>();
  private chain: Promise<unknown> = Promise.resolve();
  private unsubscribe: (() => void) | undefined;
  private started = false;
  private closed = false;

  constructor(private readonly options: NodeAgentOptions) {}

  get ready(): boolean {
    return this.started && !this.closed;
  }

  async start(): Promise<void> {
    this.netns = new Map(await this.options.netnsStore.load());
    this.unsubscribe = this.options.source.subscribe(() => void this.reconcile());
    await this.options.source.start();
    this.started = true;
    await this.reconcile();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.unsubscribe?.();
    await this.chain.catch(() => undefined);
  }

  pods(): PodStatusView[] {
    return [...this.enrolled.values()].map((e) => ({ key: e.pod.key, uid: e.pod.uid, netns: e.netns, status: this.status.get(e.pod.key) ?? 'pending' }));
  }

  /** ztunnel acknowledged an add: the pod is now fully redirected. */
  acknowledged(uid: string, error: string): void {
    const enrollment = [...this.enrolled.values()].find((e) => e.pod.uid === uid);
    if (enrollment === undefined) return;
    if (error !== '') {
      this.options.logger.warn({ pod: enrollment.pod.key, error }, 'ztunnel refused the pod');
      return;
    }
    this.setStatus(enrollment.pod.key, 'enabled');
  }

  /** The CNI plugin's ADD: remember the netns, and enroll the pod now if it is ambient. */
  handleCniAdd(request: AgentAddRequest): Promise<AgentAddReply> {
    this.stats.pluginRequests += 1;
    const key = `Pod/${request.podNamespace}/${request.podName}`;
    return this.serialised(async () => {
      this.netns.set(key, request.netns);
      await this.options.netnsStore.save(this.netns);
      const pod = await this.waitForPod(key);
      if (pod === undefined) {
        throw new Error(`pod ${request.podNamespace}/${request.podName} is not in the config source; cannot decide its enrollment`);
      }
      const failures = await this.reconcileNow();
      const failure = failures.get(key);
      if (failure !== undefined) throw new Error(failure);
      const enrolled = this.enrolled.get(key);
      if (enrolled !== undefined) return { ambient: true, message: `redirected (${enrolled.netns})` };
      return { ambient: false, message: 'not ambient' };
    });
  }

  /** The CNI plugin's DEL: the sandbox is gone, so the pod is unenrolled now and its netns forgotten. */
  handleCniDel(request: AgentAddRequest): Promise<void> {
    this.stats.pluginRequests += 1;
    const key = `Pod/${request.podNamespace}/${request.podName}`;
    return this.serialised(async () => {
      const enrolled = this.enrolled.get(key);
      if (enrolled !== undefined && (request.netns === '' || enrolled.netns === request.netns)) await this.unenroll(enrolled);
      if (this.netns.get(key) === request.netns || request.netns === '') {
        this.netns.delete(key);
        await this.options.netnsStore.save(this.netns);
      }
    });
  }

  /** Re-evaluates every pod of the node; safe to call at any time. */
  reconcile(): Promise<void> {
    return this.serialised(() => this.reconcileNow()).then(
      () => undefined,
      (cause: unknown) => this.options.logger.error({ err: describe(cause) }, 'reconcile failed'),
    );
  }

  private serialised<T>(work: () => Promise<T>): Promise<T> {
    const next = this.chain.then(work, work);
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async waitForPod(key: string): Promise<KubeObject | undefined> {
    const deadline = Date.now() + (this.options.podLookupTimeoutMs ?? 5_000);
    for (;;) {
      const pod = this.options.source.snapshot().get(key);
      if (pod !== undefined || Date.now() >= deadline) return pod;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Carries out the plan pod by pod; returns the pods whose redirection failed, with why. */
  private async reconcileNow(): Promise<Map<string, string>> {
    const failures = new Map<string, string>();
    if (this.closed) return failures;
    const snapshot = this.options.source.snapshot();
    const namespaces = new Map(snapshot.list('Namespace').map((ns) => [ns.metadata.name, ns]));
    let plan = planEnrollment(snapshot.list('Pod'), namespaces, this.options.node, this.netns, this.enrolled, this.options.enrollment);
    if (await this.findMissingNetns(plan.waiting)) {
      plan = planEnrollment(snapshot.list('Pod'), namespaces, this.options.node, this.netns, this.enrolled, this.options.enrollment);
    }

    for (const enrollment of plan.unenroll) await this.unenroll(enrollment);
    for (const change of [...plan.enroll, ...plan.update]) {
      const enrollment: CurrentEnrollment = { pod: change.pod, options: change.options, netns: change.netns };
      try {
        await this.options.runner.apply(change.netns, familiesOf(change.pod), change.options);
        if (this.options.probeRules && !change.options.bypassInbound) {
          for (const ip of change.pod.ips) await this.options.runner.setProbeAddress(familyOf(ip), ip, true);
        }
      } catch (cause) {
        this.stats.enrollFailures += 1;
        this.options.logger.error({ pod: change.pod.key, netns: change.netns, err: describe(cause) }, 'redirection failed');
        failures.set(change.pod.key, `redirection of ${change.pod.key} failed: ${describe(cause)}`);
        continue;
      }
      const isNew = !this.enrolled.has(change.pod.key);
      this.enrolled.set(change.pod.key, enrollment);
      this.stats.enrolled = this.enrolled.size;
      if (isNew) {
        this.setStatus(change.pod.key, 'pending');
        const workload = { name: change.pod.name, namespace: change.pod.namespace, serviceAccount: change.pod.serviceAccount };
        this.options.zds.add({ uid: change.pod.uid, workload, hasNetns: true }, change.netns);
        this.options.logger.info({ pod: change.pod.key, reason: change.reason }, 'pod enrolled');
      }
    }
    // Normal between a Pod object appearing and its CNI ADD; worth a warning only if it lasts (see /debug/pods).
    for (const waiting of plan.waiting) this.options.logger.debug({ pod: waiting.key }, waiting.reason);
    // Forget netns paths of pods that no longer exist.
    let forgot = false;
    for (const key of [...this.netns.keys()]) {
      if (snapshot.get(key) === undefined && !this.enrolled.has(key)) {
        this.netns.delete(key);
        forgot = true;
      }
    }
    if (forgot) await this.options.netnsStore.save(this.netns);
    return failures;
  }

  /** Looks up the netns of waiting pods in the node's /proc (rate-limited per pod); true when any was found. */
  private async findMissingNetns(waiting: readonly { readonly key: string; readonly uid: string }[]): Promise<boolean> {
    const find = this.options.findNetns;
    if (find === undefined) return false;
    const waitingUids = new Set(waiting.map((pod) => pod.uid));
    for (const uid of [...this.scanned.keys()]) if (!waitingUids.has(uid)) this.scanned.delete(uid);
    const now = Date.now();
    const due = waiting.filter((pod) => pod.uid !== '' && now - (this.scanned.get(pod.uid) ?? -Infinity) >= NETNS_SCAN_INTERVAL_MS);
    if (due.length === 0) return false;
    for (const pod of due) this.scanned.set(pod.uid, now);
    let found: ReadonlyMap<string, string>;
    try {
      found = await find(new Set(due.map((pod) => pod.uid)));
    } catch (cause) {
      this.options.logger.warn({ err: describe(cause) }, "looking for pods' network namespaces in /proc failed");
      return false;
    }
    for (const pod of due) {
      const netns = found.get(pod.uid);
      if (netns === undefined) continue;
      this.netns.set(pod.key, netns);
      this.scanned.delete(pod.uid);
      this.options.logger.info({ pod: pod.key, netns }, "found the network namespace of a pod started before this agent");
    }
    if (found.size === 0) return false;
    await this.options.netnsStore.save(this.netns);
    return true;
  }

  private async unenroll(enrollment: CurrentEnrollment): Promise<void> {
    const { pod, netns } = enrollment;
    this.options.zds.del(pod.uid);
    try {
      await this.options.runner.remove(netns, familiesOf(pod));
    } catch (cause) {
      // A deleted pod's netns is gone with its rules; anything else is worth a log line.
      this.stats.unenrollFailures += 1;
      this.options.logger.warn({ pod: pod.key, netns, err: describe(cause) }, 'removing redirection failed');
    }
    if (this.options.probeRules) {
      for (const ip of pod.ips) await this.options.runner.setProbeAddress(familyOf(ip), ip, false).catch(() => undefined);
    }
    this.enrolled.delete(pod.key);
    this.stats.enrolled = this.enrolled.size;
    this.status.delete(pod.key);
    this.options.source.reportStatus(pod.key, undefined);
    this.options.logger.info({ pod: pod.key }, 'pod unenrolled');
  }

  private setStatus(key: string, value: 'pending' | 'enabled'): void {
    if (this.status.get(key) === value) return;
    this.status.set(key, value);
    this.options.source.reportStatus(key, { annotations: { [REDIRECTION_ANNOTATION]: value } });
  }
}

