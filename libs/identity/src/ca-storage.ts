// Where the CA keeps its key material. The library does no I/O (STYLE.md §14): the controlplane passes a storage
// backed by files (the mounted `cacerts` secret) or Kubernetes secrets; tests pass the in-memory one below.

/**
 * Named PEM texts. `read` resolves `undefined` for a name that does not exist; any other failure rejects and the
 * CA reports it as `ERR_CA_STORAGE` naming the file.
 */
export interface CaStorage {
  read(name: string): Promise<string | undefined>;
  write(name: string, data: string): Promise<void>;
}

/**
 * The plug-in CA files, named as in Istio's `cacerts` secret (istiod reads them from `/etc/cacerts`): the
 * intermediate that signs workload certificates, its key, the root bundle, and the chain from the intermediate up to
 * the root. A storage pointed at that directory needs no renaming.
 */
export const PLUGGED_CA_FILES = {
  signingCert: 'ca-cert.pem',
  signingKey: 'ca-key.pem',
  rootCert: 'root-cert.pem',
  certChain: 'cert-chain.pem',
} as const;

/**
 * The self-signed root the CA creates when no plug-in CA is present (Istio keeps it in the `istio-ca-secret`
 * secret under `ca-cert.pem`/`ca-key.pem`). The names differ from the plug-in ones so one storage can hold both
 * without the self-signed root ever being mistaken for an operator-supplied CA.
 */
export const SELF_SIGNED_CA_FILES = {
  cert: 'self-signed-ca-cert.pem',
  key: 'self-signed-ca-key.pem',
} as const;

/** An in-memory storage, optionally pre-filled (e.g. with plug-in CA files); for tests and single-process use. */
export function createMemoryCaStorage(initial: Readonly<Record<string, string>> = {}): CaStorage & {
  /** The names written so far, in order; lets a test observe persistence. */
  readonly writes: readonly string[];
} {
  const files = new Map<string, string>(Object.entries(initial));
  const writes: string[] = [];
  return {
    writes,
    read: (name) => Promise.resolve(files.get(name)),
    write: (name, data) => {
      files.set(name, data);
      writes.push(name);
      return Promise.resolve();
    },
  };
}
