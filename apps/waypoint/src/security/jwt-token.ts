// Parsing and claim checks of one JWT as google/jwt_verify_lib does them for Envoy (jwt.cc, check_audience.cc):
// the same failure for the same defect, in the same order. Signatures are checked elsewhere (jwks-keys.ts).

import type { JwtFailure } from './jwt-status';

/** jwt_verify_lib's `kClockSkewInSecond`, Envoy's default `clock_skew_seconds`. */
export const CLOCK_SKEW_SECONDS = 60;

/** Algorithms jwt_verify_lib implements; anything else is JwtHeaderNotImplementedAlg. */
const IMPLEMENTED_ALGS: ReadonlySet<string> = new Set([
  'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'HS256', 'HS384', 'HS512', 'EdDSA',
]);

const BASE64URL = /^[A-Za-z0-9_-]*$/;

export interface ParsedJwt {
  readonly token: string;
  readonly alg: string;
  /** "" when the header has none. */
  readonly kid: string;
  readonly payload: Readonly<Record<string, unknown>>;
  /** The payload segment exactly as in the token (what `outputPayloadToHeader` forwards). */
  readonly payloadBase64Url: string;
  /** "" when absent. */
  readonly iss: string;
  readonly audiences: readonly string[];
  /** Seconds since the epoch; 0 when absent. */
  readonly exp: number;
  readonly nbf: number;
}

export type JwtParse = { readonly ok: true; readonly jwt: ParsedJwt } | { readonly ok: false; readonly failure: JwtFailure };

function decodeJsonObject(segment: string): Record<string, unknown> | undefined {
  if (!BASE64URL.test(segment)) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch (error: unknown) {
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
}

const fail = (failure: JwtFailure): JwtParse => ({ ok: false, failure });

/** `Jwt::parseFromString`. */
export function parseJwt(token: string): JwtParse {
  const parts = token.split('.');
  const [headerPart, payloadPart, signaturePart] = parts;
  if (parts.length !== 3 || headerPart === undefined || payloadPart === undefined || signaturePart === undefined) return fail('JwtBadFormat');
  const header = decodeJsonObject(headerPart);
  if (header === undefined) return fail('JwtHeaderParseError');
  const alg = header['alg'];
  if (typeof alg !== 'string') return fail('JwtHeaderBadAlg');
  if (!IMPLEMENTED_ALGS.has(alg)) return fail('JwtHeaderNotImplementedAlg');
  const kid = header['kid'] ?? '';
  if (typeof kid !== 'string') return fail('JwtHeaderBadKid');

  const payload = decodeJsonObject(payloadPart);
  if (payload === undefined) return fail('JwtPayloadParseError');
  const iss = payload['iss'] ?? '';
  const aud = payload['aud'] ?? [];
  const exp = payload['exp'] ?? 0;
  const nbf = payload['nbf'] ?? 0;
  const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) && aud.every((a) => typeof a === 'string') ? (aud as string[]) : undefined;
  if (typeof iss !== 'string' || audiences === undefined || typeof exp !== 'number' || typeof nbf !== 'number') return fail('JwtPayloadParseError');
  if (!BASE64URL.test(signaturePart)) return fail('JwtSignatureParseError');

  return { ok: true, jwt: { token, alg, kid, payload, payloadBase64Url: payloadPart, iss, audiences, exp, nbf } };
}

/** `Jwt::verifyTimeConstraint`: nbf after now + skew, or exp before now - skew, fails. */
export function checkTimeConstraint(jwt: ParsedJwt, nowMs: number, skewSeconds: number = CLOCK_SKEW_SECONDS): JwtFailure | undefined {
  const now = Math.floor(nowMs / 1000);
  if (jwt.nbf > now + skewSeconds) return 'JwtNotYetValid';
  if (jwt.exp !== 0 && jwt.exp < now - skewSeconds) return 'JwtExpired';
  return undefined;
}

/** check_audience.cc: scheme `http://`/`https://` and a trailing `/` are ignored on both sides. */
function sanitizeAudience(audience: string): string {
  const bare = audience.replace(/^https?:\/\//, '');
  return bare.endsWith('/') ? bare.slice(0, -1) : bare;
}

/** `CheckAudience::areAudiencesAllowed`: no configured audiences allows any; otherwise one must match. */
export function audiencesAllowed(configured: readonly string[], audiences: readonly string[]): boolean {
  if (configured.length === 0) return true;
  const allowed = new Set(configured.map(sanitizeAudience));
  return audiences.some((a) => allowed.has(sanitizeAudience(a)));
}
