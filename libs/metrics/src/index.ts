// Public entry of @weft/metrics: Prometheus text exposition shared by every process.
export * from './histogram';
export * from './prometheus-text';
