// Choosing and loading the CA's signing material the way istiod does at start (`pilot/pkg/bootstrap/istio_ca.go`):
// a plug-in CA from the `cacerts` files if any is present, else the persisted self-signed root, else a new root.

import { PLUGGED_CA_FILES, SELF_SIGNED_CA_FILES, type CaStorage } from './ca-storage';
import { decodeCertificate, decodeCertificates, sameBytes } from './certificate-info';
import { buildTrustedPath } from './chain-verification';
import { createSelfSignedRoot, keyMatchesCertificate, wholeSeconds, type Issuer } from './certificate-issuer';
import { describeCause, fail, ok, type Result } from './identity-error';
import { exportPrivateKeyPem, generateKeyPair, importPrivateKeyPem, WORKLOAD_SIGNING_ALGORITHM } from './key-pair';
import { x509 } from './x509';

/** `plugged`: operator-supplied intermediate (Istio's `cacerts`); `self-signed`: a root the CA made itself. */
export type CaSource = 'plugged' | 'self-signed';

export interface CaMaterial {
  readonly source: CaSource;
  readonly issuer: Issuer;
  /** Certificates from the signing certificate up to (not including) the roots; empty when a root signs. */
  readonly intermediates: readonly x509.X509Certificate[];
  readonly roots: readonly x509.X509Certificate[];
}

export interface LoadCaMaterialOptions {
  readonly storage: CaStorage;
  readonly now: Date;
  /** Names a newly created root, `O=<trust domain>`, as istiod names its self-signed root. */
  readonly trustDomain: string;
  readonly selfSignedRootTtlSeconds: number;
}

const MS_PER_SECOND = 1000;
const PLUGGED_HINT =
  "Istio's cacerts layout: ca-cert.pem and ca-key.pem (the signing CA), root-cert.pem, " +
  'cert-chain.pem (ca-cert up to the root)';
const SELF_SIGNED_HINT =
  'delete both self-signed CA files to create a new root; every workload then needs new certificates';

export async function loadCaMaterial(options: LoadCaMaterialOptions): Promise<Result<CaMaterial>> {
  const plugged = await readFiles(options.storage, Object.values(PLUGGED_CA_FILES));
  if (!plugged.ok) return plugged;
  if (plugged.value.size > 0) return loadPlugged(plugged.value, options.now);

  const selfSigned = await readFiles(options.storage, Object.values(SELF_SIGNED_CA_FILES));
  if (!selfSigned.ok) return selfSigned;
  const certPem = selfSigned.value.get(SELF_SIGNED_CA_FILES.cert);
  const keyPem = selfSigned.value.get(SELF_SIGNED_CA_FILES.key);
  if (certPem !== undefined && keyPem !== undefined) return loadSelfSigned(certPem, keyPem, options.now);
  if (certPem !== undefined) {
    return fail(
      'ERR_CA_FILES_INCOMPLETE',
      `CA storage holds ${SELF_SIGNED_CA_FILES.cert} but not ${SELF_SIGNED_CA_FILES.key}`,
      `restore the key, or ${SELF_SIGNED_HINT}`,
    );
  }
  // The key is written before the certificate, so a key alone is an interrupted first start: start over.
  return createSelfSigned(options);
}

async function loadPlugged(files: ReadonlyMap<string, string>, now: Date): Promise<Result<CaMaterial>> {
  const required = [PLUGGED_CA_FILES.signingCert, PLUGGED_CA_FILES.signingKey, PLUGGED_CA_FILES.rootCert];
  const missing = required.filter((name) => !files.has(name));
  if (missing.length > 0) {
    const found = [...files.keys()].join(', ');
    const message = `plug-in CA is incomplete: found ${found} but not ${missing.join(', ')}`;
    return fail('ERR_CA_FILES_INCOMPLETE', message, PLUGGED_HINT);
  }
  const signingCert = decodeCertificate(files.get(PLUGGED_CA_FILES.signingCert) ?? '', PLUGGED_CA_FILES.signingCert);
  if (!signingCert.ok) return invalid(signingCert.error.message);
  const roots = decodeCertificates(files.get(PLUGGED_CA_FILES.rootCert) ?? '', PLUGGED_CA_FILES.rootCert);
  if (!roots.ok) return invalid(roots.error.message);
  const chainPem = files.get(PLUGGED_CA_FILES.certChain);
  const chain = chainPem === undefined ? ok([]) : decodeCertificates(chainPem, PLUGGED_CA_FILES.certChain);
  if (!chain.ok) return invalid(chain.error.message);
  const keys = await importPrivateKeyPem(files.get(PLUGGED_CA_FILES.signingKey) ?? '', PLUGGED_CA_FILES.signingKey);
  if (!keys.ok) return fail(keys.error.code, keys.error.message, keys.error.hint);

  const certificate = signingCert.value;
  if (!(await keyMatchesCertificate(keys.value, certificate))) {
    return invalid(`${PLUGGED_CA_FILES.signingKey} is not the key of ${PLUGGED_CA_FILES.signingCert}`);
  }
  // istiod refuses a signing certificate that is not a CA ("certificate is not authorized to sign other certificates").
  if (certificate.getExtension(x509.BasicConstraintsExtension)?.ca !== true) {
    return invalid(
      `${PLUGGED_CA_FILES.signingCert} ("${certificate.subject}") is not a CA certificate ` +
        '(no basicConstraints CA:TRUE)',
    );
  }
  const path = await buildTrustedPath({
    leaf: certificate,
    intermediates: chain.value,
    roots: roots.value,
    now,
    leafLabel: PLUGGED_CA_FILES.signingCert,
  });
  if (!path.ok) {
    const { signingCert, rootCert } = PLUGGED_CA_FILES;
    return invalid(`${signingCert} does not verify against ${rootCert}: ${path.error.message}`);
  }

  // The response chain is leaf, intermediates, roots. cert-chain.pem usually repeats the root; keep each root only in
  // the trailing root bundle so it appears exactly once, last.
  const isRoot = (candidate: x509.X509Certificate): boolean =>
    roots.value.some((root) => sameBytes(root.rawData, candidate.rawData));
  return ok({
    source: 'plugged',
    issuer: { certificate, keys: keys.value },
    intermediates: path.value.slice(0, -1).filter((candidate) => !isRoot(candidate)),
    roots: roots.value,
  });
}

async function loadSelfSigned(certPem: string, keyPem: string, now: Date): Promise<Result<CaMaterial>> {
  const certificate = decodeCertificate(certPem, SELF_SIGNED_CA_FILES.cert);
  if (!certificate.ok) return invalid(certificate.error.message, SELF_SIGNED_HINT);
  const keys = await importPrivateKeyPem(keyPem, SELF_SIGNED_CA_FILES.key);
  if (!keys.ok) return fail(keys.error.code, keys.error.message, keys.error.hint);
  if (!(await keyMatchesCertificate(keys.value, certificate.value))) {
    return invalid(`${SELF_SIGNED_CA_FILES.key} is not the key of ${SELF_SIGNED_CA_FILES.cert}`, SELF_SIGNED_HINT);
  }
  if (now.getTime() > certificate.value.notAfter.getTime()) {
    return invalid(
      `the self-signed root in ${SELF_SIGNED_CA_FILES.cert} expired at ${certificate.value.notAfter.toISOString()}`,
      SELF_SIGNED_HINT,
    );
  }
  const issuer = { certificate: certificate.value, keys: keys.value };
  return ok({ source: 'self-signed', issuer, intermediates: [], roots: [certificate.value] });
}

async function createSelfSigned(options: LoadCaMaterialOptions): Promise<Result<CaMaterial>> {
  const generated = await generateKeyPair();
  const keys = { ...generated, signingAlgorithm: WORKLOAD_SIGNING_ALGORITHM };
  const notBefore = wholeSeconds(options.now);
  const notAfter = new Date(notBefore.getTime() + options.selfSignedRootTtlSeconds * MS_PER_SECOND);
  const certificate = await createSelfSignedRoot({ keys, organization: options.trustDomain, notBefore, notAfter });
  // Key first: a crash between the writes leaves a lone key, which the next start replaces (see loadCaMaterial).
  const written =
    (await writeFile(options.storage, SELF_SIGNED_CA_FILES.key, await exportPrivateKeyPem(keys.privateKey))) ??
    (await writeFile(options.storage, SELF_SIGNED_CA_FILES.cert, `${certificate.toString('pem')}\n`));
  if (written !== undefined) return written;
  return ok({ source: 'self-signed', issuer: { certificate, keys }, intermediates: [], roots: [certificate] });
}

/** Read the named files; blank ones (as an empty Kubernetes secret key mounts) count as absent. */
async function readFiles(storage: CaStorage, names: readonly string[]): Promise<Result<Map<string, string>>> {
  const found = new Map<string, string>();
  for (const name of names) {
    try {
      const data = await storage.read(name);
      if (data !== undefined && data.trim() !== '') found.set(name, data);
    } catch (cause) {
      return fail('ERR_CA_STORAGE', `reading ${name} from the CA storage failed: ${describeCause(cause)}`);
    }
  }
  return ok(found);
}

async function writeFile(storage: CaStorage, name: string, data: string): Promise<Result<never> | undefined> {
  try {
    await storage.write(name, data);
    return undefined;
  } catch (cause) {
    return fail(
      'ERR_CA_STORAGE',
      `writing ${name} to the CA storage failed: ${describeCause(cause)}`,
      'the CA needs a writable storage to persist its self-signed root',
    );
  }
}

function invalid(message: string, hint: string = PLUGGED_HINT): Result<never> {
  return fail('ERR_CA_INVALID', message, hint);
}
