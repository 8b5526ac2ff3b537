// A parsed JSON Web Key Set and signature verification against it, with jwt_verify_lib's key selection (jwks.cc,
// verify.cc): keys that do not parse are skipped, a key is tried when its kid and alg agree with the token, and the
// outcome distinguishes "no key fits" from "a key fits but the signature is wrong". Crypto is jose's.

import { compactVerify, importJWK, type JWK, type KeyLike } from 'jose';
import type { JwtFailure } from './jwt-status';
import type { ParsedJwt } from './jwt-token';

interface KeyEntry {
  readonly jwk: JWK;
  readonly kty: string;
  readonly kid: string;
  readonly alg: string;
  readonly crv: string;
  /** Imported keys by algorithm; an import jose refuses resolves to undefined. */
  readonly imported: Map<string, Promise<KeyLike | Uint8Array | undefined>>;
}

/** The usable keys of one JWKS. */
export interface KeySet {
  readonly keys: readonly KeyEntry[];
}

export type KeySetParse = { readonly ok: true; readonly keySet: KeySet } | { readonly ok: false; readonly failure: JwtFailure };

const isString = (v: unknown): v is string => typeof v === 'string';

/** jwks.cc `extractJwk`: the fields each key type needs; a key without them is skipped. */
function keyEntry(value: unknown): KeyEntry | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const jwk = value as Record<string, unknown>;
  const { kty, kid = '', alg = '', crv = '' } = jwk;
  if (!isString(kty) || !isString(kid) || !isString(alg) || !isString(crv)) return undefined;
  const has = (...names: string[]) => names.every((n) => isString(jwk[n]));
  const fits =
    (kty === 'RSA' && has('n', 'e') && (alg === '' || alg.startsWith('RS') || alg.startsWith('PS'))) ||
    (kty === 'EC' && has('x', 'y', 'crv') && (alg === '' || alg.startsWith('ES'))) ||
    (kty === 'oct' && has('k') && (alg === '' || alg.startsWith('HS'))) ||
    (kty === 'OKP' && has('x', 'crv') && (alg === '' || alg === 'EdDSA'));
  return fits ? { jwk: { ...jwk, kty } as JWK, kty, kid, alg, crv, imported: new Map() } : undefined;
}

/** `Jwks::createFrom` for JWKS JSON, given as text or as an already parsed value. */
export function parseKeySet(input: unknown): KeySetParse {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (error: unknown) {
      if (error instanceof SyntaxError) return { ok: false, failure: 'JwksParseError' };
      throw error;
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, failure: 'JwksParseError' };
  const keys: unknown = (value as Record<string, unknown>)['keys'];
  if (keys === undefined) return { ok: false, failure: 'JwksNoKeys' };
  if (!Array.isArray(keys)) return { ok: false, failure: 'JwksBadKeys' };
  const entries = keys.map(keyEntry).filter((k): k is KeyEntry => k !== undefined);
  if (entries.length === 0) return { ok: false, failure: 'JwksNoValidKeys' };
  return { ok: true, keySet: { keys: entries } };
}

const EC_CURVES: Readonly<Record<string, string>> = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' };

/** verify.cc: the key type (and EC curve) an algorithm needs. */
function keyFitsAlg(key: KeyEntry, alg: string): boolean {
  if (alg.startsWith('RS') || alg.startsWith('PS')) return key.kty === 'RSA';
  if (alg.startsWith('ES')) return key.kty === 'EC' && key.crv === EC_CURVES[alg];
  if (alg.startsWith('HS')) return key.kty === 'oct';
  return alg === 'EdDSA' && key.kty === 'OKP';
}

function importKey(key: KeyEntry, alg: string): Promise<KeyLike | Uint8Array | undefined> {
  let imported = key.imported.get(alg);
  if (imported === undefined) {
    // jose rejects keys it cannot use (a short RSA modulus, a bad point); such a key simply does not verify.
    imported = importJWK({ ...key.jwk, alg }, alg).catch(() => undefined);
    key.imported.set(alg, imported);
  }
  return imported;
}

/**
 * `verifyJwtWithoutTimeChecking`: every key whose kid (when both have one) and alg (when the key names one) agree
 * is tried. None tried: JwksKidAlgMismatch; tried but none verified: JwtVerificationFail.
 */
export async function verifySignature(jwt: ParsedJwt, keySet: KeySet): Promise<JwtFailure | undefined> {
  let kidAlgMatched = false;
  for (const key of keySet.keys) {
    if (jwt.kid !== '' && key.kid !== '' && key.kid !== jwt.kid) continue;
    if (key.alg !== '' && key.alg !== jwt.alg) continue;
    if (!keyFitsAlg(key, jwt.alg)) continue;
    kidAlgMatched = true;
    const imported = await importKey(key, jwt.alg);
    if (imported === undefined) continue;
    const verified = await compactVerify(jwt.token, imported, { algorithms: [jwt.alg] }).then(
      () => true,
      () => false,
    );
    if (verified) return undefined;
  }
  return kidAlgMatched ? 'JwtVerificationFail' : 'JwksKidAlgMismatch';
}
