// How a proxy reaches its controlplane, for the xDS stream and the CA alike: TLS against the mesh root, the TLS
// server name (XDS_SERVER_NAME, else the host of the address), and the bearer token, read again for every call so a
// rotated projected token is picked up.

import { readFileSync } from 'node:fs';

import * as grpc from '@grpc/grpc-js';

export interface ControlplaneConnection {
  readonly credentials: grpc.ChannelCredentials;
  /** Names the TLS server and the `:authority` as the server name. */
  readonly channelOptions: Readonly<Record<string, string>>;
  /** The token file's content, trimmed; '' when it cannot be read (no authorization header is sent then). */
  token(): string;
}

/** The host of `host:port` or `[v6]:port`, without brackets. */
export function hostOfAddress(address: string): string {
  const at = address.lastIndexOf(':');
  return (at > 0 ? address.slice(0, at) : address).replace(/^\[|\]$/g, '');
}

/** Reads the root certificate now (a missing file is a start-up error); the token on every call. */
export function controlplaneConnection(input: { readonly address: string; readonly serverName: string; readonly rootCaFile: string; readonly tokenFile: string }): ControlplaneConnection {
  const serverName = input.serverName !== '' ? input.serverName : hostOfAddress(input.address);
  return {
    credentials: grpc.credentials.createSsl(readFileSync(input.rootCaFile)),
    channelOptions: { 'grpc.ssl_target_name_override': serverName, 'grpc.default_authority': serverName },
    token: () => {
      try {
        return readFileSync(input.tokenFile, 'utf8').trim();
      } catch {
        return '';
      }
    },
  };
}
