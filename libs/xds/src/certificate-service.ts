// The `istio.v1.auth.IstioCertificateService/CreateCertificate` gRPC edge (reference §3.2), for both sides, with
// plain request/response shapes so generated types stay inside this library. The server side maps a handler's
// typed outcome to a gRPC status in this one place; the client side is what ztunnel calls per identity.

import * as grpc from '@grpc/grpc-js';
import {
  IstioCertificateServiceClient,
  IstioCertificateServiceService,
  type IstioCertificateRequest,
  type IstioCertificateResponse,
} from './generated/istio/v1/auth/ca';

/** Request metadata key naming the identity ztunnel asks for on a workload's behalf (not a gRPC header). */
export const IMPERSONATED_IDENTITY_KEY = 'ImpersonatedIdentity';
export const CERT_SIGNER_KEY = 'CertSigner';

export interface CertificateRequest {
  readonly csr: string;
  /** Seconds; ≤ 0 means the CA's default. */
  readonly validityDurationSeconds: number;
  readonly impersonatedIdentity?: string;
  readonly certSigner?: string;
}

export interface CertificateCallMetadata {
  /** The `authorization` header as sent (`Bearer <token>`). */
  readonly authorization?: string;
  readonly clusterId?: string;
}

export type CertificateOutcome =
  | { readonly ok: true; readonly certChain: readonly string[] }
  | { readonly ok: false; readonly grpcCode: 'UNAUTHENTICATED' | 'INVALID_ARGUMENT' | 'INTERNAL'; readonly message: string };

export type CertificateServiceHandler = (
  request: CertificateRequest,
  metadata: CertificateCallMetadata,
  peer: string,
) => Promise<CertificateOutcome>;

const GRPC_CODES: Record<Exclude<CertificateOutcome, { ok: true }>['grpcCode'], grpc.status> = {
  UNAUTHENTICATED: grpc.status.UNAUTHENTICATED,
  INVALID_ARGUMENT: grpc.status.INVALID_ARGUMENT,
  INTERNAL: grpc.status.INTERNAL,
};

function firstString(metadata: grpc.Metadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  return typeof value === 'string' ? value : undefined;
}

function metadataString(request: IstioCertificateRequest, key: string): string | undefined {
  const value = request.metadata?.[key];
  return typeof value === 'string' ? value : undefined;
}

/** Registers CreateCertificate on `server`; the handler never sees generated types. */
export function addCertificateService(server: grpc.Server, handler: CertificateServiceHandler): void {
  const createCertificate: grpc.handleUnaryCall<IstioCertificateRequest, IstioCertificateResponse> = (call, callback) => {
    const impersonatedIdentity = metadataString(call.request, IMPERSONATED_IDENTITY_KEY);
    const certSigner = metadataString(call.request, CERT_SIGNER_KEY);
    const request: CertificateRequest = {
      csr: call.request.csr,
      validityDurationSeconds: call.request.validityDuration,
      ...(impersonatedIdentity === undefined ? {} : { impersonatedIdentity }),
      ...(certSigner === undefined ? {} : { certSigner }),
    };
    const authorization = firstString(call.metadata, 'authorization');
    const clusterId = firstString(call.metadata, 'clusterid');
    const metadata: CertificateCallMetadata = {
      ...(authorization === undefined ? {} : { authorization }),
      ...(clusterId === undefined ? {} : { clusterId }),
    };
    handler(request, metadata, call.getPeer()).then(
      (outcome) => {
        if (outcome.ok) callback(null, { certChain: [...outcome.certChain] });
        else callback({ code: GRPC_CODES[outcome.grpcCode], details: outcome.message });
      },
      (error: unknown) => callback({ code: grpc.status.INTERNAL, details: `certificate signing failed: ${String(error)}` }),
    );
  };
  server.addService(IstioCertificateServiceService, { createCertificate });
}

export interface CertificateClient {
  /** Returns the chain leaf first, root bundle last, or rejects with the gRPC error. */
  createCertificate(request: CertificateRequest, metadata: CertificateCallMetadata): Promise<string[]>;
  close(): void;
}

/** A CreateCertificate client; `metadata` is passed per call so a rotated bearer token is picked up. */
export function createCertificateClient(
  address: string,
  credentials: grpc.ChannelCredentials,
  options?: grpc.ClientOptions,
): CertificateClient {
  const client = new IstioCertificateServiceClient(address, credentials, options);
  return {
    createCertificate(request, metadata) {
      const md = new grpc.Metadata();
      if (metadata.authorization !== undefined) md.set('authorization', metadata.authorization);
      if (metadata.clusterId !== undefined) md.set('clusterid', metadata.clusterId);
      const structFields: Record<string, string> = {};
      if (request.impersonatedIdentity !== undefined) structFields[IMPERSONATED_IDENTITY_KEY] = request.impersonatedIdentity;
      if (request.certSigner !== undefined) structFields[CERT_SIGNER_KEY] = request.certSigner;
      const wire: IstioCertificateRequest = {
        csr: request.csr,
        validityDuration: request.validityDurationSeconds,
        metadata: Object.keys(structFields).length > 0 ? structFields : undefined,
      };
      return new Promise((resolve, reject) => {
        client.createCertificate(wire, md, (error, response) => {
          if (error !== null) reject(error);
          else resolve(response.certChain);
        });
      });
    },
    close() {
      client.close();
    },
  };
}
