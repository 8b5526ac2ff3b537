import * as grpc from '@grpc/grpc-js';
import {
  addCertificateService,
  createCertificateClient,
  type CertificateCallMetadata,
  type CertificateRequest,
  type CertificateServiceHandler,
} from './certificate-service';

interface Seen {
  request: CertificateRequest;
  metadata: CertificateCallMetadata;
}

async function startServer(handler: CertificateServiceHandler): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server();
  addCertificateService(server, handler);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { server, port };
}

describe('CreateCertificate over real gRPC (plaintext on 127.0.0.1:0)', () => {
  const seen: Seen[] = [];
  let server: grpc.Server;
  let client: ReturnType<typeof createCertificateClient>;

  beforeAll(async () => {
    const started = await startServer(async (request, metadata) => {
      seen.push({ request, metadata });
      if (request.csr === 'bad') return { ok: false, grpcCode: 'INVALID_ARGUMENT', message: 'csr: not a PEM CSR' };
      if (metadata.authorization !== 'Bearer good') return { ok: false, grpcCode: 'UNAUTHENTICATED', message: 'authentication failed' };
      return { ok: true, certChain: ['leaf\n', 'root\n'] };
    });
    server = started.server;
    client = createCertificateClient(`127.0.0.1:${started.port}`, grpc.credentials.createInsecure());
  });

  afterAll(async () => {
    client.close();
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  });

  it('carries csr, TTL, ImpersonatedIdentity (request Struct) and bearer/clusterid headers to the handler', async () => {
    const chain = await client.createCertificate(
      { csr: 'pem', validityDurationSeconds: 86400, impersonatedIdentity: 'spiffe://cluster.local/ns/default/sa/sleep' },
      { authorization: 'Bearer good', clusterId: 'Kubernetes' },
    );
    expect(chain).toEqual(['leaf\n', 'root\n']);
    expect(seen.at(-1)).toEqual({
      request: { csr: 'pem', validityDurationSeconds: 86400, impersonatedIdentity: 'spiffe://cluster.local/ns/default/sa/sleep' },
      metadata: { authorization: 'Bearer good', clusterId: 'Kubernetes' },
    });
  });

  it('omits ImpersonatedIdentity when the caller asks for its own identity', async () => {
    await client.createCertificate({ csr: 'pem', validityDurationSeconds: 0 }, { authorization: 'Bearer good' });
    expect(seen.at(-1)?.request).toEqual({ csr: 'pem', validityDurationSeconds: 0 });
  });

  it.each([
    ['UNAUTHENTICATED', { csr: 'pem', validityDurationSeconds: 1 }, { authorization: 'Bearer wrong' }, grpc.status.UNAUTHENTICATED],
    ['INVALID_ARGUMENT', { csr: 'bad', validityDurationSeconds: 1 }, { authorization: 'Bearer good' }, grpc.status.INVALID_ARGUMENT],
  ] as const)('maps a %s outcome to that gRPC status', async (_name, request, metadata, code) => {
    await expect(client.createCertificate(request, metadata)).rejects.toMatchObject({ code });
  });
});
