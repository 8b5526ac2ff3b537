// Passive health checking of one upstream cluster: Envoy's outlier detector (source/common/upstream/
// outlier_detection_impl.cc) with the settings istiod's `applyOutlierDetection` gives it. Pure: time is injected and
// Envoy's interval timer is replayed lazily, tick by tick, whenever the detector is consulted.

import type { OutlierDetection } from '@weft/mesh-model';
import type { Endpoint } from './resolve-endpoints';

export type RequestOutcome =
  | { readonly kind: 'response'; readonly status: number }
  | { readonly kind: 'local-failure' };

/** Defaults of the fields Istio leaves unset (Envoy's own defaults; reference §7.4). */
export const DEFAULT_CONSECUTIVE_5XX = 5;
export const DEFAULT_INTERVAL_MS = 10_000;
export const DEFAULT_BASE_EJECTION_TIME_MS = 30_000;
/** Envoy's `max_ejection_time` default; Istio never sets it. Envoy raises it to base_ejection_time when smaller. */
export const DEFAULT_MAX_EJECTION_TIME_MS = 300_000;
export const DEFAULT_MAX_EJECTION_PERCENT = 10;
/** Envoy's `consecutive_local_origin_failure` default (enforced at 100% unless Istio is given a positive value). */
export const DEFAULT_CONSECUTIVE_LOCAL_ORIGIN_FAILURES = 5;

interface DetectorConfig {
  /** 0 = this detection is off. */
  readonly consecutive5xx: number;
  readonly consecutiveGateway: number;
  readonly consecutiveLocalOrigin: number;
  readonly split: boolean;
  readonly intervalMs: number;
  readonly baseEjectionMs: number;
  readonly maxEjectionMs: number;
  readonly maxEjectionPercent: number;
  readonly minHealthPercent: number;
}

interface HostState {
  consecutive5xx: number;
  consecutiveGateway: number;
  consecutiveLocalOrigin: number;
  ejected: boolean;
  lastEjection: number;
  lastUnejection: number | undefined;
  /** Envoy's `ejectTimeBackoff`: the multiplier of base_ejection_time; grows per ejection, decays while healthy. */
  backoff: number;
}

type Detection = 'consecutive5xx' | 'consecutiveGateway' | 'consecutiveLocalOrigin';

/**
 * Envoy outlier detection as configured by Istio:
 *
 * - consecutive 5xx: default 5 when the policy is present but the field absent; 0 disables. Local failures count as
 *   5xx (and as gateway errors) unless `splitExternalLocalOriginErrors`, as Envoy maps them to 503/504.
 * - consecutive gateway errors (502/503/504): off unless set (Envoy counts them, but its enforcement default is 0%).
 * - with `splitExternalLocalOriginErrors`, local failures feed only a consecutive-local-origin counter (default 5).
 * - a detection fires when its counter reaches the threshold exactly; the counter is then reset whether or not the
 *   host could be ejected. A host already ejected is left alone (its counters keep counting until un-ejection).
 * - max ejection percent (Istio default 10%, 0 means the default): current Envoy ejects only while
 *   `100 × (ejected + 1) / hosts <= max_ejection_percent`. Envoy does NOT always allow one ejection any more — that
 *   needs `always_eject_one_host`, which Istio never sets — so with the default 10% nothing is ejected from a
 *   cluster of fewer than 10 hosts. (Envoy's docs once said "if no hosts have been ejected, Envoy will eject the host
 *   immediately"; that was the old `ejected% < max` check, since replaced.)
 * - ejection time: `min(base_ejection_time × backoff, max_ejection_time)`, where backoff goes up by one per
 *   ejection (capped so that backoff × base < max + base) and down by one at each interval tick the host spends
 *   healthy a full interval after its un-ejection — "base × number of times ejected" while a host keeps failing.
 * - un-ejection only happens on the interval timer (every `interval`, default 10s, from the detector's creation),
 *   and resets every consecutive counter of the host.
 * - min health percent is Envoy's healthy panic threshold: below it, every host is used again (see `filter`).
 *
 * No policy = never eject. Success-rate and failure-percentage detection are disabled by Istio and not modelled.
 * One detector serves one cluster (service, subset, port). Unlike Envoy it is not told when hosts leave: an ejected
 * host that disappears still counts towards the ejected share until its ejection time runs out.
 */
export class OutlierDetector {
  private readonly config: DetectorConfig | undefined;
  private readonly hosts = new Map<string, HostState>();
  private readonly origin: number;
  private ticksDone = 0;

  constructor(
    policy: OutlierDetection | undefined,
    private readonly now: () => number,
  ) {
    this.config = policy === undefined ? undefined : detectorConfig(policy);
    this.origin = now();
  }

  /**
   * Record one request's outcome for an endpoint: 'success' | '5xx' (incl. 502-504) with the status, or
   * 'local-failure' (connect failure/reset/timeout, counted as 5xx-equivalent gateway errors as Envoy does when
   * split_external_local_origin_errors is false). `totalHosts` is the cluster's size, the base of max ejection %.
   */
  record(uid: string, outcome: RequestOutcome, totalHosts: number): void {
    const config = this.config;
    if (config === undefined) return;
    this.advance(config);
    const host = this.hostState(uid);
    const fired: Detection[] = [];
    if (outcome.kind === 'response') {
      // A response means the connection worked: a local-origin success in split mode.
      if (config.split) host.consecutiveLocalOrigin = 0;
      fired.push(...countStatus(config, host, outcome.status));
    } else if (config.split) {
      host.consecutiveLocalOrigin += 1;
      if (host.consecutiveLocalOrigin === config.consecutiveLocalOrigin) fired.push('consecutiveLocalOrigin');
    } else {
      // Envoy's resultToHttpCode: a failed connect is a 503, a timeout a 504 — gateway errors either way.
      fired.push(...countStatus(config, host, 503));
    }
    for (const detection of fired) this.onDetection(config, host, detection, totalHosts);
    // Only hosts with something to remember are kept, so the map follows the failing hosts, not every host seen.
    if (isIdle(host)) this.hosts.delete(uid);
  }

  isEjected(uid: string): boolean {
    if (this.config === undefined) return false;
    this.advance(this.config);
    return this.hosts.get(uid)?.ejected ?? false;
  }

  /**
   * Endpoints not currently ejected. When fewer than `minHealthPercent` of them remain, Envoy's load balancer is in
   * panic and uses every host, ejected or not; with Istio's default 0 it never panics, so a cluster whose hosts are
   * all ejected (possible only with maxEjectionPercent 100) has none to offer — Envoy's 503 "no healthy upstream".
   */
  filter(endpoints: readonly Endpoint[]): Endpoint[] {
    const config = this.config;
    if (config === undefined || endpoints.length === 0) return [...endpoints];
    this.advance(config);
    const healthy = endpoints.filter((e) => !(this.hosts.get(e.uid)?.ejected ?? false));
    const healthyPercent = (100 * healthy.length) / endpoints.length;
    return healthyPercent < config.minHealthPercent ? [...endpoints] : healthy;
  }

  private hostState(uid: string): HostState {
    let host = this.hosts.get(uid);
    if (host === undefined) {
      host = {
        consecutive5xx: 0,
        consecutiveGateway: 0,
        consecutiveLocalOrigin: 0,
        ejected: false,
        lastEjection: 0,
        lastUnejection: undefined,
        backoff: 0,
      };
      this.hosts.set(uid, host);
    }
    return host;
  }

  /** Envoy's `onConsecutiveErrorWorker` then `ejectHost`. */
  private onDetection(config: DetectorConfig, host: HostState, detection: Detection, total: number): void {
    if (host.ejected) return;
    const ejected = [...this.hosts.values()].filter((h) => h.ejected).length;
    const percentAfter = (100 * (ejected + 1)) / Math.max(total, 1);
    if (percentAfter <= config.maxEjectionPercent) {
      host.ejected = true;
      host.lastEjection = this.now();
      if (host.backoff * config.baseEjectionMs < config.maxEjectionMs + config.baseEjectionMs) host.backoff += 1;
    }
    host[detection] = 0;
  }

  /** Replays every interval tick due by now (Envoy's `onIntervalTimer`), skipping idle stretches in one step. */
  private advance(config: DetectorConfig): void {
    const due = Math.floor((this.now() - this.origin) / config.intervalMs);
    while (this.ticksDone < due) {
      if (![...this.hosts.values()].some((h) => h.ejected || h.backoff > 0)) {
        this.ticksDone = due;
        break;
      }
      this.ticksDone += 1;
      this.tick(config, this.origin + this.ticksDone * config.intervalMs);
    }
  }

  private tick(config: DetectorConfig, at: number): void {
    for (const host of this.hosts.values()) {
      if (!host.ejected) continue;
      const ejectionMs = Math.min(config.baseEjectionMs * host.backoff, config.maxEjectionMs);
      if (ejectionMs <= at - host.lastEjection) {
        host.ejected = false;
        host.lastUnejection = at;
        host.consecutive5xx = 0;
        host.consecutiveGateway = 0;
        host.consecutiveLocalOrigin = 0;
      }
    }
    for (const host of this.hosts.values()) {
      const sinceUnejection = host.lastUnejection === undefined ? undefined : at - host.lastUnejection;
      if (!host.ejected && sinceUnejection !== undefined && sinceUnejection >= config.intervalMs && host.backoff > 0) {
        host.backoff -= 1;
      }
    }
    for (const [uid, host] of this.hosts) if (isIdle(host)) this.hosts.delete(uid);
  }
}

function detectorConfig(policy: OutlierDetection): DetectorConfig {
  const baseEjectionMs = policy.baseEjectionTimeMs ?? DEFAULT_BASE_EJECTION_TIME_MS;
  const localOrigin = policy.consecutiveLocalOriginFailures ?? 0;
  return {
    consecutive5xx: policy.consecutive5xxErrors ?? DEFAULT_CONSECUTIVE_5XX,
    consecutiveGateway: policy.consecutiveGatewayErrors ?? 0,
    // istiod passes the value on only when positive; otherwise Envoy's default applies.
    consecutiveLocalOrigin: localOrigin > 0 ? localOrigin : DEFAULT_CONSECUTIVE_LOCAL_ORIGIN_FAILURES,
    split: policy.splitExternalLocalOriginErrors,
    intervalMs: Math.max(policy.intervalMs ?? DEFAULT_INTERVAL_MS, 1),
    baseEjectionMs,
    maxEjectionMs: Math.max(DEFAULT_MAX_EJECTION_TIME_MS, baseEjectionMs),
    maxEjectionPercent: Math.min(
      policy.maxEjectionPercent > 0 ? policy.maxEjectionPercent : DEFAULT_MAX_EJECTION_PERCENT,
      100,
    ),
    minHealthPercent: policy.minHealthPercent,
  };
}

function isIdle(host: HostState): boolean {
  return (
    !host.ejected &&
    host.backoff === 0 &&
    host.consecutive5xx === 0 &&
    host.consecutiveGateway === 0 &&
    host.consecutiveLocalOrigin === 0
  );
}

/** Envoy's `putHttpResponseCode`: which detections this status makes fire. */
function countStatus(config: DetectorConfig, host: HostState, status: number): Detection[] {
  if (status < 500 || status > 599) {
    host.consecutive5xx = 0;
    host.consecutiveGateway = 0;
    return [];
  }
  const fired: Detection[] = [];
  if (status >= 502 && status <= 504) {
    host.consecutiveGateway += 1;
    if (host.consecutiveGateway === config.consecutiveGateway) fired.push('consecutiveGateway');
  } else {
    host.consecutiveGateway = 0;
  }
  host.consecutive5xx += 1;
  if (host.consecutive5xx === config.consecutive5xx) fired.push('consecutive5xx');
  return fired;
}
