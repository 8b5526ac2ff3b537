// Public entry of @weft/metrics: Prometheus text exposition shared by every process.
export * from './prometheus-text';
