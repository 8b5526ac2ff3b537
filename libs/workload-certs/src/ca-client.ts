// The CreateCertificate client the certificate manager owns: libs/xds's client plus a per-call deadline, the
// CA_HEADER_* extras, and a handle on every call in flight so close() can cancel them (nothing outlives the manager).

import * as grpc from '@grpc/grpc-js';
import { createCertificateClient, type CertificateCallMetadata, type CertificateRequest } from '@weft/xds';

/** A CA that does not answer within this is treated as a failed fetch and retried with backoff. */
export const CA_CALL_TIMEOUT_MS = 10_000;

export interface CaClientOptions {
  readonly address: string;
  readonly credentials: grpc.ChannelCredentials;
  readonly channelOptions?: grpc.ChannelOptions;
  /** Added to every call (`CA_HEADER_<NAME>`), lowercase names. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly callTimeoutMs?: number;
}

export interface CaClient {
  createCertificate(request: CertificateRequest, metadata: CertificateCallMetadata): Promise<string[]>;
  /** Cancels every call in flight and closes the channel; idempotent. */
  close(): void;
}

export function createCaClient(options: CaClientOptions): CaClient {
  const timeoutMs = options.callTimeoutMs ?? CA_CALL_TIMEOUT_MS;
  const live = new Set<grpc.InterceptingCall>();
  let closed = false;

  const interceptor: grpc.Interceptor = (callOptions, nextCall) => {
    const call: grpc.InterceptingCall = new grpc.InterceptingCall(
      nextCall({ ...callOptions, deadline: Date.now() + timeoutMs }),
      new grpc.RequesterBuilder()
        .withStart((metadata, listener, next) => {
          for (const [key, value] of Object.entries(options.headers ?? {})) metadata.set(key, value);
          live.add(call);
          next(
            metadata,
            new grpc.ListenerBuilder()
              .withOnReceiveStatus((status, nextStatus) => {
                live.delete(call);
                nextStatus(status);
              })
              .build(),
          );
        })
        .build(),
    );
    if (closed) call.cancelWithStatus(grpc.status.CANCELLED, 'certificate manager closed');
    return call;
  };

  const client = createCertificateClient(options.address, options.credentials, {
    ...options.channelOptions,
    interceptors: [interceptor],
  });
  return {
    createCertificate: (request, metadata) => client.createCertificate(request, metadata),
    close() {
      if (closed) return;
      closed = true;
      for (const call of [...live]) call.cancelWithStatus(grpc.status.CANCELLED, 'certificate manager closed');
      live.clear();
      client.close();
    },
  };
}
