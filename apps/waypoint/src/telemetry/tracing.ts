// OpenTelemetry tracing for the waypoint, as Envoy's OpenTelemetry tracer does it: W3C trace context in and out, one
// SERVER span per request, batched to an OTLP/HTTP collector. The provider is private to the waypoint: nothing is
// registered globally, so tests and several proxies in one process do not share tracing state.

import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type TextMapGetter, type TextMapSetter } from '@opentelemetry/api';
import { TRACE_PARENT_HEADER, TRACE_STATE_HEADER, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AlwaysOnSampler, BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler } from '@opentelemetry/sdk-trace-base';

export type IncomingHeaders = Readonly<Record<string, string | readonly string[]>>;

export interface Tracing {
  /** Continues the trace of `headers` (or starts one) with a SERVER span called `name`. */
  start(headers: IncomingHeaders, name: string): RequestSpan;
  /** Exports what is buffered and stops; idempotent. */
  shutdown(): Promise<void>;
}

export interface RequestSpan {
  /** Headers to send upstream (traceparent/tracestate of this span). */
  readonly propagate: Readonly<Record<string, string>>;
  /** Sets the attributes, marks the span failed when `error`, and ends it; later calls do nothing. */
  end(attributes: Readonly<Record<string, string | number>>, error?: boolean): void;
}

export interface TracingOptions {
  /** The full OTLP/HTTP traces URL (`…/v1/traces`); undefined turns tracing off. */
  readonly endpoint: string | undefined;
  readonly serviceName: string;
}

// Explicit values, so the SDK's OTEL_BSP_* environment fallbacks never apply (config is parsed in one place).
const BATCH_DELAY_MS = 5_000;
const BATCH_MAX_SPANS = 512;
const QUEUE_MAX_SPANS = 2_048;
const EXPORT_TIMEOUT_MS = 10_000;
// Envoy's default limits are far above what a request span carries; these keep a runaway caller bounded.
const SPAN_LIMITS = { attributeCountLimit: 128, attributeValueLengthLimit: 4_096, eventCountLimit: 128, linkCountLimit: 128 };

/** Header lookup that tolerates any case, as a carrier may come from HTTP/1 (any case) or HTTP/2 (lower case). */
function headerValue(headers: IncomingHeaders, name: string): string | string[] | undefined {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : headers[key];
  return typeof value === 'string' || value === undefined ? value : [...value];
}

const getter: TextMapGetter<IncomingHeaders> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => headerValue(carrier, key.toLowerCase()),
};

const setter: TextMapSetter<Record<string, string>> = {
  set: (carrier, key, value) => {
    carrier[key] = value;
  },
};

/**
 * The trace context to forward when tracing is off: the client's own headers, unchanged (Envoy without a tracer
 * passes them through). Repeated `tracestate` headers combine with commas (W3C Trace Context §3.3.1.1); a repeated
 * `traceparent` is invalid, so only the first is kept.
 */
export function passthroughTraceHeaders(headers: IncomingHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  // Runs per request: one pass finds both names (the first of each, in any case, as headerValue would).
  let parentKey: string | undefined;
  let stateKey: string | undefined;
  for (const key of Object.keys(headers)) {
    const lower = key.toLowerCase();
    if (lower === TRACE_PARENT_HEADER) parentKey ??= key;
    else if (lower === TRACE_STATE_HEADER) stateKey ??= key;
  }
  const parent = parentKey === undefined ? undefined : headers[parentKey];
  const first = typeof parent === 'string' || parent === undefined ? parent : parent[0];
  if (first === undefined) return out;
  out[TRACE_PARENT_HEADER] = first;
  const state = stateKey === undefined ? undefined : headers[stateKey];
  const joined = typeof state === 'string' || state === undefined ? state : state.join(',');
  if (joined !== undefined && joined !== '') out[TRACE_STATE_HEADER] = joined;
  return out;
}

function createDisabledTracing(): Tracing {
  return {
    start: (headers) => ({ propagate: passthroughTraceHeaders(headers), end: () => undefined }),
    shutdown: () => Promise.resolve(),
  };
}

/**
 * Tracing to `endpoint`, or a no-op that still forwards the client's trace context when it is undefined. Sampling
 * follows the client's `sampled` flag and samples every new trace (Istio leaves the rate to the caller's decision).
 */
export function createTracing(options: TracingOptions): Tracing {
  if (options.endpoint === undefined) return createDisabledTracing();
  const exporter = new OTLPTraceExporter({ url: options.endpoint, timeoutMillis: EXPORT_TIMEOUT_MS });
  const processor = new BatchSpanProcessor(exporter, {
    scheduledDelayMillis: BATCH_DELAY_MS,
    maxExportBatchSize: BATCH_MAX_SPANS,
    maxQueueSize: QUEUE_MAX_SPANS,
    exportTimeoutMillis: EXPORT_TIMEOUT_MS,
  });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }),
    spanLimits: SPAN_LIMITS,
    spanProcessors: [processor],
  });
  const tracer = provider.getTracer('weft-waypoint');
  const propagator = new W3CTraceContextPropagator();
  let stopped: Promise<void> | undefined;

  return {
    start(headers, name) {
      const parent = propagator.extract(ROOT_CONTEXT, headers, getter);
      const span = tracer.startSpan(name, { kind: SpanKind.SERVER }, parent);
      const propagate: Record<string, string> = {};
      propagator.inject(trace.setSpan(ROOT_CONTEXT, span), propagate, setter);
      let ended = false;
      return {
        propagate,
        end(attributes, error = false) {
          if (ended) return;
          ended = true;
          span.setAttributes(attributes);
          if (error) span.setStatus({ code: SpanStatusCode.ERROR });
          span.end();
        },
      };
    },
    shutdown() {
      stopped ??= provider.shutdown();
      return stopped;
    },
  };
}
