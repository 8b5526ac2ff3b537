import type { Service } from '@weft/mesh-model';

import { forwardedHost } from '../inbound/decision';
import { outboundForwarded } from './pod-proxy';

const httpbin = { name: 'httpbin', namespace: 'default', hostname: 'httpbin.default.svc.cluster.local' } as unknown as Service;

describe('outboundForwarded', () => {
  it('names the addressed service as host=, so the destination ztunnel can label destination_service', () => {
    const header = outboundForwarded({ address: '10.0.0.7', port: 41234 }, httpbin);
    expect(header).toBe('for="10.0.0.7:41234";host=httpbin.default.svc.cluster.local');
    expect(forwardedHost(header)).toBe('httpbin.default.svc.cluster.local');
  });

  it('carries only for= when the app addressed a workload, not a service', () => {
    const header = outboundForwarded({ address: 'fd00::7', port: 41234 }, undefined);
    expect(header).toBe('for="[fd00::7]:41234"');
    expect(forwardedHost(header)).toBeUndefined();
  });
});
