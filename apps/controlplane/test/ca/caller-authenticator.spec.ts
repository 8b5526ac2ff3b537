// Bootstrap-token (manifest mode) and TokenReview authentication. TokenReview runs against a fake function: the
// Kubernetes API call is wired later.

import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';

import {
  createBootstrapTokenAuthenticator,
  createTokenReviewAuthenticator,
  loadBootstrapTokens,
  parseBootstrapTokens,
  type TokenReviewFunction,
  type TokenReviewStatus,
} from '../../src/ca/caller-authenticator';
import { makeTempDir, removeDir } from './ca-fixtures';

const TOKEN_A = 'a'.repeat(64);
const TOKEN_B = 'b'.repeat(64);

describe('bootstrap tokens', () => {
  it('parses YAML with istio-system/ztunnel defaults and loads it from a file', async () => {
    const dir = await makeTempDir('tokens');
    try {
      const file = path.join(dir, 'tokens.yaml');
      await writeFile(file, `tokens:\n  - token: ${TOKEN_A}\n    node: node-a\n  - { token: ${TOKEN_B}, node: node-b, namespace: weft, serviceAccount: node-proxy }\n`);
      expect(await loadBootstrapTokens(file)).toEqual([
        { token: TOKEN_A, node: 'node-a', namespace: 'istio-system', serviceAccount: 'ztunnel' },
        { token: TOKEN_B, node: 'node-b', namespace: 'weft', serviceAccount: 'node-proxy' },
      ]);
    } finally {
      await removeDir(dir);
    }
  });

  it('accepts JSON and reports every problem of a bad file at once', () => {
    expect(parseBootstrapTokens(JSON.stringify({ tokens: [{ token: TOKEN_A, node: 'n1' }] }), 'f')).toHaveLength(1);
    const bad = JSON.stringify({ tokens: [{ token: 'short', node: 'n1' }, { token: TOKEN_A, node: 'N_1' }, { token: TOKEN_A, node: 'n2' }, { token: TOKEN_A, node: 'n3' }, 7] });
    expect(() => parseBootstrapTokens(bad, 'tokens.json')).toThrow(
      expect.objectContaining({
        code: 'ERR_CA_TOKEN_FILE_INVALID',
        message: expect.stringMatching(/tokens\[0\]\.token.*tokens\[1\]\.node.*tokens\[3\]\.token repeats.*tokens\[4\] is not a map/),
      }),
    );
    expect(() => parseBootstrapTokens('nodes: []', 'f')).toThrow(expect.objectContaining({ code: 'ERR_CA_TOKEN_FILE_INVALID' }));
    expect(() => parseBootstrapTokens('{ not yaml', 'f')).toThrow(expect.objectContaining({ code: 'ERR_CA_TOKEN_FILE_INVALID' }));
  });

  it('reports an unreadable file as ERR_CA_TOKEN_FILE_INVALID', async () => {
    await expect(loadBootstrapTokens('/nonexistent/weft-tokens.yaml')).rejects.toMatchObject({ code: 'ERR_CA_TOKEN_FILE_INVALID' });
  });

  it('authenticates the matching token as its node ztunnel and refuses others', async () => {
    const auth = createBootstrapTokenAuthenticator(parseBootstrapTokens(`tokens: [{ token: ${TOKEN_A}, node: node-a }, { token: ${TOKEN_B}, node: node-b }]`, 'f'));
    expect(await auth.authenticate(TOKEN_B, undefined)).toEqual({
      ok: true,
      caller: { namespace: 'istio-system', serviceAccount: 'ztunnel', nodeName: 'node-b' },
    });
    expect(await auth.authenticate(TOKEN_A.slice(1), undefined)).toEqual({ ok: false, reason: 'bootstrap token not recognised' });
    expect(await auth.authenticate(`${TOKEN_A}x`, undefined)).toMatchObject({ ok: false });
    expect(await auth.authenticate('', undefined)).toEqual({ ok: false, reason: 'no bearer token' });
  });
});

describe('TokenReview authenticator (fake tokenReview function; the Kubernetes API call is wired later)', () => {
  const boundToken: TokenReviewStatus = {
    authenticated: true,
    audiences: ['istio-ca'],
    user: {
      username: 'system:serviceaccount:istio-system:ztunnel',
      extra: {
        'authentication.kubernetes.io/pod-name': ['ztunnel-x7k2p'],
        'authentication.kubernetes.io/pod-uid': ['0b6c-uid'],
        'authentication.kubernetes.io/node-name': ['node-a'],
      },
    },
  };

  it('asks for audience istio-ca in the caller cluster and maps the service account and bound pod', async () => {
    const calls: Parameters<TokenReviewFunction>[] = [];
    const auth = createTokenReviewAuthenticator({
      tokenReview: (...args) => {
        calls.push(args);
        return Promise.resolve(boundToken);
      },
    });
    expect(await auth.authenticate('jwt', 'Kubernetes')).toEqual({
      ok: true,
      caller: { namespace: 'istio-system', serviceAccount: 'ztunnel', podName: 'ztunnel-x7k2p', podUid: '0b6c-uid', nodeName: 'node-a' },
    });
    expect(calls).toEqual([['jwt', ['istio-ca'], 'Kubernetes']]);
  });

  it('leaves pod fields out when the token is not pod-bound', async () => {
    const auth = createTokenReviewAuthenticator({
      tokenReview: () => Promise.resolve({ authenticated: true, user: { username: 'system:serviceaccount:ns1:sa1' } }),
    });
    expect(await auth.authenticate('jwt', undefined)).toEqual({ ok: true, caller: { namespace: 'ns1', serviceAccount: 'sa1' } });
  });

  it.each<[string, TokenReviewFunction, RegExp]>([
    ['an unauthenticated review', () => Promise.resolve({ authenticated: false }), /not authenticated/],
    ['a review error', () => Promise.resolve({ ...boundToken, error: 'token expired' }), /token expired/],
    ['another audience', () => Promise.resolve({ ...boundToken, audiences: ['https://kubernetes.default.svc'] }), /audiences/],
    ['a non-service-account user', () => Promise.resolve({ authenticated: true, user: { username: 'alice' } }), /not a service account/],
    ['a malformed service account user', () => Promise.resolve({ authenticated: true, user: { username: 'system:serviceaccount:ns' } }), /not a service account/],
    ['a failing API call', () => Promise.reject(new Error('connect ECONNREFUSED')), /TokenReview failed: connect ECONNREFUSED/],
  ])('refuses %s', async (_name, tokenReview, reason) => {
    const result = await createTokenReviewAuthenticator({ tokenReview }).authenticate('jwt', 'Kubernetes');
    expect(result).toEqual({ ok: false, reason: expect.stringMatching(reason) });
  });
});
