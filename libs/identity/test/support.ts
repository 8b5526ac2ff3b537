// Test support: run the real `openssl` binary against what the library produces, and make CA material with it
// the way operators do (Istio's tools/certs Makefiles), so tests check interoperability, not self-consistency.
// Also a PEM tamperer for the negative signature tests.

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface OpensslRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run openssl in `cwd`; resolves with the exit code instead of rejecting so tests can assert failures too. */
export function openssl(args: readonly string[], cwd: string): Promise<OpensslRun> {
  return new Promise((resolve) => {
    execFile('openssl', [...args], { cwd, encoding: 'utf8' }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Like openssl(), but a non-zero exit fails the test with openssl's own message. */
export async function opensslOk(args: readonly string[], cwd: string): Promise<string> {
  const run = await openssl(args, cwd);
  if (run.code !== 0) throw new Error(`openssl ${args.join(' ')} exited ${run.code}: ${run.stderr}`);
  return run.stdout;
}

/** A fresh temporary directory, removed after `use` settles. */
export async function withTempDir<T>(use: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'weft-identity-'));
  try {
    return await use(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function writeFiles(dir: string, files: Readonly<Record<string, string>>): Promise<void> {
  for (const [name, data] of Object.entries(files)) await writeFile(join(dir, name), data);
}

export function readText(dir: string, name: string): Promise<string> {
  return readFile(join(dir, name), 'utf8');
}

/** The validity period printed by `openssl x509 -noout -text`. */
export function validityFromText(text: string): { notBefore: Date; notAfter: Date } {
  const notBefore = /Not Before\s*:\s*(.+)$/m.exec(text)?.[1];
  const notAfter = /Not After\s*:\s*(.+)$/m.exec(text)?.[1];
  if (notBefore === undefined || notAfter === undefined) throw new Error(`no validity in openssl output:\n${text}`);
  return { notBefore: new Date(notBefore.trim()), notAfter: new Date(notAfter.trim()) };
}

/** Every `URI:` entry of the Subject Alternative Name printed by `openssl x509 -noout -text`. */
export function uriSansFromText(text: string): string[] {
  return [...text.matchAll(/URI:([^,\s]+)/g)].map((match) => match[1] ?? '');
}

export interface PluggedCaFiles {
  readonly 'ca-cert.pem': string;
  readonly 'ca-key.pem': string;
  readonly 'root-cert.pem': string;
  readonly 'cert-chain.pem': string;
  /** Not part of cacerts; kept so tests can mint certificates openssl-side. */
  readonly 'root-key.pem': string;
}

const ROOT_EXTENSIONS = 'basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n';
const INTERMEDIATE_EXTENSIONS =
  'basicConstraints=critical,CA:true,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\n' +
  'subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\nsubjectAltName=URI:spiffe://cluster.local/ns/istio-system/sa/citadel\n';

/**
 * A plug-in CA in Istio's `cacerts` layout: an RSA root (as `tools/certs` makes) and an intermediate with an EC
 * P-256 key in SEC1 form (`ecparam -genkey`), cert-chain.pem = intermediate + root as the Istio docs build it.
 */
export async function makePluggedCa(dir: string, rootName = 'Weft Test Root'): Promise<PluggedCaFiles> {
  await writeFiles(dir, { 'root.ext': ROOT_EXTENSIONS, 'intermediate.ext': INTERMEDIATE_EXTENSIONS });
  await opensslOk(['genrsa', '-out', 'root-key.pem', '2048'], dir);
  await opensslOk(['req', '-new', '-key', 'root-key.pem', '-subj', `/O=Istio/CN=${rootName}`, '-out', 'root.csr'], dir);
  await opensslOk(
    ['x509', '-req', '-in', 'root.csr', '-signkey', 'root-key.pem', '-days', '3650', '-sha256', '-extfile', 'root.ext', '-out', 'root-cert.pem'],
    dir,
  );
  await opensslOk(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca-key.pem'], dir);
  await opensslOk(['req', '-new', '-key', 'ca-key.pem', '-subj', '/O=Istio/CN=Intermediate CA/L=cluster1', '-out', 'ca.csr'], dir);
  await opensslOk(
    ['x509', '-req', '-in', 'ca.csr', '-CA', 'root-cert.pem', '-CAkey', 'root-key.pem', '-set_serial', '4242', '-days', '730', '-sha256']
      .concat(['-extfile', 'intermediate.ext', '-out', 'ca-cert.pem']),
    dir,
  );
  const caCert = await readText(dir, 'ca-cert.pem');
  const rootCert = await readText(dir, 'root-cert.pem');
  return {
    'ca-cert.pem': caCert,
    'ca-key.pem': await readText(dir, 'ca-key.pem'),
    'root-cert.pem': rootCert,
    'cert-chain.pem': caCert + rootCert,
    'root-key.pem': await readText(dir, 'root-key.pem'),
  };
}

/** The four cacerts files of a plugged CA, without the root key. */
export function cacerts(files: PluggedCaFiles): Record<string, string> {
  const { 'root-key.pem': _rootKey, ...rest } = files;
  return rest;
}

/** Count of PEM certificates in a text. */
export function certificateCount(pem: string): number {
  return [...pem.matchAll(/-----BEGIN CERTIFICATE-----/g)].length;
}

/** Rewrite signed bytes inside a PEM: the first occurrence of `from` in the DER becomes `to` (same length). */
export function tamperPem(pem: string, from: string, to: string): string {
  const match = /-----BEGIN ([A-Z ]+)-----([\s\S]+?)-----END/.exec(pem);
  const [, label = '', body = ''] = match ?? [];
  const der = Buffer.from(body.replace(/\s+/g, ''), 'base64');
  const at = der.indexOf(Buffer.from(from, 'latin1'));
  if (at < 0) throw new Error(`"${from}" not found in the DER`);
  der.write(to, at, 'latin1');
  return `-----BEGIN ${label}-----\n${der.toString('base64')}\n-----END ${label}-----\n`;
}
