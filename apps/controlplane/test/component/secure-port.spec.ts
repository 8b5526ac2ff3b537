// 15012 as ztunnel uses it: TLS with the mesh CA's serving certificate, xDS for authenticated callers, and
// CreateCertificate with node-scoped impersonation; plus the monitoring port's views of it all.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import * as grpc from '@grpc/grpc-js';
import { createCertificateClient, type CertificateClient } from '@weft/xds';

import { opensslVerifyChain, workloadCsr } from '../ca/ca-fixtures';
import { Harness, TOKENS, authorizationPolicy, namespace, pod } from './harness';

jest.setTimeout(30_000);

const SLEEP_ID = 'spiffe://cluster.local/ns/default/sa/sleep';
const REMOTE_ID = 'spiffe://cluster.local/ns/default/sa/remote';

function grpcCode(error: unknown): number | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'number' ? error.code : undefined;
}

describe('the secure port (15012) and the monitoring port (15014)', () => {
  let harness: Harness;
  let ca: CertificateClient;
  let scratch: string;

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(tmpdir(), 'weft-cp-verify-'));
    harness = await Harness.start({
      'objects.yaml': [
        namespace('default', { 'istio.io/dataplane-mode': 'ambient' }),
        pod('default', 'sleep-1', { ip: '10.1.0.10', node: 'node-a', serviceAccount: 'sleep', redirected: true }),
        pod('default', 'remote-1', { ip: '10.1.1.10', node: 'node-b', serviceAccount: 'remote', redirected: true }),
        // Invalid: selector and targetRefs together. Reported, never served.
        authorizationPolicy('default', 'both', {
          selector: { matchLabels: { app: 'x' } },
          targetRefs: [{ kind: 'Service', group: '', name: 'x' }],
          action: 'DENY',
          rules: [{}],
        }),
      ],
    });
    ca = createCertificateClient(
      `127.0.0.1:${harness.controlplane.ports.xdsTls}`,
      grpc.credentials.createSsl(Buffer.from(harness.controlplane.rootCertPem)),
      { 'grpc.ssl_target_name_override': 'istiod.istio-system.svc' },
    );
  });

  afterAll(async () => {
    ca?.close();
    await harness?.close();
    await rm(scratch, { recursive: true, force: true });
  });

  const ask = async (token: string | undefined, impersonate: string | undefined, csr?: string): Promise<string[]> =>
    ca.createCertificate(
      {
        csr: csr ?? (await workloadCsr(impersonate ?? SLEEP_ID)),
        validityDurationSeconds: 3600,
        ...(impersonate === undefined ? {} : { impersonatedIdentity: impersonate }),
      },
      token === undefined ? {} : { authorization: `Bearer ${token}` },
    );

  it('issues a certificate for a pod on the caller node, whose chain openssl verifies', async () => {
    const chain = await ask(TOKENS.ztunnelA, SLEEP_ID);
    expect(chain.length).toBeGreaterThanOrEqual(2);
    expect(chain[chain.length - 1]).toBe(harness.controlplane.rootCertPem.trim() + '\n');
    await expect(opensslVerifyChain(chain, scratch)).resolves.toContain('OK');
  });

  it.each([
    ['a pod on another node', TOKENS.ztunnelA, REMOTE_ID, 'request impersonation authentication failure'],
    ['a caller that is not a trusted node account', TOKENS.sleepA, SLEEP_ID, 'request impersonation authentication failure'],
    ['an unknown token', 'not-a-known-token-0123456789abcdef0123', SLEEP_ID, 'request authenticate failure'],
    ['no token', undefined, SLEEP_ID, 'request authenticate failure'],
  ])('refuses %s with an opaque Unauthenticated', async (_case, token, identity, details) => {
    const error: unknown = await ask(token, identity).then(() => undefined, (e: unknown) => e);
    expect(grpcCode(error)).toBe(grpc.status.UNAUTHENTICATED);
    expect(String(error)).toContain(details);
  });

  it('refuses a bad CSR as an invalid argument', async () => {
    const error: unknown = await ask(TOKENS.ztunnelA, SLEEP_ID, '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(grpcCode(error)).toBe(grpc.status.INVALID_ARGUMENT);
  });

  it('serves xDS over TLS to an authenticated caller and refuses an anonymous one', async () => {
    const trusted = await harness.connect({ tls: { token: TOKENS.ztunnelB } });
    await trusted.client?.ready();
    expect([...trusted.addresses.keys()].sort()).toEqual(['Kubernetes//Pod/default/remote-1', 'Kubernetes//Pod/default/sleep-1']);

    const anonymous = await harness.connect({ tls: {} });
    await anonymous.waitFor(() => anonymous.client?.status().lastError !== undefined, 'refusal', 10_000);
    expect(anonymous.client?.status().lastError?.grpcCode).toBe(grpc.status.UNAUTHENTICATED);
    anonymous.client?.destroy();
  });

  it('reports readiness, istiod-named metrics, connections and config errors', async () => {
    const base = `http://127.0.0.1:${harness.controlplane.ports.monitoring}`;
    expect((await fetch(`${base}/ready`)).status).toBe(200);

    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^pilot_xds\{listener="https-dns"\} [1-9]/m);
    expect(metrics).toMatch(/^citadel_server_success_cert_issuance_count [1-9]/m);
    expect(metrics).toMatch(/^citadel_server_authentication_failure_count [1-9]/m);
    expect(metrics).toMatch(/^citadel_server_csr_parsing_err_count [1-9]/m);
    expect(metrics).toMatch(/^pilot_total_rejected_configs 1$/m);

    const connections = (await (await fetch(`${base}/debug/connections`)).json()) as Record<string, { identity?: string }[]>;
    expect(connections['https-dns']?.map((c) => c.identity)).toContain('spiffe://cluster.local/ns/istio-system/sa/ztunnel');

    const errors = (await (await fetch(`${base}/debug/config_errors`)).json()) as {
      rejected: Record<string, string>;
      problems: { key: string; level: string; field: string }[];
    };
    expect(errors.rejected).toEqual({ 'AuthorizationPolicy/default/both': 'excluded' });
    expect(errors.problems).toContainEqual(expect.objectContaining({ key: 'AuthorizationPolicy/default/both', level: 'error' }));

    const dump = (await (await fetch(`${base}/debug/config_dump`)).json()) as { workloads: unknown[]; authorizations: unknown[] };
    expect(dump.workloads).toHaveLength(2);
    expect(dump.authorizations).toEqual([]);
  });
});
