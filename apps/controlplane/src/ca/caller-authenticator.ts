// Who is calling CreateCertificate: istiod's `KubeJWTAuthenticator` (reference §3.3 step 1) turns the bearer token
// into a namespace/service account and the bound pod. Two sources: bootstrap tokens from a file (manifest mode, no
// Kubernetes API) and a Kubernetes TokenReview (injected, so this file does no API calls of its own).

import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';

import { parse as parseYaml } from 'yaml';

import { CaError } from './ca-error';

/** The authenticated caller; istiod's `security.Caller` with its `KubernetesInfo`. */
export interface Caller {
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly podName?: string;
  readonly podUid?: string;
  /** The node the caller runs on, when the credential says so (a node-bound token, a bootstrap token). */
  readonly nodeName?: string;
}

export type AuthenticationResult =
  | { readonly ok: true; readonly caller: Caller }
  | { readonly ok: false; readonly reason: string };

export interface CallerAuthenticator {
  /** `clusterId` is the `clusterid` header; istiod picks that cluster's API client with it. */
  authenticate(bearerToken: string, clusterId: string | undefined): Promise<AuthenticationResult>;
}

// ---------------------------------------------------------------------------------------------------------------
// Manifest mode: bootstrap tokens.

/**
 * One line of the bootstrap token file. The file is YAML (JSON is valid YAML):
 *
 * ```yaml
 * # One token per node; generate each with `openssl rand -hex 32`. The file is a secret: mode 0600.
 * tokens:
 *   - token: 3f9c…            # at least 32 characters
 *     node: node-a            # the node whose ztunnel presents it; bounds which pods it may impersonate
 *     namespace: istio-system # optional, default istio-system
 *     serviceAccount: ztunnel # optional, default ztunnel
 * ```
 *
 * A caller presenting `token` is authenticated as `namespace/serviceAccount` running on `node`.
 */
export interface BootstrapToken {
  readonly token: string;
  readonly node: string;
  readonly namespace: string;
  readonly serviceAccount: string;
}

export const BOOTSTRAP_TOKEN_MIN_LENGTH = 32;
const DEFAULT_BOOTSTRAP_NAMESPACE = 'istio-system';
const DEFAULT_BOOTSTRAP_SERVICE_ACCOUNT = 'ztunnel';
// Kubernetes object names: DNS-1123 labels/subdomains.
const K8S_NAME = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/;

/** Parse the bootstrap token file; every problem is reported at once in one `ERR_CA_TOKEN_FILE_INVALID`. */
export function parseBootstrapTokens(text: string, source: string): BootstrapToken[] {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (cause) {
    throw new CaError('ERR_CA_TOKEN_FILE_INVALID', `${source} is not valid YAML/JSON`, undefined, { cause });
  }
  const entries = isRecord(document) ? document['tokens'] : undefined;
  if (!Array.isArray(entries)) {
    const hint = 'see BootstrapToken for the format';
    throw new CaError('ERR_CA_TOKEN_FILE_INVALID', `${source} has no "tokens" list`, hint);
  }
  const problems: string[] = [];
  const tokens: BootstrapToken[] = [];
  const seen = new Set<string>();
  entries.forEach((entry: unknown, index) => {
    const at = `tokens[${index}]`;
    if (!isRecord(entry)) return void problems.push(`${at} is not a map`);
    const token = entry['token'];
    const node = entry['node'];
    const namespace = entry['namespace'] ?? DEFAULT_BOOTSTRAP_NAMESPACE;
    const serviceAccount = entry['serviceAccount'] ?? DEFAULT_BOOTSTRAP_SERVICE_ACCOUNT;
    if (typeof token !== 'string' || token.length < BOOTSTRAP_TOKEN_MIN_LENGTH) {
      problems.push(`${at}.token must be a string of at least ${BOOTSTRAP_TOKEN_MIN_LENGTH} characters`);
    } else if (seen.has(token)) {
      problems.push(`${at}.token repeats an earlier token (each node needs its own)`);
    }
    for (const [field, value] of [['node', node], ['namespace', namespace], ['serviceAccount', serviceAccount]]) {
      if (!isK8sName(value)) problems.push(`${at}.${field} must be a Kubernetes name`);
    }
    // Problems were recorded above; keep only fully valid entries. Token values never appear in messages.
    if (typeof token !== 'string' || token.length < BOOTSTRAP_TOKEN_MIN_LENGTH || seen.has(token)) return;
    if (!isK8sName(node) || !isK8sName(namespace) || !isK8sName(serviceAccount)) return;
    seen.add(token);
    tokens.push({ token, node, namespace, serviceAccount });
  });
  if (problems.length > 0) {
    throw new CaError('ERR_CA_TOKEN_FILE_INVALID', `${source}: ${problems.join('; ')}`);
  }
  return tokens;
}

/** Read and parse the bootstrap token file at `file`. */
export async function loadBootstrapTokens(file: string): Promise<BootstrapToken[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new CaError('ERR_CA_TOKEN_FILE_INVALID', `cannot read bootstrap token file ${file}`, undefined, { cause });
  }
  return parseBootstrapTokens(text, file);
}

/**
 * Authenticate bootstrap tokens. Tokens are compared as SHA-256 digests with `timingSafeEqual`, so the comparison
 * time depends neither on the token's length nor on how many leading characters match, and every entry is
 * compared (no early exit) so the position of a match is not observable either.
 */
export function createBootstrapTokenAuthenticator(tokens: readonly BootstrapToken[]): CallerAuthenticator {
  const entries = tokens.map((entry) => ({ entry, digest: sha256(entry.token) }));
  return {
    authenticate(bearerToken) {
      if (bearerToken === '') return Promise.resolve({ ok: false, reason: 'no bearer token' });
      const presented = sha256(bearerToken);
      let match: BootstrapToken | undefined;
      for (const { entry, digest } of entries) {
        if (timingSafeEqual(presented, digest) && match === undefined) match = entry;
      }
      if (match === undefined) return Promise.resolve({ ok: false, reason: 'bootstrap token not recognised' });
      const { namespace, serviceAccount, node } = match;
      return Promise.resolve({ ok: true, caller: { namespace, serviceAccount, nodeName: node } });
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Kubernetes TokenReview.

/** `TOKEN_AUDIENCES` default: the audience of ztunnel's projected `istio-token`. */
export const DEFAULT_TOKEN_AUDIENCES: readonly string[] = ['istio-ca'];

/** The parts of `authentication.k8s.io/v1` `TokenReviewStatus` the CA reads. */
export interface TokenReviewStatus {
  readonly authenticated?: boolean;
  readonly error?: string;
  readonly audiences?: readonly string[];
  readonly user?: {
    readonly username?: string;
    readonly uid?: string;
    readonly extra?: Readonly<Record<string, readonly string[]>>;
  };
}

/** Creates a TokenReview in the cluster named by `clusterId` and resolves its status; rejects on API failure. */
export type TokenReviewFunction = (
  token: string,
  audiences: readonly string[],
  clusterId: string | undefined,
) => Promise<TokenReviewStatus>;

const SERVICE_ACCOUNT_USER_PREFIX = 'system:serviceaccount:';
const EXTRA_POD_NAME = 'authentication.kubernetes.io/pod-name';
const EXTRA_POD_UID = 'authentication.kubernetes.io/pod-uid';
const EXTRA_NODE_NAME = 'authentication.kubernetes.io/node-name';

export interface TokenReviewAuthenticatorOptions {
  readonly tokenReview: TokenReviewFunction;
  readonly audiences?: readonly string[];
}

/**
 * istiod's `kube_jwt.go`: the review must be authenticated without error, for one of our audiences, of a user
 * `system:serviceaccount:<ns>:<sa>`. The pod name/UID (and, from Kubernetes 1.32, the node) come from the bound
 * token's `extra`.
 */
export function createTokenReviewAuthenticator(options: TokenReviewAuthenticatorOptions): CallerAuthenticator {
  const audiences = options.audiences ?? DEFAULT_TOKEN_AUDIENCES;
  return {
    async authenticate(bearerToken, clusterId) {
      if (bearerToken === '') return { ok: false, reason: 'no bearer token' };
      let status: TokenReviewStatus;
      try {
        status = await options.tokenReview(bearerToken, audiences, clusterId);
      } catch (cause) {
        return { ok: false, reason: `TokenReview failed: ${cause instanceof Error ? cause.message : String(cause)}` };
      }
      if (status.error !== undefined && status.error !== '') {
        return { ok: false, reason: `TokenReview: ${status.error}` };
      }
      if (status.authenticated !== true) return { ok: false, reason: 'TokenReview: token not authenticated' };
      // The API server echoes the audiences the token is valid for; an empty list means the API server's default.
      const granted = status.audiences ?? [];
      if (granted.length > 0 && !granted.some((audience) => audiences.includes(audience))) {
        const reason = `TokenReview: token audiences [${granted.join(', ')}] exclude ${audiences.join(', ')}`;
        return { ok: false, reason };
      }
      const username = status.user?.username ?? '';
      const parts = username.startsWith(SERVICE_ACCOUNT_USER_PREFIX) ? username.split(':') : [];
      const [, , namespace, serviceAccount] = parts;
      if (parts.length !== 4 || !namespace || !serviceAccount) {
        return { ok: false, reason: `TokenReview: user "${username}" is not a service account` };
      }
      const extra = status.user?.extra ?? {};
      const podName = extra[EXTRA_POD_NAME]?.[0];
      const podUid = extra[EXTRA_POD_UID]?.[0];
      const nodeName = extra[EXTRA_NODE_NAME]?.[0];
      const caller: Caller = {
        namespace,
        serviceAccount,
        ...(podName !== undefined && { podName }),
        ...(podUid !== undefined && { podUid }),
        ...(nodeName !== undefined && { nodeName }),
      };
      return { ok: true, caller };
    },
  };
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

function isK8sName(value: unknown): value is string {
  return typeof value === 'string' && K8S_NAME.test(value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
