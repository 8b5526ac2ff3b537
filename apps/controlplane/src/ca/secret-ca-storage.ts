// Kubernetes mode's CA storage: the plug-in `cacerts` files from the (read-only) CA directory, the self-signed root
// in a Secret of the controlplane's namespace under istiod's key names, so it survives restarts and is shared with
// the other replicas, and a cluster moving between istiod and Weft keeps its root.

import type { KubeApi } from '@weft/config-source';
import {
  createCertificateAuthority,
  type CaStorage,
  type CertificateAuthority,
  type CertificateAuthorityOptions,
  type Result,
} from '@weft/identity';
import type { KubeObject } from '@weft/mesh-config';

import { CaError } from './ca-error';
import {
  buildCaSecret,
  caSecretOwner,
  caSecretValue,
  ISTIO_CA_SECRET_KEYS,
  routeCaStorageName,
  type CaSecretRef,
} from './ca-secret';

export interface SecretCaStorageOptions extends CaSecretRef {
  readonly api: Pick<KubeApi, 'getObject' | 'createObject'>;
}

export interface SecretCaStorage extends CaStorage {
  /**
   * True once a write found a root another controlplane stored first. The write rejected; starting the CA again
   * over this storage loads that root.
   */
  readonly superseded: boolean;
}

/**
 * The self-signed root in the Secret `name` in `namespace`. Each `read` is one GET; a missing Secret or key reads as
 * `undefined`.
 *
 * Creation is create-only, as istiod's (`Create`, then load what is there), so two controlplanes starting at once
 * cannot both win. The CA writes the key, then the certificate; the key is held until the certificate arrives and
 * both go out in one create of the Secret (`buildCaSecret`), which the API server refuses (409) if the Secret
 * exists. After the create, successful or not, the Secret is read back and what is stored decides: our root (done),
 * another complete root (`superseded`: the write rejects and the caller starts the CA again, which loads it), or none
 * (the create's error). An apply would not do: applies are last-writer-wins, so a replica could keep signing with a
 * root another replica's apply had just replaced.
 */
export function createSecretCaStorage(options: SecretCaStorageOptions): SecretCaStorage {
  const { api, namespace, name } = options;
  const where = `Secret ${namespace}/${name}`;
  const pending = new Map<string, string>();
  let superseded = false;

  const keyOf = (file: string): string => {
    const route = routeCaStorageName(file);
    if (route.to !== 'secret') {
      throw new CaError('ERR_CA_STORAGE_NAME_INVALID', `CA storage name "${file}" is not kept in the ${where}`);
    }
    return route.key;
  };
  const read = (): Promise<KubeObject | undefined> => api.getObject('v1', 'Secret', namespace, name);

  const create = async (certPem: string, keyPem: string): Promise<void> => {
    const root = { certPem, keyPem };
    const created = await api.createObject(buildCaSecret({ namespace, name }, root)).then(
      () => undefined,
      (cause: unknown) => ({ cause }),
    );
    const owner = caSecretOwner(await read(), root);
    if (owner === 'ours') return;
    if (owner === 'theirs') {
      superseded = true;
      throw new CaError('ERR_CA_ROOT_SUPERSEDED', `another controlplane stored its self-signed root in the ${where} first`);
    }
    throw new CaError(
      'ERR_CA_SECRET_WRITE',
      `the self-signed root could not be stored in the ${where}`,
      'the controlplane needs get and create on secrets in its namespace',
      created === undefined ? undefined : { cause: created.cause },
    );
  };

  return {
    get superseded() {
      return superseded;
    },
    async read(file) {
      return caSecretValue(await read(), keyOf(file));
    },
    async write(file, data) {
      pending.set(keyOf(file), data);
      const certPem = pending.get(ISTIO_CA_SECRET_KEYS.caCert);
      const keyPem = pending.get(ISTIO_CA_SECRET_KEYS.caKey);
      if (certPem === undefined || keyPem === undefined) return;
      pending.clear();
      await create(certPem, keyPem);
    },
  };
}

/** The CA directory for the plug-in files, the Secret for the self-signed root (`routeCaStorageName`). */
export function createRoutedCaStorage(stores: { readonly directory: CaStorage; readonly secret: CaStorage }): CaStorage {
  const storeOf = (name: string): CaStorage => (routeCaStorageName(name).to === 'secret' ? stores.secret : stores.directory);
  return {
    read: (name) => storeOf(name).read(name),
    write: (name, data) => storeOf(name).write(name, data),
  };
}

/**
 * Starts the CA over `options.storage`. When `secret` refused the new root because another controlplane stored one
 * first, starts it once more, which loads that root; so every replica signs with the root in the Secret.
 */
export async function startCertificateAuthority(
  options: CertificateAuthorityOptions,
  secret: Pick<SecretCaStorage, 'superseded'> | undefined,
): Promise<Result<CertificateAuthority>> {
  const created = await createCertificateAuthority(options);
  if (created.ok || secret?.superseded !== true) return created;
  return createCertificateAuthority(options);
}
