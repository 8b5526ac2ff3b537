import { exportPrivateKeyPem, exportPublicKeyPem, generateKeyPair, importPrivateKeyPem } from './key-pair';
import { subtle } from './x509';
import { opensslOk, readText, withTempDir, writeFiles } from '../test/support';

const data = new TextEncoder().encode('hbone handshake transcript');
const ecdsaSha256 = { name: 'ECDSA', hash: 'SHA-256' } as const;

describe('generateKeyPair', () => {
  it('makes an extractable ECDSA P-256 key pair', async () => {
    const keys = await generateKeyPair();
    expect(keys.privateKey.algorithm).toEqual({ name: 'ECDSA', namedCurve: 'P-256' });
    expect(keys.privateKey.extractable).toBe(true);
    expect(keys.publicKey.type).toBe('public');
  });

  it('makes a new key each time', async () => {
    const [a, b] = await Promise.all([generateKeyPair(), generateKeyPair()]);
    expect(await exportPublicKeyPem(a.publicKey)).not.toBe(await exportPublicKeyPem(b.publicKey));
  });
});

describe('PKCS#8 PEM export and import', () => {
  it('exports a PEM that openssl reads as a P-256 key', async () => {
    const pem = await exportPrivateKeyPem((await generateKeyPair()).privateKey);
    expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+\n-----END PRIVATE KEY-----\n$/);
    await withTempDir(async (dir) => {
      await writeFiles(dir, { 'key.pem': pem });
      const text = await opensslOk(['pkey', '-in', 'key.pem', '-noout', '-text'], dir);
      expect(text).toContain('ASN1 OID: prime256v1');
    });
  });

  it('round-trips: the imported key signs what the original public key verifies', async () => {
    const original = await generateKeyPair();
    const imported = await importPrivateKeyPem(await exportPrivateKeyPem(original.privateKey));
    if (!imported.ok) throw new Error(imported.error.message);
    expect(imported.value.signingAlgorithm).toEqual({ name: 'ECDSA', hash: 'SHA-256' });
    const signature = await subtle.sign(ecdsaSha256, imported.value.privateKey, data);
    expect(await subtle.verify(ecdsaSha256, original.publicKey, signature, data)).toBe(true);
    expect(await exportPublicKeyPem(imported.value.publicKey)).toBe(await exportPublicKeyPem(original.publicKey));
  });

  it('exports a public key openssl reads', async () => {
    const pem = await exportPublicKeyPem((await generateKeyPair()).publicKey);
    await withTempDir(async (dir) => {
      await writeFiles(dir, { 'pub.pem': pem });
      expect(await opensslOk(['pkey', '-pubin', '-in', 'pub.pem', '-noout', '-text'], dir)).toContain('NIST CURVE: P-256');
    });
  });
});

describe('importPrivateKeyPem of operator-made keys', () => {
  it.each([
    ['SEC1 EC P-256', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'key.pem'], '-----BEGIN EC PRIVATE KEY-----', 'ECDSA', 'SHA-256'],
    ['SEC1 EC P-384', ['ecparam', '-name', 'secp384r1', '-genkey', '-noout', '-out', 'key.pem'], '-----BEGIN EC PRIVATE KEY-----', 'ECDSA', 'SHA-384'],
    ['PKCS#1 RSA', ['genrsa', '-traditional', '-out', 'key.pem', '2048'], '-----BEGIN RSA PRIVATE KEY-----', 'RSASSA-PKCS1-v1_5', 'SHA-256'],
    ['PKCS#8 RSA', ['genrsa', '-out', 'key.pem', '2048'], '-----BEGIN PRIVATE KEY-----', 'RSASSA-PKCS1-v1_5', 'SHA-256'],
  ])('reads a %s key and derives its public half', async (_name, args, header, algorithm, hash) => {
    await withTempDir(async (dir) => {
      await opensslOk(args, dir);
      const pem = await readText(dir, 'key.pem');
      expect(pem).toContain(header);
      const imported = await importPrivateKeyPem(pem, 'ca-key.pem');
      if (!imported.ok) throw new Error(imported.error.message);
      expect(imported.value.signingAlgorithm).toEqual({ name: algorithm, hash });
      // The derived public key is the one openssl derives.
      const opensslPublic = await opensslOk(['pkey', '-in', 'key.pem', '-pubout'], dir);
      expect(await exportPublicKeyPem(imported.value.publicKey)).toBe(opensslPublic);
    });
  });

  it('refuses text that is not a key, naming the input', async () => {
    const result = await importPrivateKeyPem('not a key', 'ca-key.pem');
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toMatchObject({
      code: 'ERR_KEY_INVALID',
      message: expect.stringMatching(/^ca-key\.pem is not a readable PEM private key/),
      hint: expect.stringContaining('unencrypted PKCS#8'),
    });
  });

  it('refuses an encrypted key', async () => {
    await withTempDir(async (dir) => {
      await opensslOk(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-aes256', '-pass', 'pass:secret', '-out', 'key.pem'], dir);
      const result = await importPrivateKeyPem(await readText(dir, 'key.pem'), 'ca-key.pem');
      expect(!result.ok && result.error.code).toBe('ERR_KEY_INVALID');
    });
  });

  it('refuses an Ed25519 key as unsupported', async () => {
    await withTempDir(async (dir) => {
      await opensslOk(['genpkey', '-algorithm', 'ED25519', '-out', 'key.pem'], dir);
      const result = await importPrivateKeyPem(await readText(dir, 'key.pem'), 'ca-key.pem');
      expect(!result.ok && result.error).toMatchObject({
        code: 'ERR_KEY_UNSUPPORTED',
        message: 'ca-key.pem: key type "ed25519" is not supported',
      });
    });
  });

  it('refuses an EC key on a curve WebCrypto cannot sign with', async () => {
    await withTempDir(async (dir) => {
      await opensslOk(['ecparam', '-name', 'secp256k1', '-genkey', '-noout', '-out', 'key.pem'], dir);
      const result = await importPrivateKeyPem(await readText(dir, 'key.pem'));
      expect(!result.ok && result.error).toMatchObject({ code: 'ERR_KEY_UNSUPPORTED', message: expect.stringContaining('"secp256k1"') });
    });
  });
});
