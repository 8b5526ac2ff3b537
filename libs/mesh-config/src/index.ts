export * from './kube-object';
export * from './validation';
export * from './translation';
export * from './l7-translation';
export * from './waypoint-deployment';
