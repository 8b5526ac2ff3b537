// RequestAuthentication at the waypoint (reference §6.8), as Istio configures Envoy's jwt_authn: one provider per
// jwtRule under `requires_any [providers…, allow_missing]`. A request without a token passes anonymously; every
// token present must verify (issuer → time → audience → signature, Envoy's order) or the request is refused.

import type { JwtRule } from '@weft/mesh-model';
import { DEFAULT_JWKS_CACHE_MS, DEFAULT_JWKS_FETCH_TIMEOUT_MS, DEFAULT_JWKS_REFETCH_INTERVAL_MS, JwksCache, type JwksFetcher, type KeySetLookup } from './jwks-cache';
import { parseKeySet, verifySignature } from './jwks-keys';
import { JWT_STATUS_TEXT, httpStatusOf, type JwtFailure } from './jwt-status';
import { audiencesAllowed, checkTimeConstraint, parseJwt, type ParsedJwt } from './jwt-token';
import { compileLocations, extractTokens, headerValue, type ExtractedToken, type LocationSpec, type RequestHeaders } from './jwt-token-location';
import { claimAt, claimHeaderValue, splitSpaceDelimitedClaims } from './jwt-claims';

/** The authenticated caller of a request, as AuthorizationPolicy sees it (`requestPrincipals`, `request.auth.*`). */
export interface AuthenticatedRequest {
  /** `<iss>/<sub>`; absent when the token lacks either. */
  readonly principal?: string;
  /** The payload; `scope`, `permission` and the rule's spaceDelimitedClaims split into lists as Istio does. */
  readonly claims?: Readonly<Record<string, unknown>>;
  readonly audiences?: readonly string[];
  /** `azp`. */
  readonly presenter?: string;
}

export type AuthnResult =
  /** No token: allowed, no request principal. `removeHeaders` drops client-sent copies of the output headers. */
  | { readonly kind: 'anonymous'; readonly removeHeaders: readonly string[] }
  | {
      readonly kind: 'authenticated';
      readonly request: AuthenticatedRequest;
      /**
       * Header changes to apply before forwarding: the token is stripped unless forwardOriginalToken;
       * outputPayloadToHeader (base64url payload) and outputClaimToHeaders are set. The two lists never overlap.
       */
      readonly setHeaders: Readonly<Record<string, string>>;
      readonly removeHeaders: readonly string[];
      readonly removeQueryParams: readonly string[];
    }
  /**
   * Envoy's local reply: the body is jwt_verify_lib's status text; 403 only for "Audiences in Jwt are not allowed".
   * `headers` holds Envoy's `www-authenticate` challenge.
   */
  | { readonly kind: 'rejected'; readonly status: 401 | 403; readonly body: string; readonly headers: Readonly<Record<string, string>> };

export interface RequestAuthenticatorOptions {
  readonly fetchJwks: JwksFetcher;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
  /** How long fetched keys are used before a refetch; default 10 minutes (Envoy). */
  readonly jwksCacheMs?: number;
  /** Least time between refetches caused by an unknown kid; default 30 s. */
  readonly jwksRefetchIntervalMs?: number;
}

export interface AuthnRequest {
  readonly headers: RequestHeaders;
  /** `:path`, query included. */
  readonly path: string;
}

type KeySource = { readonly kind: 'inline'; readonly lookup: KeySetLookup } | { readonly kind: 'remote'; readonly uri: string; readonly timeoutMs: number };

interface CompiledRule {
  readonly rule: JwtRule;
  readonly keys: KeySource;
}

type Verified = { readonly ok: true; readonly jwt: ParsedJwt; readonly rule: JwtRule } | { readonly ok: false; readonly failure: JwtFailure };

/** Envoy `MaximumUriLength` for the realm of the challenge. */
const MAX_REALM_PATH = 256;

export class RequestAuthenticator {
  private readonly rules: readonly CompiledRule[];
  private readonly locations: readonly LocationSpec[];
  /** Output headers a client must not be able to forge (Envoy `sanitizePayloadHeaders`). */
  private readonly outputHeaders: readonly string[];
  private readonly jwks: JwksCache;

  constructor(rules: readonly JwtRule[], private readonly options: RequestAuthenticatorOptions) {
    this.rules = rules.map((rule) => ({ rule, keys: keySourceOf(rule) }));
    this.locations = compileLocations(rules);
    this.outputHeaders = [
      ...new Set(
        rules.flatMap((r) => [r.outputPayloadToHeader, ...r.outputClaimToHeaders.map((c) => c.header)].filter((h) => h !== '').map((h) => h.toLowerCase())),
      ),
    ];
    this.jwks = new JwksCache({
      fetchJwks: options.fetchJwks,
      now: options.now,
      cacheMs: options.jwksCacheMs ?? DEFAULT_JWKS_CACHE_MS,
      refetchIntervalMs: options.jwksRefetchIntervalMs ?? DEFAULT_JWKS_REFETCH_INTERVAL_MS,
    });
  }

  async authenticate(req: AuthnRequest): Promise<AuthnResult> {
    const tokens = extractTokens(this.locations, req.headers, req.path);
    if (tokens.length === 0) return { kind: 'anonymous', removeHeaders: this.outputHeaders };
    const verified: { token: ExtractedToken; jwt: ParsedJwt; rule: JwtRule }[] = [];
    for (const token of tokens) {
      const outcome = await this.verify(token);
      // Every token must verify: a good token next to a bad one would let a backend trust the bad one (Envoy).
      if (!outcome.ok) return rejection(outcome.failure, req);
      verified.push({ token, jwt: outcome.jwt, rule: outcome.rule });
    }
    return this.authenticated(verified);
  }

  private async verify(token: ExtractedToken): Promise<Verified> {
    const parsed = parseJwt(token.token);
    if (!parsed.ok) return parsed;
    const jwt = parsed.jwt;
    if (!token.issuers.has(jwt.iss)) return { ok: false, failure: 'JwtUnknownIssuer' };
    const compiled = this.rules.find((r) => r.rule.issuer === jwt.iss);
    if (compiled === undefined) return { ok: false, failure: 'JwtUnknownIssuer' };
    const early = checkTimeConstraint(jwt, this.options.now()) ?? (audiencesAllowed(compiled.rule.audiences, jwt.audiences) ? undefined : 'JwtAudienceNotAllowed');
    if (early !== undefined) return { ok: false, failure: early };
    const failure = await this.verifyWithKeys(jwt, compiled.keys);
    return failure === undefined ? { ok: true, jwt, rule: compiled.rule } : { ok: false, failure };
  }

  private async verifyWithKeys(jwt: ParsedJwt, source: KeySource): Promise<JwtFailure | undefined> {
    if (source.kind === 'inline') return source.lookup.ok ? verifySignature(jwt, source.lookup.keySet) : source.lookup.failure;
    const lookup = await this.jwks.get(source.uri, source.timeoutMs);
    if (!lookup.ok) return lookup.failure;
    const failure = await verifySignature(jwt, lookup.keySet);
    if (failure !== 'JwksKidAlgMismatch') return failure;
    // The issuer may have rotated to a key published after our fetch (Envoy lacks this; see its authenticator TODO).
    const refreshed = await this.jwks.refreshForUnknownKey(source.uri, source.timeoutMs);
    return refreshed?.ok === true ? verifySignature(jwt, refreshed.keySet) : failure;
  }

  private authenticated(verified: readonly { token: ExtractedToken; jwt: ParsedJwt; rule: JwtRule }[]): AuthnResult {
    const setHeaders: Record<string, string> = {};
    const removeHeaders = new Set(this.outputHeaders);
    const removeQueryParams = new Set<string>();
    for (const { token, jwt, rule } of verified) {
      if (rule.outputPayloadToHeader !== '') setHeaders[rule.outputPayloadToHeader.toLowerCase()] = jwt.payloadBase64Url;
      for (const { header, claim } of rule.outputClaimToHeaders) {
        const value = claimHeaderValue(claimAt(jwt.payload, claim));
        if (value !== undefined) setHeaders[header.toLowerCase()] = value;
      }
      if (!rule.forwardOriginalToken) {
        // Envoy removes a header location whole; cookies stay (Envoy does the same). Envoy leaves query
        // parameters too (a TODO in its authenticator); Weft strips them so the token does not reach the backend.
        if (token.location.kind === 'header') removeHeaders.add(token.location.name);
        if (token.location.kind === 'param') removeQueryParams.add(token.location.name);
      }
    }
    for (const name of Object.keys(setHeaders)) removeHeaders.delete(name);
    const first = verified[0];
    return {
      kind: 'authenticated',
      request: first === undefined ? {} : authenticatedRequest(first.jwt, first.rule),
      setHeaders,
      removeHeaders: [...removeHeaders],
      removeQueryParams: [...removeQueryParams],
    };
  }
}

function keySourceOf(rule: JwtRule): KeySource {
  if (rule.jwks !== '') return { kind: 'inline', lookup: parseKeySet(rule.jwks) };
  if (rule.jwksUri !== '') return { kind: 'remote', uri: rule.jwksUri, timeoutMs: rule.timeoutMs ?? DEFAULT_JWKS_FETCH_TIMEOUT_MS };
  // istiod resolves a missing jwksUri through OIDC discovery before pushing; a rule without keys verifies nothing.
  return { kind: 'inline', lookup: { ok: false, failure: 'JwksNoValidKeys' } };
}

function authenticatedRequest(jwt: ParsedJwt, rule: JwtRule): AuthenticatedRequest {
  const sub = jwt.payload['sub'];
  const azp = jwt.payload['azp'];
  return {
    ...(jwt.iss !== '' && typeof sub === 'string' ? { principal: `${jwt.iss}/${sub}` } : {}),
    claims: splitSpaceDelimitedClaims(jwt.payload, rule.spaceDelimitedClaims),
    audiences: jwt.audiences,
    ...(typeof azp === 'string' ? { presenter: azp } : {}),
  };
}

/** Envoy `buildOriginalUri`: `<x-forwarded-proto>://<host><path>`, the path cut at 256 characters. */
function originalUri(req: AuthnRequest): string {
  const scheme = headerValue(req.headers, 'x-forwarded-proto') ?? 'http';
  const host = headerValue(req.headers, ':authority') ?? headerValue(req.headers, 'host') ?? '';
  return `${scheme}://${host}${req.path.slice(0, MAX_REALM_PATH)}`;
}

function rejection(failure: JwtFailure, req: AuthnRequest): AuthnResult {
  return {
    kind: 'rejected',
    status: httpStatusOf(failure),
    body: JWT_STATUS_TEXT[failure],
    // A token was present, so Envoy appends the invalid_token error (it omits it only for JwtMissed).
    headers: { 'www-authenticate': `Bearer realm="${originalUri(req)}", error="invalid_token"` },
  };
}
