// The file-backed CA storage on a real temp dir, and a self-signed root that survives a restart.

import { readdir, stat, writeFile } from 'node:fs/promises';
import * as path from 'node:path';

import { SELF_SIGNED_CA_FILES, createCertificateAuthority } from '@weft/identity';

import { CaError } from '../../src/ca/ca-error';
import { createFileCaStorage, isKeyFileName } from '../../src/ca/file-ca-storage';
import { makeTempDir, opensslVerifyChain, removeDir, spiffe, unwrap, workloadCsr } from './ca-fixtures';

let dir: string | undefined;
beforeEach(async () => {
  dir = await makeTempDir('ca-storage');
});
afterEach(async () => {
  await removeDir(dir);
});

describe('createFileCaStorage', () => {
  it('reads undefined for a missing file and back what was written, leaving no temp files', async () => {
    const storage = createFileCaStorage(path.join(dir as string, 'nested'));
    expect(await storage.read('root-cert.pem')).toBeUndefined();
    await storage.write('root-cert.pem', 'one');
    await storage.write('root-cert.pem', 'two');
    expect(await storage.read('root-cert.pem')).toBe('two');
    expect(await readdir(path.join(dir as string, 'nested'))).toEqual(['root-cert.pem']);
  });

  it('writes keys with mode 0600', async () => {
    const storage = createFileCaStorage(dir as string);
    await storage.write('ca-key.pem', 'secret');
    expect((await stat(path.join(dir as string, 'ca-key.pem'))).mode & 0o777).toBe(0o600);
    expect(isKeyFileName(SELF_SIGNED_CA_FILES.key)).toBe(true);
    expect(isKeyFileName(SELF_SIGNED_CA_FILES.cert)).toBe(false);
  });

  it('rejects other read failures instead of treating them as missing', async () => {
    const storage = createFileCaStorage(path.join(dir as string, 'file'));
    await writeFile(path.join(dir as string, 'file'), 'not a directory');
    await expect(storage.read('root-cert.pem')).rejects.toMatchObject({ code: 'ENOTDIR' });
  });

  it.each(['../escape.pem', 'a/b.pem', '..', ''])('refuses the name %j with ERR_CA_STORAGE_NAME_INVALID', async (name) => {
    const storage = createFileCaStorage(dir as string);
    await expect(storage.write(name, 'x')).rejects.toBeInstanceOf(CaError);
    await expect(storage.read(name)).rejects.toMatchObject({ code: 'ERR_CA_STORAGE_NAME_INVALID' });
  });

  it('persists the self-signed root: a second CA on the same dir has the same root and its leaves verify against the first root', async () => {
    const first = unwrap(await createCertificateAuthority({ storage: createFileCaStorage(dir as string) }));
    expect(first.source).toBe('self-signed');
    expect((await stat(path.join(dir as string, SELF_SIGNED_CA_FILES.key))).mode & 0o777).toBe(0o600);

    const second = unwrap(await createCertificateAuthority({ storage: createFileCaStorage(dir as string) }));
    expect(second.rootCertPem).toBe(first.rootCertPem);
    const uri = 'spiffe://cluster.local/ns/bookinfo/sa/reviews';
    const issued = unwrap(await second.sign({ csrPem: await workloadCsr(uri), identity: spiffe(uri) }));
    const chain = [issued.certChain[0] as string, first.rootCertPem];
    expect(await opensslVerifyChain(chain, dir as string)).toMatch(/: OK/);
  });
});
