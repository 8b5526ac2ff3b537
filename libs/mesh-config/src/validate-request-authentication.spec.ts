import { kubeObject, summary } from '../test/validation/objects';
import { validateObject } from './validate-objects';

const target = { targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'waypoint' }] };

const cases: readonly (readonly [string, unknown, readonly string[]])[] = [
  ['a valid rule on the waypoint', { ...target, jwtRules: [{ issuer: 'https://id.example.com', jwksUri: 'https://id.example.com/jwks', fromHeaders: [{ name: 'x-jwt', prefix: 'Bearer ' }] }] }, []],
  ['issuer missing', { ...target, jwtRules: [{ jwksUri: 'https://id.example.com/jwks' }] }, ['error ERR_RA_ISSUER_MISSING spec.jwtRules[0].issuer']],
  ['jwks and jwksUri both', { ...target, jwtRules: [{ issuer: 'i', jwks: '{"keys":[]}', jwksUri: 'https://x/jwks' }] },
    ['warning WARN_RA_JWKS_AND_URI spec.jwtRules[0].jwks']],
  ['jwksUri not a URL', { ...target, jwtRules: [{ issuer: 'i', jwksUri: 'id.example.com/jwks' }] }, ['error ERR_RA_JWKS_URI spec.jwtRules[0].jwksUri']],
  ['fromHeaders without name', { ...target, jwtRules: [{ issuer: 'i', fromHeaders: [{ prefix: 'Bearer ' }] }] },
    ['error ERR_RA_FROM_HEADER spec.jwtRules[0].fromHeaders[0].name']],
  ['selector-bound (ignored by waypoints)', { selector: { matchLabels: { app: 'api' } }, jwtRules: [{ issuer: 'i' }] }, ['warning WARN_RA_SELECTOR spec.selector']],
  ['selector and targetRefs', { selector: { matchLabels: { app: 'api' } }, ...target }, ['error ERR_RA_SELECTOR_AND_TARGET_REF spec.selector']],
];

describe('RequestAuthentication validation', () => {
  it.each(cases)('%s', (_name, spec, expected) => {
    expect(summary(validateObject(kubeObject('RequestAuthentication', 'jwt', spec)))).toEqual(expected);
  });
});
