// ztunnel's TCP metrics and access log.
export * from './access-log';
export * from './tcp-metrics';
export * from './traffic-labels';
