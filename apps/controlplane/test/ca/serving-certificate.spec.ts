// The 15012 serving certificate, and CreateCertificate over real gRPC + TLS on 127.0.0.1:0: the server presents the
// serving certificate, the client trusts only the mesh root, as ztunnel does with `istio-ca-root-cert`.

import { randomBytes } from 'node:crypto';

import * as grpc from '@grpc/grpc-js';
import { certificateInfo, createCertificateAuthority, createMemoryCaStorage, type CertificateAuthority } from '@weft/identity';
import { addCertificateService, createCertificateClient, type CertificateClient, type CertificateServiceHandler as XdsHandler } from '@weft/xds';

import { createBootstrapTokenAuthenticator } from '../../src/ca/caller-authenticator';
import { createCertificateService, UNAUTHENTICATED_MESSAGE } from '../../src/ca/certificate-service';
import { createFileCaStorage } from '../../src/ca/file-ca-storage';
import { createNodeAuthorizer } from '../../src/ca/node-authorizer';
import { issueServingCertificate, servingDnsNames } from '../../src/ca/serving-certificate';
import { makePluggedCa, makeTempDir, opensslText, opensslVerifyChain, podIndex, recordingLogger, removeDir, unwrap, workloadCsr } from './ca-fixtures';

const REVIEWS = 'spiffe://cluster.local/ns/bookinfo/sa/reviews';
const TOKEN = randomBytes(32).toString('hex');
const HOUR = 3600;

let cacerts: string | undefined;
let work: string | undefined;
let ca: CertificateAuthority;

beforeAll(async () => {
  cacerts = await makeTempDir('cacerts');
  work = await makeTempDir('work');
  await makePluggedCa(cacerts, work);
  ca = unwrap(await createCertificateAuthority({ storage: createFileCaStorage(cacerts) }));
});
afterAll(async () => {
  await removeDir(cacerts);
  await removeDir(work);
});

describe('issueServingCertificate', () => {
  it('names istiod.<ns>.svc, weft-controlplane.<ns>.svc, extras and localhost, and renews at half-life', async () => {
    const fixed = new Date('2026-01-01T00:00:00Z');
    const selfSigned = unwrap(await createCertificateAuthority({ storage: createMemoryCaStorage(), clock: () => fixed }));
    const serving = await issueServingCertificate({ ca: selfSigned, namespace: 'istio-system', extraDnsNames: ['cp.example.com', 'localhost'], ttlSeconds: 2 * HOUR });
    expect(serving.dnsNames).toEqual(['istiod.istio-system.svc', 'weft-controlplane.istio-system.svc', 'cp.example.com', 'localhost']);
    expect(serving.renewAt).toEqual(new Date(fixed.getTime() + HOUR * 1000));
    // The root is not sent: clients hold it.
    expect(serving.certChainPem).not.toContain(selfSigned.rootCertPem.trim());
    const text = await opensslText(serving.certChainPem, work as string);
    expect(text).toContain('DNS:istiod.istio-system.svc, DNS:weft-controlplane.istio-system.svc, DNS:cp.example.com, DNS:localhost');
    expect(serving.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });

  it('chains to the plug-in root through the intermediate and is valid for TLS servers (openssl verify -purpose sslserver)', async () => {
    const serving = await issueServingCertificate({ ca, namespace: 'weft' });
    const chain = serving.certChainPem.split(/(?<=-----END CERTIFICATE-----\n)/).filter((pem) => pem !== '');
    expect(chain).toHaveLength(2);
    expect(await opensslVerifyChain([...chain, ca.rootCertPem], work as string, 'sslserver')).toMatch(/: OK/);
    expect(servingDnsNames('weft')).toEqual(['istiod.weft.svc', 'weft-controlplane.weft.svc', 'localhost']);
  });

  it('throws ERR_CA_SERVING_CERT for a name the CA refuses', async () => {
    await expect(issueServingCertificate({ ca, namespace: 'istio-system', extraDnsNames: ['not a name'] })).rejects.toMatchObject({
      code: 'ERR_CA_SERVING_CERT',
    });
  });
});

describe('CreateCertificate over gRPC with TLS on 127.0.0.1:0', () => {
  let server: grpc.Server | undefined;
  let client: CertificateClient | undefined;
  let service: ReturnType<typeof createCertificateService>;

  beforeAll(async () => {
    service = createCertificateService({
      ca,
      authenticator: createBootstrapTokenAuthenticator([{ token: TOKEN, node: 'node-a', namespace: 'istio-system', serviceAccount: 'ztunnel' }]),
      authorizer: createNodeAuthorizer({ trustDomain: 'cluster.local', podsOnNode: podIndex(['node-a/bookinfo/reviews']) }),
      logger: recordingLogger(),
    });
    // Compile-time: the controlplane handler is exactly what libs/xds registers.
    const handler: XdsHandler = service.handle;
    const serving = await issueServingCertificate({ ca, namespace: 'istio-system' });
    server = new grpc.Server();
    addCertificateService(server, handler);
    const credentials = grpc.ServerCredentials.createSsl(
      null,
      [{ private_key: Buffer.from(serving.privateKeyPem), cert_chain: Buffer.from(serving.certChainPem) }],
      false,
    );
    const port = await new Promise<number>((resolve, reject) =>
      (server as grpc.Server).bindAsync('127.0.0.1:0', credentials, (error, bound) => (error ? reject(error) : resolve(bound))),
    );
    client = createCertificateClient(`127.0.0.1:${port}`, grpc.credentials.createSsl(Buffer.from(ca.rootCertPem)), {
      // ztunnel dials istiod.istio-system.svc:15012; the test dials the IP and checks the name it would use.
      'grpc.ssl_target_name_override': 'istiod.istio-system.svc',
      'grpc.default_authority': 'istiod.istio-system.svc',
    });
  });

  afterAll(async () => {
    client?.close();
    const running = server;
    if (running !== undefined) {
      await new Promise<void>((resolve) => running.tryShutdown(() => resolve()));
    }
  });

  it('issues the impersonated identity for a bearer token, with ImpersonatedIdentity in the metadata Struct', async () => {
    const chain = await (client as CertificateClient).createCertificate(
      { csr: await workloadCsr(REVIEWS), validityDurationSeconds: HOUR, impersonatedIdentity: REVIEWS },
      { authorization: `Bearer ${TOKEN}`, clusterId: 'Kubernetes' },
    );
    expect(chain).toHaveLength(3);
    expect(chain[2]).toBe(ca.rootCertPem);
    expect(unwrap(certificateInfo(chain[0] as string)).uriSans).toEqual([REVIEWS]);
    expect(await opensslVerifyChain(chain, work as string)).toMatch(/: OK/);
    expect(service.stats.issued).toBe(1);
  });

  it('answers status UNAUTHENTICATED with the opaque message for a wrong token', async () => {
    await expect(
      (client as CertificateClient).createCertificate(
        { csr: await workloadCsr(REVIEWS), validityDurationSeconds: HOUR, impersonatedIdentity: REVIEWS },
        { authorization: `Bearer ${'f'.repeat(64)}` },
      ),
    ).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED, details: UNAUTHENTICATED_MESSAGE });
  });

  it('answers status INVALID_ARGUMENT for a bad CSR', async () => {
    await expect(
      (client as CertificateClient).createCertificate(
        { csr: 'garbage', validityDurationSeconds: HOUR, impersonatedIdentity: REVIEWS },
        { authorization: `Bearer ${TOKEN}` },
      ),
    ).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
  });
});
