// The waypoint's telemetry: Istio's request metrics, the JSON access log and OpenTelemetry tracing.
export * from './access-log';
export * from './request-labels';
export * from './request-metrics';
export * from './span-attributes';
export * from './tracing';
