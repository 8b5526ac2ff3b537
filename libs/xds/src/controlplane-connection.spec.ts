import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { controlplaneConnection, hostOfAddress } from './controlplane-connection';

describe('hostOfAddress', () => {
  it.each([
    ['istiod.istio-system.svc:15012', 'istiod.istio-system.svc'],
    ['10.88.0.11:15012', '10.88.0.11'],
    ['[fd00::1]:15012', 'fd00::1'],
    ['istiod', 'istiod'],
  ])('%s → %s', (address, host) => {
    expect(hostOfAddress(address)).toBe(host);
  });
});

describe('controlplaneConnection', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'weft-cp-connection-'));
    // The PEM is checked when a channel connects, not here.
    writeFileSync(path.join(dir, 'root.pem'), '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names the server from XDS_SERVER_NAME, else from the address, and reads the token on every call', () => {
    const tokenFile = path.join(dir, 'token');
    const named = controlplaneConnection({ address: '10.88.0.11:15012', serverName: 'istiod.istio-system.svc', rootCaFile: path.join(dir, 'root.pem'), tokenFile });
    const derived = controlplaneConnection({ address: '[fd00::1]:15012', serverName: '', rootCaFile: path.join(dir, 'root.pem'), tokenFile });
    expect(named.channelOptions).toEqual({ 'grpc.ssl_target_name_override': 'istiod.istio-system.svc', 'grpc.default_authority': 'istiod.istio-system.svc' });
    expect(derived.channelOptions['grpc.ssl_target_name_override']).toBe('fd00::1');
    expect(named.token()).toBe('');
    writeFileSync(tokenFile, 'first\n');
    expect(named.token()).toBe('first');
    writeFileSync(tokenFile, 'rotated');
    expect(named.token()).toBe('rotated');
  });

  it('a missing root certificate is an error at once', () => {
    expect(() => controlplaneConnection({ address: 'istiod:15012', serverName: '', rootCaFile: path.join(dir, 'missing.pem'), tokenFile: '' })).toThrow(/ENOENT/);
  });
});
