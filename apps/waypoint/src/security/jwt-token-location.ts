// Where a request carries its JWTs, as Envoy's jwt_authn extractor reads them (extractor.cc): each configured header
// (with its value prefix), query parameter and cookie, each location remembering which issuers may use it. Istio's
// defaults for a rule that names no location: `Authorization: Bearer <t>` and the `access_token` parameter.

import type { JwtRule } from '@weft/mesh-model';

export type TokenLocation =
  | { readonly kind: 'header'; readonly name: string; readonly prefix: string }
  | { readonly kind: 'param'; readonly name: string }
  | { readonly kind: 'cookie'; readonly name: string };

/** A location and the issuers whose rules read tokens there. */
export interface LocationSpec {
  readonly location: TokenLocation;
  readonly issuers: ReadonlySet<string>;
}

/** One token found in a request. */
export interface ExtractedToken {
  readonly token: string;
  readonly location: TokenLocation;
  readonly issuers: ReadonlySet<string>;
}

export type RequestHeaders = Readonly<Record<string, string | readonly string[]>>;

const DEFAULT_LOCATIONS: readonly TokenLocation[] = [
  { kind: 'header', name: 'authorization', prefix: 'Bearer ' },
  { kind: 'param', name: 'access_token' },
];

/** The characters a JWT consists of (base64url and the dots), where Envoy's `extractJWT` stops after a prefix. */
const JWT_CHARS = /^[A-Za-z0-9_\-.=+/]*/;

function locationsOf(rule: JwtRule): readonly TokenLocation[] {
  const explicit: TokenLocation[] = [
    ...rule.fromHeaders.map((h): TokenLocation => ({ kind: 'header', name: h.name.toLowerCase(), prefix: h.prefix })),
    ...rule.fromParams.map((name): TokenLocation => ({ kind: 'param', name })),
    ...rule.fromCookies.map((name): TokenLocation => ({ kind: 'cookie', name })),
  ];
  return explicit.length > 0 ? explicit : DEFAULT_LOCATIONS;
}

const locationKey = (l: TokenLocation): string => (l.kind === 'header' ? `header:${l.name}:${l.prefix}` : `${l.kind}:${l.name}`);

/** The union of every rule's locations, in Envoy's extraction order: headers, then parameters, then cookies. */
export function compileLocations(rules: readonly JwtRule[]): readonly LocationSpec[] {
  const byKey = new Map<string, { location: TokenLocation; issuers: Set<string> }>();
  for (const rule of rules) {
    for (const location of locationsOf(rule)) {
      const key = locationKey(location);
      const spec = byKey.get(key) ?? { location, issuers: new Set<string>() };
      spec.issuers.add(rule.issuer);
      byKey.set(key, spec);
    }
  }
  const order = { header: 0, param: 1, cookie: 2 } as const;
  return [...byKey.values()].sort((a, b) => order[a.location.kind] - order[b.location.kind]);
}

export function headerValue(headers: RequestHeaders, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) {
    // Envoy joins repeated headers with ',' (HeaderUtility::getAllOfHeaderAsString).
    if (key.toLowerCase() === name) return typeof value === 'string' ? value : value.join(',');
  }
  return undefined;
}

function decodeComponent(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch (error: unknown) {
    if (error instanceof URIError) return value;
    throw error;
  }
}

/** The first value of a query parameter, percent-decoded. */
export function queryParam(path: string, name: string): string | undefined {
  const at = path.indexOf('?');
  if (at < 0) return undefined;
  for (const pair of path.slice(at + 1).split('#')[0]?.split('&') ?? []) {
    const eq = pair.indexOf('=');
    const key = decodeComponent(eq < 0 ? pair : pair.slice(0, eq));
    if (key === name) return decodeComponent(eq < 0 ? '' : pair.slice(eq + 1));
  }
  return undefined;
}

/** A cookie's value (Envoy `parseCookieValue`: first match, surrounding quotes removed). */
function cookieValue(headers: RequestHeaders, name: string): string | undefined {
  const raw = headerValue(headers, 'cookie');
  if (raw === undefined) return undefined;
  for (const part of raw.split(/[;,]/)) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim();
    return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
  }
  return undefined;
}

function extractOne(location: TokenLocation, headers: RequestHeaders, path: string): string | undefined {
  switch (location.kind) {
    case 'header': {
      const value = headerValue(headers, location.name);
      if (value === undefined || location.prefix === '') return value;
      // Envoy looks for the prefix anywhere in the value and takes the JWT characters after it.
      const at = value.indexOf(location.prefix);
      return at < 0 ? undefined : (JWT_CHARS.exec(value.slice(at + location.prefix.length))?.[0] ?? '');
    }
    case 'param':
      return queryParam(path, location.name);
    case 'cookie':
      return cookieValue(headers, location.name);
  }
}

/** Every token the request carries at a configured location. */
export function extractTokens(specs: readonly LocationSpec[], headers: RequestHeaders, path: string): ExtractedToken[] {
  const tokens: ExtractedToken[] = [];
  for (const { location, issuers } of specs) {
    const token = extractOne(location, headers, path);
    if (token !== undefined) tokens.push({ token, location, issuers });
  }
  return tokens;
}
