import { kubeObject, summary } from '../test/validation/objects';
import { validateObject } from './validate-objects';

const cases: readonly (readonly [string, unknown, readonly string[]])[] = [
  ['a valid rule with policies and subsets', {
    host: 'reviews',
    trafficPolicy: {
      loadBalancer: { simple: 'ROUND_ROBIN' },
      connectionPool: { tcp: { maxConnections: 100, connectTimeout: '3s' }, http: { http1MaxPendingRequests: '10', maxRetries: 3, idleTimeout: '1h' } },
      outlierDetection: { consecutive5xxErrors: 5, interval: '30s', baseEjectionTime: '30s', maxEjectionPercent: 50 },
    },
    subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }],
  }, []],
  ['host missing', { subsets: [] }, ['error ERR_DR_HOST_MISSING spec.host']],
  ['duplicate subset names', { host: 'r', subsets: [{ name: 'v1', labels: { v: '1' } }, { name: 'v1', labels: { v: '2' } }] },
    ['error ERR_DR_SUBSET_DUPLICATE spec.subsets[1].name']],
  ['subset without name', { host: 'r', subsets: [{ labels: { v: '1' } }] }, ['error ERR_DR_SUBSET_NAME spec.subsets[0].name']],
  ['subset without labels', { host: 'r', subsets: [{ name: 'all' }] }, ['warning WARN_DR_SUBSET_WITHOUT_LABELS spec.subsets[0].labels']],
  ['unknown load balancer', { host: 'r', trafficPolicy: { loadBalancer: { simple: 'WEIGHTED' } } },
    ['error ERR_DR_LOAD_BALANCER spec.trafficPolicy.loadBalancer.simple']],
  ['negative maxConnections', { host: 'r', trafficPolicy: { connectionPool: { tcp: { maxConnections: -1 } } } },
    ['error ERR_DR_CONNECTION_POOL spec.trafficPolicy.connectionPool.tcp.maxConnections']],
  ['bad outlier interval', { host: 'r', trafficPolicy: { outlierDetection: { interval: '30 s' } } },
    ['error ERR_DR_DURATION spec.trafficPolicy.outlierDetection.interval']],
  ['maxEjectionPercent above 100', { host: 'r', trafficPolicy: { outlierDetection: { maxEjectionPercent: 101 } } },
    ['error ERR_DR_OUTLIER_PERCENT spec.trafficPolicy.outlierDetection.maxEjectionPercent']],
  ['subset policy checked too', { host: 'r', subsets: [{ name: 'v1', labels: { v: '1' }, trafficPolicy: { loadBalancer: { simple: 'X' } } }] },
    ['error ERR_DR_LOAD_BALANCER spec.subsets[0].trafficPolicy.loadBalancer.simple']],
  ['port level settings without port', { host: 'r', trafficPolicy: { portLevelSettings: [{ loadBalancer: { simple: 'RANDOM' } }] } },
    ['error ERR_DR_PORT spec.trafficPolicy.portLevelSettings[0].port']],
];

describe('DestinationRule validation', () => {
  it.each(cases)('%s', (_name, spec, expected) => {
    expect(summary(validateObject(kubeObject('DestinationRule', 'reviews', spec)))).toEqual(expected);
  });
});
