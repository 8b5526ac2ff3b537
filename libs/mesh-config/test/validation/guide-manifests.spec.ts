// The manifests of the guides Weft was started from (copies of /work/shared/fixtures/guide-manifests): each is
// accepted, and where a guide is wrong about Istio, validation says so (see guide-manifests/README in the fixtures).
// Workload labels for the Service-port check come from the Deployments' pod templates in 01 (no Pod objects).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../../src/kube-object';
import { validateObjects } from '../../src/validation';

function load(file: string): KubeObject[] {
  const text = readFileSync(join(__dirname, 'guide-manifests', file), 'utf8');
  return parseAllDocuments(text)
    .map((doc) => doc.toJSON() as unknown)
    .filter((o): o is KubeObject => typeof o === 'object' && o !== null) as KubeObject[];
}

const FILES = [
  '01-sleep-httpbin.yaml',
  '02-authz-sleep-to-httpbin.yaml',
  '03-pod-level-enrollment.yaml',
  '04-echo-test-app.yaml',
  '05-policies-l4-l7.yaml',
  '06-traffic-management.yaml',
  '07-security-defaults.yaml',
];

describe('guide manifests', () => {
  it.each(FILES)('%s has no errors and every object is valid', (file) => {
    const objects = load(file);
    const { valid, messages } = validateObjects(objects);
    expect(messages.filter((m) => m.level === 'error')).toEqual([]);
    expect(valid).toHaveLength(objects.length);
  });

  it('02 with 01: the policy names Service port 8000 where Istio matches target port 80', () => {
    const { valid, messages } = validateObjects([...load('01-sleep-httpbin.yaml'), ...load('02-authz-sleep-to-httpbin.yaml')]);
    expect(messages).toEqual([
      {
        level: 'warning',
        code: 'WARN_AUTHZ_SERVICE_PORT',
        object: 'AuthorizationPolicy default/httpbin-access',
        field: 'spec.rules[0].to[0].operation.ports[0]',
        message:
          "port 8000 is a Service port of httpbin (default/httpbin); Istio matches the workload's target port, so this rule will not match — use port 80",
      },
    ]);
    expect(valid.map((o) => o.metadata.name)).toContain('httpbin-access');
  });

  it('02 alone: no Service known, so no port warning', () => {
    expect(validateObjects(load('02-authz-sleep-to-httpbin.yaml')).messages).toEqual([]);
  });

  it('05 require-jwt: HTTP fields in a selector-bound ALLOW are dropped by ztunnel', () => {
    const { messages } = validateObjects(load('05-policies-l4-l7.yaml'));
    const jwt = messages.filter((m) => m.object === 'AuthorizationPolicy test-app/require-jwt');
    expect(jwt).toHaveLength(1);
    expect(jwt[0]).toMatchObject({ level: 'warning', code: 'WARN_ZTUNNEL_HTTP_ATTRIBUTES' });
    expect(jwt[0]?.message).toContain(
      'Within an ALLOW policy, rules matching HTTP attributes are omitted. This will be more restrictive than requested.',
    );
    expect(messages.filter((m) => m.object !== 'AuthorizationPolicy test-app/require-jwt')).toEqual([]);
  });

  it('06: a second VirtualService for reviews is reported; only the oldest applies', () => {
    const { valid, messages } = validateObjects(load('06-traffic-management.yaml'));
    expect(messages).toEqual([
      expect.objectContaining({
        level: 'warning',
        code: 'WARN_VS_DUPLICATE_HOST',
        object: 'VirtualService default/reviews-canary',
        field: 'spec.hosts[0]',
      }),
    ]);
    expect(messages[0]?.message).toContain('VirtualService default/reviews');
    expect(messages[0]?.message).toContain('combine');
    expect(valid).toHaveLength(3);
  });

  it('all guide files together: only the promised messages, plus 07 allow-frontend-to-backend (HTTP fields too)', () => {
    const all = FILES.flatMap(load);
    const { valid, messages } = validateObjects(all);
    expect(valid).toHaveLength(all.length);
    expect(messages.map((m) => `${m.code} ${m.object}`).sort()).toEqual([
      'WARN_AUTHZ_SERVICE_PORT AuthorizationPolicy default/httpbin-access',
      'WARN_VS_DUPLICATE_HOST VirtualService default/reviews-canary',
      'WARN_ZTUNNEL_HTTP_ATTRIBUTES AuthorizationPolicy default/allow-frontend-to-backend',
      'WARN_ZTUNNEL_HTTP_ATTRIBUTES AuthorizationPolicy test-app/require-jwt',
    ]);
  });
});
