// CA key material on disk: a directory laid out like Istio's mounted `cacerts` secret (`/etc/cacerts`), which also
// receives the persisted self-signed root. Implements `CaStorage` from @weft/identity, which does no I/O itself.

import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import * as path from 'node:path';

import type { CaStorage } from '@weft/identity';

import { CaError } from './ca-error';

/** Private keys are readable by the controlplane's user only. */
export const CA_KEY_FILE_MODE = 0o600;
/** Certificates are public. */
export const CA_CERT_FILE_MODE = 0o644;
/** A directory the controlplane creates for its own root keeps others out. */
export const CA_DIR_MODE = 0o700;

/** Names such as `ca-key.pem` and `self-signed-ca-key.pem` hold private keys. */
export function isKeyFileName(name: string): boolean {
  return /(^|-)key\.pem$/.test(name);
}

/**
 * A `CaStorage` over `dir`. `read` resolves `undefined` when the file does not exist (ENOENT) and rejects on any
 * other failure, which the CA reports as `ERR_CA_STORAGE`. `write` is atomic: the data goes to a temporary file in
 * the same directory (so `rename` stays on one filesystem), is fsynced, then renamed over the target, so a crash
 * never leaves a half-written key for the next start to trip on. Keys are written with mode 0600.
 */
export function createFileCaStorage(dir: string): CaStorage {
  const resolve = (name: string): string => {
    // Names come from @weft/identity's constants, but a storage must never be a path-traversal primitive.
    if (name === '' || name === '.' || name === '..' || path.basename(name) !== name || name.includes('\\')) {
      throw new CaError('ERR_CA_STORAGE_NAME_INVALID', `CA storage name "${name}" is not a plain file name`);
    }
    return path.join(dir, name);
  };

  return {
    async read(name) {
      const file = resolve(name);
      try {
        return await readFile(file, 'utf8');
      } catch (cause) {
        if (isErrnoException(cause) && cause.code === 'ENOENT') return undefined;
        throw cause;
      }
    },

    async write(name, data) {
      const file = resolve(name);
      await mkdir(dir, { recursive: true, mode: CA_DIR_MODE });
      const mode = isKeyFileName(name) ? CA_KEY_FILE_MODE : CA_CERT_FILE_MODE;
      const temp = path.join(dir, `.${name}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
      // `wx`: never follow or reuse a file someone planted under the temporary name.
      const handle = await open(temp, 'wx', mode);
      try {
        try {
          await handle.writeFile(data, 'utf8');
          await handle.sync();
        } finally {
          await handle.close();
        }
        await rename(temp, file);
      } catch (cause) {
        await unlink(temp).catch(() => undefined);
        throw cause;
      }
    },
  };
}

// Duck-typed, not `instanceof Error`: errors from node:fs come from another realm under test runners' VM contexts.
function isErrnoException(value: unknown): value is NodeJS.ErrnoException {
  return typeof value === 'object' && value !== null && typeof (value as { code?: unknown }).code === 'string';
}
