// Table tests for per-request fault decisions: delay and abort enabled independently by their percentages.

import type { FaultInjection } from '@weft/mesh-model';
import { decideFault, type FaultDecision } from './decide-fault';

/** Returns the given draws in order, failing the test if more are taken. */
function draws(...values: number[]): () => number {
  const queue = [...values];
  return () => {
    const next = queue.shift();
    if (next === undefined) throw new Error('drew more random numbers than expected');
    return next;
  };
}

const delay = { fixedDelayMs: 5000, percentage: 50 };
const abort = { error: { kind: 'http', status: 503 } as const, percentage: 10 };

describe('decideFault', () => {
  const cases: [string, FaultInjection | undefined, number[], FaultDecision][] = [
    ['no fault configured draws nothing', undefined, [], { delayMs: 0 }],
    ['empty fault draws nothing', {}, [], { delayMs: 0 }],
    ['delay fires below its percentage', { delay }, [0.49], { delayMs: 5000 }],
    ['delay does not fire at its percentage', { delay }, [0.5], { delayMs: 0 }],
    ['delay at 100% always fires', { delay: { fixedDelayMs: 7, percentage: 100 } }, [0.9999], { delayMs: 7 }],
    ['delay at 0% never fires', { delay: { fixedDelayMs: 7, percentage: 0 } }, [0], { delayMs: 0 }],
    ['fractional percentage', { delay: { fixedDelayMs: 7, percentage: 0.1 } }, [0.0009], { delayMs: 7 }],
    ['abort fires below its percentage', { abort }, [0.05], { delayMs: 0, abort: { kind: 'http', status: 503 } }],
    ['abort does not fire above', { abort }, [0.2], { delayMs: 0 }],
    ['grpc abort', { abort: { error: { kind: 'grpc', status: 14 }, percentage: 100 } }, [0.5], { delayMs: 0, abort: { kind: 'grpc', status: 14 } }],
    ['both fire: delay first, then abort', { delay, abort }, [0.1, 0.01], { delayMs: 5000, abort: { kind: 'http', status: 503 } }],
    ['independent: delay only', { delay, abort }, [0.1, 0.5], { delayMs: 5000 }],
    ['independent: abort only', { delay, abort }, [0.9, 0.01], { delayMs: 0, abort: { kind: 'http', status: 503 } }],
  ];
  it.each(cases)('%s', (_name, fault, numbers, expected) => {
    expect(decideFault(fault, draws(...numbers))).toEqual(expected);
  });
});
