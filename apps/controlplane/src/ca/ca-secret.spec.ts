import { PLUGGED_CA_FILES, SELF_SIGNED_CA_FILES } from '@weft/identity';
import type { KubeObject } from '@weft/mesh-config';

import {
  buildCaSecret,
  caSecretOwner,
  caSecretValue,
  ISTIO_CA_SECRET_TYPE,
  routeCaStorageName,
  type CaRootPair,
  type CaStorageRoute,
} from './ca-secret';

const b64 = (text: string): string => Buffer.from(text).toString('base64');
const secret = (data: Record<string, string> | undefined): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 'istio-ca-secret', namespace: 'istio-system' },
  ...(data === undefined ? {} : { data }),
});
const OURS: CaRootPair = { certPem: 'OUR CERT\n', keyPem: 'OUR KEY\n' };

describe('routeCaStorageName', () => {
  it.each<[string, CaStorageRoute]>([
    [SELF_SIGNED_CA_FILES.cert, { to: 'secret', key: 'ca-cert.pem' }],
    [SELF_SIGNED_CA_FILES.key, { to: 'secret', key: 'ca-key.pem' }],
    [PLUGGED_CA_FILES.signingCert, { to: 'directory' }],
    [PLUGGED_CA_FILES.signingKey, { to: 'directory' }],
    [PLUGGED_CA_FILES.rootCert, { to: 'directory' }],
    [PLUGGED_CA_FILES.certChain, { to: 'directory' }],
    ['anything-else.pem', { to: 'directory' }],
  ])('%s → %j', (name, route) => {
    expect(routeCaStorageName(name)).toEqual(route);
  });
});

describe('buildCaSecret', () => {
  it("lays the root out as istiod's BuildSecret does", () => {
    expect(buildCaSecret({ namespace: 'istio-system', name: 'istio-ca-secret' }, OURS)).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'istio-ca-secret', namespace: 'istio-system' },
      type: ISTIO_CA_SECRET_TYPE,
      data: {
        'ca-cert.pem': b64('OUR CERT\n'),
        'ca-key.pem': b64('OUR KEY\n'),
        'root-cert.pem': b64('OUR CERT\n'),
        'cert-chain.pem': '',
        'key.pem': '',
      },
    });
    expect(ISTIO_CA_SECRET_TYPE).toBe('istio.io/ca-root');
  });
});

describe('caSecretValue', () => {
  it.each<[string, KubeObject | undefined, string, string | undefined]>([
    ['no Secret', undefined, 'ca-cert.pem', undefined],
    ['a Secret without data', secret(undefined), 'ca-cert.pem', undefined],
    ['a missing key', secret({ 'ca-key.pem': b64('K') }), 'ca-cert.pem', undefined],
    ['a present key, decoded', secret({ 'ca-cert.pem': b64('-----BEGIN CERTIFICATE-----\n') }), 'ca-cert.pem', '-----BEGIN CERTIFICATE-----\n'],
    ['an empty key', secret({ 'cert-chain.pem': '' }), 'cert-chain.pem', ''],
    ['data that is not a map', { ...secret(undefined), data: 'x' }, 'ca-cert.pem', undefined],
    ['a value that is not a string', { ...secret(undefined), data: { 'ca-cert.pem': 7 } }, 'ca-cert.pem', undefined],
  ])('%s', (_name, object, key, value) => {
    expect(caSecretValue(object, key)).toBe(value);
  });
});

describe('caSecretOwner', () => {
  it.each<[string, KubeObject | undefined, ReturnType<typeof caSecretOwner>]>([
    ['what we wrote is stored', buildCaSecret({ namespace: 'n', name: 's' }, OURS), 'ours'],
    ['another complete root is stored', secret({ 'ca-cert.pem': b64('THEIR CERT\n'), 'ca-key.pem': b64('THEIR KEY\n') }), 'theirs'],
    ['our certificate with another key', secret({ 'ca-cert.pem': b64(OURS.certPem), 'ca-key.pem': b64('THEIR KEY\n') }), 'theirs'],
    ['no Secret', undefined, 'none'],
    ['a Secret without the key', secret({ 'ca-cert.pem': b64('THEIR CERT\n') }), 'none'],
    ['a Secret with blank keys', secret({ 'ca-cert.pem': b64('\n'), 'ca-key.pem': '' }), 'none'],
  ])('%s → %s', (_name, stored, owner) => {
    expect(caSecretOwner(stored, OURS)).toBe(owner);
  });
});
