export * from './kube-object';
export * from './validation';
export * from './translation';
