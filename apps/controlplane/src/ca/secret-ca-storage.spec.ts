// The CA over the Kubernetes-mode storage, against a fake API (the Secret behaviour the storage relies on: GET by
// name, and a create refused when the name exists), with the real CA and real plug-in files.

import { mkdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';

import type { KubeApi } from '@weft/config-source';
import {
  createMemoryCaStorage,
  SELF_SIGNED_CA_FILES,
  type CaStorage,
  type CertificateAuthority,
  type Result,
} from '@weft/identity';
import type { KubeObject } from '@weft/mesh-config';

import { makePluggedCa, makeTempDir, removeDir } from '../../test/ca/ca-fixtures';
import { CaError } from './ca-error';
import { caSecretValue, ISTIO_CA_SECRET_TYPE } from './ca-secret';
import { createFileCaStorage } from './file-ca-storage';
import { createRoutedCaStorage, createSecretCaStorage, startCertificateAuthority, type SecretCaStorage } from './secret-ca-storage';

const NS = 'istio-system';
const NAME = 'istio-ca-secret';

/** An API server's Secrets, as far as this storage uses them. Fake: no API server runs in unit tests. */
class FakeSecretApi implements Pick<KubeApi, 'getObject' | 'createObject'> {
  readonly secrets = new Map<string, KubeObject>();
  readonly created: KubeObject[] = [];
  gets = 0;
  /** Runs at the start of the next create: another writer getting there first. */
  beforeCreate: (() => void) | undefined;
  /** Fails every create with this HTTP status after (or instead of) storing. */
  failCreate: { readonly code: number; readonly store: boolean } | undefined;
  /** Holds creates until this many have arrived: writers that all found the Secret absent. */
  createTogether = 1;
  private readonly held: (() => void)[] = [];

  async getObject(apiVersion: string, kind: string, namespace: string, name: string): Promise<KubeObject | undefined> {
    expect([apiVersion, kind]).toEqual(['v1', 'Secret']);
    this.gets += 1;
    return this.secrets.get(`${namespace}/${name}`);
  }

  /** As the API server: a create of an existing name is refused (409, here `false`) and changes nothing. */
  async createObject(object: KubeObject): Promise<boolean> {
    if (this.held.length + 1 < this.createTogether) await new Promise<void>((resolve) => this.held.push(resolve));
    else for (const release of this.held.splice(0)) release();
    const hook = this.beforeCreate;
    this.beforeCreate = undefined;
    hook?.();
    this.created.push(object);
    if (this.failCreate !== undefined && !this.failCreate.store) throw apiError(this.failCreate.code);
    const key = `${object.metadata.namespace ?? ''}/${object.metadata.name}`;
    if (this.secrets.has(key)) return false;
    this.secrets.set(key, object);
    if (this.failCreate !== undefined) throw apiError(this.failCreate.code);
    return true;
  }

  stored(): KubeObject | undefined {
    return this.secrets.get(`${NS}/${NAME}`);
  }
}

function apiError(code: number): Error {
  return Object.assign(new Error(`HTTP ${code}`), { code });
}

function unwrap<T>(result: Result<T>): T {
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  return result.value;
}

/** An istiod-made `istio-ca-secret`: a root made by a CA over memory, in istiod's layout. */
async function istiodSecret(): Promise<{ secret: KubeObject; rootCertPem: string }> {
  const memory = createMemoryCaStorage();
  const ca = unwrap(await startCertificateAuthority({ storage: memory }, undefined));
  const b64 = async (name: string): Promise<string> => Buffer.from((await memory.read(name)) ?? '').toString('base64');
  const cert = await b64(SELF_SIGNED_CA_FILES.cert);
  const secret: KubeObject = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: NAME, namespace: NS, resourceVersion: '42' },
    type: ISTIO_CA_SECRET_TYPE,
    data: { 'ca-cert.pem': cert, 'ca-key.pem': await b64(SELF_SIGNED_CA_FILES.key), 'root-cert.pem': cert, 'cert-chain.pem': '', 'key.pem': '' },
  };
  return { secret, rootCertPem: ca.rootCertPem };
}

describe('the CA over the Secret storage (fake API server)', () => {
  let dir: string | undefined;
  let cacerts: string;
  let api: FakeSecretApi;

  beforeEach(async () => {
    dir = await makeTempDir('secret-ca');
    cacerts = path.join(dir, 'cacerts');
    api = new FakeSecretApi();
  });
  afterEach(async () => removeDir(dir));

  const storages = (): { storage: CaStorage; secret: SecretCaStorage } => {
    const secret = createSecretCaStorage({ api, namespace: NS, name: NAME });
    return { storage: createRoutedCaStorage({ directory: createFileCaStorage(cacerts), secret }), secret };
  };
  const start = async (): Promise<Result<CertificateAuthority>> => {
    const { storage, secret } = storages();
    return startCertificateAuthority({ storage, trustDomain: 'cluster.local' }, secret);
  };

  it("creates the root in an absent Secret, in istiod's layout, and a restart loads it from there", async () => {
    const first = unwrap(await start());
    expect(first.source).toBe('self-signed');
    expect(api.created).toHaveLength(1);
    const stored = api.stored();
    expect(stored).toMatchObject({ metadata: { name: NAME, namespace: NS }, type: 'istio.io/ca-root' });
    expect(caSecretValue(stored, 'ca-cert.pem')?.trim()).toBe(first.rootCertPem.trim());
    expect(caSecretValue(stored, 'root-cert.pem')).toBe(caSecretValue(stored, 'ca-cert.pem'));
    expect(caSecretValue(stored, 'ca-key.pem')).toMatch(/-----BEGIN PRIVATE KEY-----/);
    expect(Object.keys(stored?.['data'] as object).sort()).toEqual(['ca-cert.pem', 'ca-key.pem', 'cert-chain.pem', 'key.pem', 'root-cert.pem']);

    const restarted = unwrap(await start());
    expect(restarted.rootCertPem).toBe(first.rootCertPem);
    expect(api.created).toHaveLength(1);
  });

  it('uses a root istiod left in the Secret and does not write it', async () => {
    const istiod = await istiodSecret();
    api.secrets.set(`${NS}/${NAME}`, istiod.secret);
    const ca = unwrap(await start());
    expect([ca.source, ca.rootCertPem]).toEqual(['self-signed', istiod.rootCertPem]);
    expect(api.created).toEqual([]);
    expect(api.stored()).toBe(istiod.secret);
  });

  it('prefers plug-in files in the CA directory over a root in the Secret, and writes nothing', async () => {
    await mkdir(cacerts);
    await makePluggedCa(cacerts, dir as string);
    api.secrets.set(`${NS}/${NAME}`, (await istiodSecret()).secret);
    const ca = unwrap(await start());
    expect(ca.source).toBe('plugged');
    expect(ca.rootCertPem.trim()).toBe((await readFile(path.join(cacerts, 'root-cert.pem'), 'utf8')).trim());
    expect([api.created, api.gets]).toEqual([[], 0]);
  });

  it('loses a creation race to a root stored first, and then uses that root', async () => {
    const peer = await istiodSecret();
    api.beforeCreate = () => api.secrets.set(`${NS}/${NAME}`, peer.secret);
    const { storage, secret } = storages();

    const ca = unwrap(await startCertificateAuthority({ storage }, secret));
    expect(secret.superseded).toBe(true);
    expect(ca.rootCertPem).toBe(peer.rootCertPem);
    expect(api.created).toHaveLength(1);
    expect(caSecretValue(api.stored(), 'ca-cert.pem')?.trim()).toBe(peer.rootCertPem.trim());
  });

  it('two controlplanes starting at once end up with the one root in the Secret', async () => {
    api.createTogether = 2;
    const [a, b] = await Promise.all([start(), start()]);
    expect(api.created).toHaveLength(2);
    const roots = [unwrap(a).rootCertPem, unwrap(b).rootCertPem];
    expect(roots[0]).toBe(roots[1]);
    expect(caSecretValue(api.stored(), 'ca-cert.pem')?.trim()).toBe(roots[0]?.trim());
  });

  it('fails the start when the root cannot be stored (e.g. RBAC), naming the Secret', async () => {
    api.failCreate = { code: 403, store: false };
    const { storage, secret } = storages();
    const result = await startCertificateAuthority({ storage }, secret);
    expect(result.ok ? undefined : [result.error.code, result.error.message]).toEqual([
      'ERR_CA_STORAGE',
      expect.stringContaining(`Secret ${NS}/${NAME}`),
    ]);
    expect([secret.superseded, api.stored()]).toEqual([false, undefined]);
  });

  it('counts a create that failed after storing our root (a lost response) as done', async () => {
    api.failCreate = { code: 504, store: true };
    const ca = unwrap(await start());
    expect(caSecretValue(api.stored(), 'ca-cert.pem')?.trim()).toBe(ca.rootCertPem.trim());
  });
});

describe('createSecretCaStorage', () => {
  it('writes nothing until both halves of the root are given, then one create', async () => {
    const api = new FakeSecretApi();
    const storage = createSecretCaStorage({ api, namespace: NS, name: NAME });
    await storage.write(SELF_SIGNED_CA_FILES.key, 'KEY\n');
    expect(api.created).toEqual([]);
    await storage.write(SELF_SIGNED_CA_FILES.cert, 'CERT\n');
    expect(api.created).toHaveLength(1);
    expect([await storage.read(SELF_SIGNED_CA_FILES.cert), await storage.read(SELF_SIGNED_CA_FILES.key)]).toEqual(['CERT\n', 'KEY\n']);
  });

  it('reads an absent Secret as absent names', async () => {
    const storage = createSecretCaStorage({ api: new FakeSecretApi(), namespace: NS, name: NAME });
    expect(await storage.read(SELF_SIGNED_CA_FILES.cert)).toBeUndefined();
  });

  it('refuses names that are not kept in the Secret', async () => {
    const storage = createSecretCaStorage({ api: new FakeSecretApi(), namespace: NS, name: NAME });
    await expect(storage.read('ca-cert.pem')).rejects.toMatchObject({ code: 'ERR_CA_STORAGE_NAME_INVALID' });
    await expect(storage.write('root-cert.pem', 'x')).rejects.toBeInstanceOf(CaError);
  });
});
