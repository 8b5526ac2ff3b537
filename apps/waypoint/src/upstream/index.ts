// Public entry of the waypoint's upstream concern: which endpoints a request may go to, under which DestinationRule
// policy, and the per-cluster state Envoy keeps for them (load balancer, outlier detector, circuit breakers).
export { type Endpoint, resolveEndpoints } from './resolve-endpoints';
export { effectivePolicy } from './effective-policy';
export { type LoadBalancerState, createLoadBalancer } from './load-balancer';
export { OutlierDetector } from './outlier-detector';
export { ConnectionPoolLimits } from './connection-pool-limits';
