import type { CorsPolicy } from '@weft/mesh-model';

import { decideCors, type CorsDecision } from './decide-cors';

const POLICY: CorsPolicy = {
  allowOrigins: [{ kind: 'exact', value: 'https://shop.example.com' }, { kind: 'regex', value: 'https://.*\\.partner\\.example' }],
  allowMethods: ['GET', 'POST'],
  allowHeaders: ['authorization', 'content-type'],
  exposeHeaders: ['x-request-id'],
  maxAgeMs: 86_400_000,
  allowCredentials: true,
};

const request = (method: string, headers: Record<string, string> = {}): { method: string; headers: Record<string, string> } => ({ method, headers });

describe('decideCors', () => {
  it.each<[string, CorsPolicy | undefined, ReturnType<typeof request>, CorsDecision]>([
    ['no policy on the route', undefined, request('GET', { origin: 'https://shop.example.com' }), { kind: 'none' }],
    ['no Origin: not a CORS request', POLICY, request('GET'), { kind: 'none' }],
    ['an origin the policy does not allow is forwarded untouched', POLICY, request('OPTIONS', { origin: 'https://evil.example', 'access-control-request-method': 'POST' }), { kind: 'none' }],
    [
      'a preflight from an exact origin is answered with every allow header',
      POLICY,
      request('OPTIONS', { origin: 'https://shop.example.com', 'access-control-request-method': 'POST' }),
      {
        kind: 'preflight',
        headers: {
          'access-control-allow-origin': 'https://shop.example.com',
          'access-control-allow-credentials': 'true',
          'access-control-allow-methods': 'GET,POST',
          'access-control-allow-headers': 'authorization,content-type',
          'access-control-max-age': '86400',
        },
      },
    ],
    [
      'an actual request from a regex origin gets allow-origin, credentials and expose headers',
      POLICY,
      request('POST', { origin: 'https://eu.partner.example' }),
      { kind: 'actual', headers: { 'access-control-allow-origin': 'https://eu.partner.example', 'access-control-allow-credentials': 'true', 'access-control-expose-headers': 'x-request-id' } },
    ],
    [
      'OPTIONS without Access-Control-Request-Method is an actual request',
      POLICY,
      request('OPTIONS', { origin: 'https://shop.example.com' }),
      { kind: 'actual', headers: { 'access-control-allow-origin': 'https://shop.example.com', 'access-control-allow-credentials': 'true', 'access-control-expose-headers': 'x-request-id' } },
    ],
    [
      'a matcher that matches "*" allows every origin; empty lists and unset fields add no header',
      { allowOrigins: [{ kind: 'exact', value: '*' }], allowMethods: [], allowHeaders: [], exposeHeaders: [] },
      request('OPTIONS', { origin: 'http://localhost:3000', 'access-control-request-method': 'GET' }),
      { kind: 'preflight', headers: { 'access-control-allow-origin': 'http://localhost:3000' } },
    ],
    [
      'allowCredentials false sends no credentials header',
      { ...POLICY, allowCredentials: false },
      request('GET', { origin: 'https://shop.example.com' }),
      { kind: 'actual', headers: { 'access-control-allow-origin': 'https://shop.example.com', 'access-control-expose-headers': 'x-request-id' } },
    ],
  ])('%s', (_name, policy, req, expected) => {
    expect(decideCors(policy, req)).toEqual(expected);
  });
});
