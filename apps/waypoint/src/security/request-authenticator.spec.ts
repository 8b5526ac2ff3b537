import { SignJWT, exportJWK, generateKeyPair, type JWK, type JWTPayload, type KeyLike } from 'jose';
import type { JwtRule } from '@weft/mesh-model';
import { RequestAuthenticator, type AuthnResult } from './request-authenticator';

const ISSUER = 'https://issuer.example.com';
const JWKS_URI = 'https://issuer.example.com/jwks';
const NOW_MS = Date.UTC(2025, 0, 1);
const NOW_S = NOW_MS / 1000;

interface SigningKey {
  readonly kid: string;
  readonly alg: 'RS256' | 'ES256';
  readonly privateKey: KeyLike;
  readonly jwk: JWK;
}

async function signingKey(kid: string, alg: 'RS256' | 'ES256'): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg);
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

function sign(key: SigningKey, claims: JWTPayload = {}, header: { kid?: string } = {}): Promise<string> {
  return new SignJWT({ iss: ISSUER, sub: 'alice', aud: 'reviews', iat: NOW_S, exp: NOW_S + 600, ...claims })
    .setProtectedHeader({ alg: key.alg, kid: header.kid ?? key.kid })
    .sign(key.privateKey);
}

const jwks = (...keys: SigningKey[]) => JSON.stringify({ keys: keys.map((k) => k.jwk) });

function rule(overrides: Partial<JwtRule> = {}): JwtRule {
  return {
    issuer: ISSUER,
    audiences: [],
    jwksUri: '',
    jwks: '',
    fromHeaders: [],
    fromParams: [],
    fromCookies: [],
    outputPayloadToHeader: '',
    forwardOriginalToken: false,
    outputClaimToHeaders: [],
    spaceDelimitedClaims: [],
    ...overrides,
  };
}

/** A fake JWKS endpoint (there is no issuer to run in a unit test): counts fetches and serves whatever is current. */
function fakeJwksEndpoint(initial: string) {
  const state = { document: initial, calls: [] as { uri: string; timeoutMs: number }[], fail: false };
  const fetchJwks = (uri: string, timeoutMs: number): Promise<unknown> => {
    state.calls.push({ uri, timeoutMs });
    return state.fail ? Promise.reject(new Error('connect ECONNREFUSED')) : Promise.resolve(JSON.parse(state.document));
  };
  return { state, fetchJwks };
}

const noFetch = (): Promise<unknown> => Promise.reject(new Error('no JWKS fetch expected'));
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

function expectRejected(result: AuthnResult, status: number, body: string): void {
  expect(result).toMatchObject({ kind: 'rejected', status, body });
}

describe('RequestAuthenticator', () => {
  let rsa: SigningKey;
  let ec: SigningKey;
  let other: SigningKey;

  beforeAll(async () => {
    [rsa, ec, other] = await Promise.all([signingKey('rsa-1', 'RS256'), signingKey('ec-1', 'ES256'), signingKey('rsa-1', 'RS256')]);
  });

  const inline = (overrides: Partial<JwtRule> = {}) =>
    new RequestAuthenticator([rule({ jwks: jwks(rsa, ec), ...overrides })], { fetchJwks: noFetch, now: () => NOW_MS });

  it('authenticates a valid RS256 token with principal iss/sub and strips Authorization', async () => {
    const token = await sign(rsa, { azp: 'web', scope: 'read write' });
    const result = await inline().authenticate({ headers: { ...bearer(token), host: 'reviews' }, path: '/' });
    expect(result).toEqual({
      kind: 'authenticated',
      request: {
        principal: `${ISSUER}/alice`,
        claims: expect.objectContaining({ iss: ISSUER, sub: 'alice', scope: ['read', 'write'] }),
        audiences: ['reviews'],
        presenter: 'web',
      },
      setHeaders: {},
      removeHeaders: ['authorization'],
      removeQueryParams: [],
    });
  });

  it('authenticates ES256 tokens', async () => {
    const result = await inline().authenticate({ headers: bearer(await sign(ec)), path: '/' });
    expect(result).toMatchObject({ kind: 'authenticated', request: { principal: `${ISSUER}/alice` } });
  });

  it('lets a request without a token through anonymously, dropping forged output headers', async () => {
    const result = await inline({ outputPayloadToHeader: 'x-jwt-payload' }).authenticate({ headers: { 'x-jwt-payload': 'forged' }, path: '/' });
    expect(result).toEqual({ kind: 'anonymous', removeHeaders: ['x-jwt-payload'] });
  });

  it('treats an Authorization header of another scheme as no token', async () => {
    const result = await inline().authenticate({ headers: { authorization: 'Basic dXNlcjpwYXNz' }, path: '/' });
    expect(result.kind).toBe('anonymous');
  });

  it('rejects a token of an issuer no rule names: 401 "Jwt issuer is not configured"', async () => {
    const result = await inline().authenticate({ headers: bearer(await sign(rsa, { iss: 'https://evil.example.com' })), path: '/x?y=1' });
    expectRejected(result, 401, 'Jwt issuer is not configured');
    expect(result).toMatchObject({ headers: { 'www-authenticate': 'Bearer realm="http:///x?y=1", error="invalid_token"' } });
  });

  it('rejects an audience the rule does not list: Envoy answers 403 "Audiences in Jwt are not allowed"', async () => {
    const authn = inline({ audiences: ['ratings'] });
    expectRejected(await authn.authenticate({ headers: bearer(await sign(rsa)), path: '/' }), 403, 'Audiences in Jwt are not allowed');
  });

  it('accepts a listed audience, ignoring scheme and trailing slash as jwt_verify_lib does', async () => {
    const authn = inline({ audiences: ['https://reviews/'] });
    expect((await authn.authenticate({ headers: bearer(await sign(rsa)), path: '/' })).kind).toBe('authenticated');
  });

  it('rejects an expired token beyond the 60 s clock skew: 401 "Jwt is expired"', async () => {
    const authn = inline();
    expectRejected(await authn.authenticate({ headers: bearer(await sign(rsa, { exp: NOW_S - 61 })), path: '/' }), 401, 'Jwt is expired');
    expect((await authn.authenticate({ headers: bearer(await sign(rsa, { exp: NOW_S - 59 })), path: '/' })).kind).toBe('authenticated');
  });

  it('rejects a token not yet valid beyond the skew: 401 "Jwt not yet valid"', async () => {
    const authn = inline();
    expectRejected(await authn.authenticate({ headers: bearer(await sign(rsa, { nbf: NOW_S + 61 })), path: '/' }), 401, 'Jwt not yet valid');
    expect((await authn.authenticate({ headers: bearer(await sign(rsa, { nbf: NOW_S + 59 })), path: '/' })).kind).toBe('authenticated');
  });

  it('rejects a bad signature: 401 "Jwt verification fails"', async () => {
    // Same kid, different key pair.
    expectRejected(await inline().authenticate({ headers: bearer(await sign(other)), path: '/' }), 401, 'Jwt verification fails');
    const token = await sign(rsa);
    const tampered = `${token.slice(0, -4)}${token.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
    expectRejected(await inline().authenticate({ headers: bearer(tampered), path: '/' }), 401, 'Jwt verification fails');
  });

  it('rejects a token whose kid no key has', async () => {
    const result = await inline().authenticate({ headers: bearer(await sign(rsa, {}, { kid: 'unknown' })), path: '/' });
    expectRejected(result, 401, "Jwks doesn't have key to match kid or alg from Jwt");
  });

  it('rejects garbage in the token location: 401 with the parse failure', async () => {
    expectRejected(await inline().authenticate({ headers: bearer('not-a-jwt'), path: '/' }), 401, 'Jwt is not in the form of Header.Payload.Signature');
  });

  it('requires every token present to verify', async () => {
    const authn = inline();
    const result = await authn.authenticate({ headers: bearer(await sign(rsa)), path: `/?access_token=${await sign(rsa, { exp: NOW_S - 3600 })}` });
    expectRejected(result, 401, 'Jwt is expired');
  });

  it('keeps Authorization when forwardOriginalToken is set', async () => {
    const result = await inline({ forwardOriginalToken: true }).authenticate({ headers: bearer(await sign(rsa)), path: '/' });
    expect(result).toMatchObject({ kind: 'authenticated', removeHeaders: [], removeQueryParams: [] });
  });

  it('outputs the base64url payload and claims to headers', async () => {
    const token = await sign(rsa, { group: 'admins', level: 3, nested: { team: 'blue' }, roles: ['a'] });
    const authn = inline({
      outputPayloadToHeader: 'X-Jwt-Payload',
      outputClaimToHeaders: [
        { header: 'x-group', claim: 'group' },
        { header: 'x-level', claim: 'level' },
        { header: 'x-team', claim: 'nested.team' },
        { header: 'x-roles', claim: 'roles' },
      ],
    });
    const result = await authn.authenticate({ headers: { ...bearer(token), 'x-group': 'forged' }, path: '/' });
    if (result.kind !== 'authenticated') throw new Error(`expected authenticated, got ${result.kind}`);
    expect(result.setHeaders).toEqual({ 'x-jwt-payload': token.split('.')[1], 'x-group': 'admins', 'x-level': '3', 'x-team': 'blue' });
    expect(JSON.parse(Buffer.from(result.setHeaders['x-jwt-payload'] ?? '', 'base64url').toString())).toMatchObject({ sub: 'alice', group: 'admins' });
    // x-roles (a list) is not output, so a client-sent x-roles is removed; set headers are not in removeHeaders.
    expect([...result.removeHeaders].sort()).toEqual(['authorization', 'x-roles']);
  });

  it('reads fromHeaders with a prefix, and no longer the defaults', async () => {
    const authn = inline({ fromHeaders: [{ name: 'X-Token', prefix: 'Token ' }] });
    const token = await sign(rsa);
    const result = await authn.authenticate({ headers: { 'x-token': `Token ${token}` }, path: '/' });
    expect(result).toMatchObject({ kind: 'authenticated', request: { principal: `${ISSUER}/alice` }, removeHeaders: ['x-token'] });
    expect((await authn.authenticate({ headers: bearer(token), path: '/' })).kind).toBe('anonymous');
    expect((await authn.authenticate({ headers: { 'x-token': token }, path: '/' })).kind).toBe('anonymous');
  });

  it('reads the default access_token parameter and strips it', async () => {
    const result = await inline().authenticate({ headers: {}, path: `/items?access_token=${await sign(rsa)}&page=2` });
    expect(result).toMatchObject({ kind: 'authenticated', removeHeaders: [], removeQueryParams: ['access_token'] });
  });

  it('reads fromCookies', async () => {
    const authn = inline({ fromCookies: ['session'] });
    const result = await authn.authenticate({ headers: { cookie: `theme=dark; session=${await sign(rsa)}` }, path: '/' });
    expect(result).toMatchObject({ kind: 'authenticated', request: { principal: `${ISSUER}/alice` } });
  });

  it("refuses a token at a location only another issuer's rule reads", async () => {
    const otherIssuer = rule({ issuer: 'https://other.example.com', jwks: jwks(rsa), fromHeaders: [{ name: 'x-other', prefix: '' }] });
    const authn = new RequestAuthenticator([rule({ jwks: jwks(rsa) }), otherIssuer], { fetchJwks: noFetch, now: () => NOW_MS });
    const result = await authn.authenticate({ headers: { 'x-other': await sign(rsa) }, path: '/' });
    expectRejected(result, 401, 'Jwt issuer is not configured');
  });

  it('splits the rule spaceDelimitedClaims besides scope and permission', async () => {
    const token = await sign(rsa, { roles: 'editor admin', permission: 'p1 p2', motto: 'a b' });
    const result = await inline({ spaceDelimitedClaims: ['roles'] }).authenticate({ headers: bearer(token), path: '/' });
    expect(result).toMatchObject({ request: { claims: { roles: ['editor', 'admin'], permission: ['p1', 'p2'], motto: 'a b' } } });
  });

  describe('jwksUri', () => {
    it('fetches once with the rule timeout and serves later requests from the cache', async () => {
      const endpoint = fakeJwksEndpoint(jwks(rsa));
      const authn = new RequestAuthenticator([rule({ jwksUri: JWKS_URI, timeoutMs: 2_000 })], { fetchJwks: endpoint.fetchJwks, now: () => NOW_MS });
      const token = await sign(rsa);
      const results = await Promise.all([1, 2, 3].map(() => authn.authenticate({ headers: bearer(token), path: '/' })));
      results.push(await authn.authenticate({ headers: bearer(token), path: '/' }));
      expect(results.map((r) => r.kind)).toEqual(['authenticated', 'authenticated', 'authenticated', 'authenticated']);
      expect(endpoint.state.calls).toEqual([{ uri: JWKS_URI, timeoutMs: 2_000 }]);
    });

    it('refetches on an unknown kid, at most once per refetch interval', async () => {
      const endpoint = fakeJwksEndpoint(jwks(rsa));
      let now = NOW_MS;
      const authn = new RequestAuthenticator([rule({ jwksUri: JWKS_URI })], { fetchJwks: endpoint.fetchJwks, now: () => now, jwksRefetchIntervalMs: 30_000 });
      expect((await authn.authenticate({ headers: bearer(await sign(rsa)), path: '/' })).kind).toBe('authenticated');

      // The issuer rotates to the EC key: the first token with its kid triggers one refetch.
      endpoint.state.document = jwks(rsa, ec);
      now += 31_000;
      expect((await authn.authenticate({ headers: bearer(await sign(ec)), path: '/' })).kind).toBe('authenticated');
      expect(endpoint.state.calls).toHaveLength(2);

      // A random kid right after does not fetch again.
      const bogus = await authn.authenticate({ headers: bearer(await sign(rsa, {}, { kid: 'random' })), path: '/' });
      expectRejected(bogus, 401, "Jwks doesn't have key to match kid or alg from Jwt");
      expect(endpoint.state.calls).toHaveLength(2);
    });

    it('refetches when the cache expires', async () => {
      const endpoint = fakeJwksEndpoint(jwks(rsa));
      let now = NOW_MS;
      const authn = new RequestAuthenticator([rule({ jwksUri: JWKS_URI })], { fetchJwks: endpoint.fetchJwks, now: () => now, jwksCacheMs: 60_000 });
      const token = await sign(rsa, { exp: NOW_S + 3600 });
      await authn.authenticate({ headers: bearer(token), path: '/' });
      now += 61_000;
      await authn.authenticate({ headers: bearer(token), path: '/' });
      expect(endpoint.state.calls).toHaveLength(2);
    });

    it('answers 401 "Jwks remote fetch is failed" when the fetch fails, and does not fetch for anonymous requests', async () => {
      const endpoint = fakeJwksEndpoint(jwks(rsa));
      endpoint.state.fail = true;
      const authn = new RequestAuthenticator([rule({ jwksUri: JWKS_URI })], { fetchJwks: endpoint.fetchJwks, now: () => NOW_MS });
      expect((await authn.authenticate({ headers: {}, path: '/' })).kind).toBe('anonymous');
      expect(endpoint.state.calls).toHaveLength(0);
      expectRejected(await authn.authenticate({ headers: bearer(await sign(rsa)), path: '/' }), 401, 'Jwks remote fetch is failed');
    });
  });
});
