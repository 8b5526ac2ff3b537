// Serving-certificate rotation with real timers and a real CA: listeners see renewals at half-life, failures are
// retried, and a gRPC server built on the rotator serves the renewed certificate to new connections.

import { connect } from 'node:tls';

import * as grpc from '@grpc/grpc-js';
import { createCertificateAuthority, createMemoryCaStorage, type CertificateAuthority } from '@weft/identity';

import { createServingCertificateRotator, type ServingCertificateRotator } from '../../src/ca/serving-certificate-rotator';
import { issueServingCertificate } from '../../src/ca/serving-certificate';
import { recordingLogger, unwrap } from './ca-fixtures';

const SHORT_TTL_SECONDS = 2;
let ca: CertificateAuthority;
let rotator: ServingCertificateRotator | undefined;

beforeAll(async () => {
  ca = unwrap(await createCertificateAuthority({ storage: createMemoryCaStorage() }));
});
afterEach(() => {
  rotator?.close();
  rotator = undefined;
});

const issueShort = () => issueServingCertificate({ ca, namespace: 'istio-system', ttlSeconds: SHORT_TTL_SECONDS });

/** The next renewal's chain, skipping the replay of the current certificate every new listener receives. */
function nextIdentityUpdate(provider: ServingCertificateRotator): Promise<string> {
  const currentChain = provider.current?.certChainPem;
  return new Promise((resolve) => {
    const listener: grpc.experimental.IdentityCertificateUpdateListener = (update) => {
      const chain = update?.certificate.toString() ?? '';
      if (chain === currentChain) return;
      provider.removeIdentityCertificateListener(listener);
      resolve(chain);
    };
    provider.addIdentityCertificateListener(listener);
  });
}

describe('createServingCertificateRotator', () => {
  it('publishes the first certificate on start and a new one at half-life', async () => {
    const logger = recordingLogger();
    rotator = createServingCertificateRotator({ issue: issueShort, logger });
    const first = await rotator.start();
    const renewed = await nextIdentityUpdate(rotator);
    expect(renewed).not.toBe(first.certChainPem);
    expect(rotator.current?.certChainPem).toBe(renewed);
    expect(logger.lines.map((line) => line.message)).toContain('serving certificate renewed');
  });

  it('keeps the current certificate and retries with backoff when a renewal fails', async () => {
    const logger = recordingLogger();
    let calls = 0;
    const issue = () => {
      calls += 1;
      return calls === 2 ? Promise.reject(new Error('CA storage offline')) : issueShort();
    };
    rotator = createServingCertificateRotator({ issue, logger, backoff: { initialMs: 20, maxMs: 20, jitter: 0 } });
    const first = await rotator.start();
    const renewed = await nextIdentityUpdate(rotator);
    expect(renewed).not.toBe(first.certChainPem);
    expect(calls).toBe(3);
    expect(logger.lines).toContainEqual(
      expect.objectContaining({ level: 'error', fields: expect.objectContaining({ reason: 'CA storage offline', retryMs: 20 }) }),
    );
  });

  it('replays the current certificate to a new listener asynchronously', async () => {
    rotator = createServingCertificateRotator({ issue: issueShort, logger: recordingLogger() });
    const first = await rotator.start();
    const seen: string[] = [];
    rotator.addIdentityCertificateListener((update) => seen.push(update?.certificate.toString() ?? ''));
    rotator.addCaCertificateListener((update) => seen.push(update?.caCertificate.toString() ?? ''));
    expect(seen).toEqual([]);
    await Promise.resolve();
    expect(seen).toEqual([first.certChainPem, first.rootCertPem]);
  });

  it('stops renewing after close (idempotent) and refuses to start again', async () => {
    let calls = 0;
    rotator = createServingCertificateRotator({ issue: () => ((calls += 1), issueShort()), logger: recordingLogger() });
    await rotator.start();
    rotator.close();
    rotator.close();
    await new Promise((resolve) => setTimeout(resolve, SHORT_TTL_SECONDS * 1000));
    expect(calls).toBe(1);
    await expect(rotator.start()).rejects.toMatchObject({ code: 'ERR_CA_SERVING_CERT' });
  });

  it('serves the renewed certificate to new TLS connections of a gRPC server built on it', async () => {
    rotator = createServingCertificateRotator({ issue: issueShort, logger: recordingLogger() });
    await rotator.start();
    const server = new grpc.Server();
    try {
      const credentials = grpc.experimental.createCertificateProviderServerCredentials(rotator, rotator, false);
      const port = await new Promise<number>((resolve, reject) =>
        server.bindAsync('127.0.0.1:0', credentials, (error, bound) => (error ? reject(error) : resolve(bound))),
      );
      const before = await servedSerial(port);
      await nextIdentityUpdate(rotator);
      const after = await servedSerial(port);
      expect(after).not.toBe(before);
    } finally {
      server.forceShutdown();
    }
  });
});

function servedSerial(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: '127.0.0.1',
      port,
      servername: 'istiod.istio-system.svc',
      ALPNProtocols: ['h2'],
      ca: ca.rootCertPem,
    });
    socket.once('secureConnect', () => {
      const serial = socket.getPeerCertificate().serialNumber;
      socket.destroy();
      resolve(serial);
    });
    socket.once('error', reject);
  });
}
