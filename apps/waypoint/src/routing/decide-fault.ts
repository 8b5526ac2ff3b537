// Istio HTTPFaultInjection decided per request as Envoy's fault filter does: the delay and the abort are each
// enabled independently with their own percentage; the delay is decided (and served) first.

import type { FaultAbortError, FaultInjection } from '@weft/mesh-model';

export interface FaultDecision {
  readonly delayMs: number;
  readonly abort?: FaultAbortError;
}

/**
 * Which faults this request gets. Each configured fault draws one number from `random` (uniform in [0, 1)), delay
 * first, and fires when `random() * 100 < percentage` — Envoy's `featureEnabled` over istiod's per-million
 * fraction, so 0 never fires and 100 always does.
 */
export function decideFault(fault: FaultInjection | undefined, random: () => number): FaultDecision {
  if (fault === undefined) return { delayMs: 0 };
  const delayMs = fault.delay !== undefined && fires(fault.delay.percentage, random) ? Math.max(0, fault.delay.fixedDelayMs) : 0;
  const abort = fault.abort !== undefined && fires(fault.abort.percentage, random) ? fault.abort.error : undefined;
  return abort === undefined ? { delayMs } : { delayMs, abort };
}

function fires(percentage: number, random: () => number): boolean {
  return random() * 100 < percentage;
}
