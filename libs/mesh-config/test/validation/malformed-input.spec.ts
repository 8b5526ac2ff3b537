// Nothing throws: every subtree of the guide manifests (and of a few dense objects) is replaced in turn with values
// of the wrong type, and validation must still return messages rather than raise.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../../src/kube-object';
import { validateObjects } from '../../src/validation';

const WRONG: readonly unknown[] = [null, 7, -1.5, 'x', true, [], [null, 3], {}, { a: [1] }];

function load(): KubeObject[] {
  const dir = join(__dirname, 'guide-manifests');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJSON() as KubeObject));
}

/** Every copy of `value` with one subtree (object property or list element) replaced by `replacement`. */
function mutations(value: unknown, replacement: unknown): unknown[] {
  if (Array.isArray(value)) {
    return value.flatMap((item, i) => [
      value.map((v, j) => (j === i ? replacement : v)),
      ...mutations(item, replacement).map((m) => value.map((v, j) => (j === i ? m : v))),
    ]);
  }
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([k, item]) => [
      { ...value, [k]: replacement },
      ...mutations(item, replacement).map((m) => ({ ...value, [k]: m })),
    ]);
  }
  return [];
}

const meta = { name: 'dense', namespace: 'default' };
const DENSE: readonly KubeObject[] = [
  { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: meta, spec: {
    hosts: ['reviews'], gateways: ['mesh'],
    http: [{ match: [{ uri: { prefix: '/' }, headers: { a: { exact: 'b' } } }], route: [{ destination: { host: 'r', port: { number: 80 } }, weight: 100 }],
      retries: { attempts: 1, perTryTimeout: '1s', retryOn: '5xx' }, timeout: '2s',
      fault: { delay: { fixedDelay: '1s', percentage: { value: 1 } }, abort: { httpStatus: 500, percentage: { value: 1 } } } },
    { redirect: { uri: '/x' } }, { directResponse: { status: 200 } }],
    tcp: [{ route: [{ destination: { host: 'r' } }] }] } },
  { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: meta, spec: {
    host: 'r', trafficPolicy: { connectionPool: { tcp: { maxConnections: 1, tcpKeepalive: { time: '1s' } }, http: { maxRetries: 1 } },
      outlierDetection: { interval: '1s', maxEjectionPercent: 1 }, loadBalancer: { simple: 'RANDOM' },
      portLevelSettings: [{ port: { number: 80 }, loadBalancer: { simple: 'RANDOM' } }] },
    subsets: [{ name: 'v1', labels: { v: '1' }, trafficPolicy: { loadBalancer: { simple: 'RANDOM' } } }] } },
  { apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: meta, spec: {
    hosts: ['a.example.com'], addresses: ['10.0.0.1'], ports: [{ number: 80, name: 'http', protocol: 'HTTP' }], resolution: 'STATIC',
    endpoints: [{ address: '10.0.0.2', labels: { a: 'b' }, ports: { http: 8080 } }] } },
  { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: meta, spec: {
    parentRefs: [{ group: '', kind: 'Service', name: 'web' }], hostnames: ['web'],
    rules: [{ matches: [{ path: { type: 'Exact', value: '/' }, headers: [{ name: 'a', value: 'b' }], method: 'GET' }],
      filters: [{ type: 'CORS' }], backendRefs: [{ name: 'web', port: 80, weight: 1 }], timeouts: { request: '1s' } }] } },
  { apiVersion: 'security.istio.io/v1', kind: 'RequestAuthentication', metadata: meta, spec: {
    targetRefs: [{ kind: 'Gateway', name: 'waypoint' }],
    jwtRules: [{ issuer: 'i', jwksUri: 'https://x/j', fromHeaders: [{ name: 'a' }], outputClaimToHeaders: [{ header: 'h', claim: 'c' }] }] } },
  { apiVersion: 'v1', kind: 'Service', metadata: meta, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 'http' }] } },
  { apiVersion: 'v1', kind: 'Pod', metadata: { ...meta, labels: { app: 'web' } }, spec: { containers: [{ ports: [{ name: 'http', containerPort: 8080 }] }] } },
];

describe('malformed input', () => {
  const objects = [...load(), ...DENSE];
  it.each(objects.map((o) => [`${o.kind} ${o.metadata.name}`, o] as const))('%s: no mutation throws', (_name, object) => {
    for (const wrong of WRONG) {
      for (const mutated of mutations(object, wrong)) {
        expect(() => validateObjects([...objects, mutated as KubeObject])).not.toThrow();
      }
    }
  });
});
