// Public entry of @weft/metrics: Prometheus text exposition shared by every process.
export * from './histogram';
export * from './prometheus-text';
export * from './istio-peer-labels';
