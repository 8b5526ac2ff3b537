// Shared test fixtures for the CA concern: temp dirs, a plug-in CA (root → intermediate) made by the real openssl
// CLI, workload CSRs from @weft/identity, and a logger that records instead of printing.

import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { createCsr, generateKeyPair, parseSpiffeId, type Identity } from '@weft/identity';

import type { CaLogger } from '../../src/ca/ca-error';

export async function makeTempDir(prefix: string): Promise<string> {
  return mkdtemp(path.join(tmpdir(), `weft-${prefix}-`));
}

export async function removeDir(dir: string | undefined): Promise<void> {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
}

export function openssl(args: readonly string[], cwd?: string): string {
  return execFileSync('openssl', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * Write Istio's `cacerts` layout into `cacertsDir`: an RSA root (key kept in `workDir`), an ECDSA intermediate that
 * signs, `root-cert.pem` and `cert-chain.pem` (intermediate then root), as `istioctl`'s cert makefile produces.
 */
export async function makePluggedCa(cacertsDir: string, workDir: string, trustDomain = 'cluster.local'): Promise<void> {
  const at = (dir: string, name: string): string => path.join(dir, name);
  openssl([
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', at(workDir, 'root-key.pem'), '-out', at(cacertsDir, 'root-cert.pem'),
    '-days', '3650', '-subj', `/O=${trustDomain}/CN=Root CA`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  openssl([
    'req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', at(cacertsDir, 'ca-key.pem'),
    '-out', at(workDir, 'ca.csr'), '-subj', `/O=${trustDomain}/CN=Intermediate CA`,
  ]);
  await writeFile(
    at(workDir, 'ca.ext'),
    'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n' +
      'subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n',
  );
  openssl([
    'x509', '-req', '-in', at(workDir, 'ca.csr'), '-CA', at(cacertsDir, 'root-cert.pem'), '-CAkey', at(workDir, 'root-key.pem'),
    '-set_serial', '2', '-days', '730', '-extfile', at(workDir, 'ca.ext'), '-out', at(cacertsDir, 'ca-cert.pem'),
  ]);
  const chain = openssl(['x509', '-in', at(cacertsDir, 'ca-cert.pem')]) + openssl(['x509', '-in', at(cacertsDir, 'root-cert.pem')]);
  await writeFile(at(cacertsDir, 'cert-chain.pem'), chain);
}

/**
 * `openssl verify -CAfile <root> [-untrusted <intermediates>] <leaf>` on a CreateCertificate chain (leaf first,
 * root last); throws with openssl's output when verification fails.
 */
export async function opensslVerifyChain(chain: readonly string[], dir: string, purpose?: 'sslserver' | 'sslclient'): Promise<string> {
  const leaf = chain[0];
  const root = chain[chain.length - 1];
  if (leaf === undefined || root === undefined || chain.length < 2) throw new Error(`chain too short: ${chain.length}`);
  const intermediates = chain.slice(1, -1);
  await writeFile(path.join(dir, 'verify-leaf.pem'), leaf);
  await writeFile(path.join(dir, 'verify-root.pem'), root);
  const args = ['verify', '-CAfile', path.join(dir, 'verify-root.pem')];
  if (intermediates.length > 0) {
    await writeFile(path.join(dir, 'verify-untrusted.pem'), intermediates.join(''));
    args.push('-untrusted', path.join(dir, 'verify-untrusted.pem'));
  }
  if (purpose !== undefined) args.push('-purpose', purpose);
  args.push(path.join(dir, 'verify-leaf.pem'));
  return openssl(args);
}

export async function opensslText(pem: string, dir: string): Promise<string> {
  const file = path.join(dir, 'text.pem');
  await writeFile(file, pem);
  return openssl(['x509', '-noout', '-text', '-in', file]);
}

export function spiffe(uri: string): Identity {
  const parsed = parseSpiffeId(uri);
  if (!parsed.ok) throw new Error(parsed.error.message);
  return parsed.value;
}

/** A CSR as ztunnel writes it: fresh P-256 key, one URI SAN. */
export async function workloadCsr(uri: string): Promise<string> {
  return createCsr({ identity: spiffe(uri), keys: await generateKeyPair() });
}

export interface LogLine {
  readonly level: 'info' | 'warn' | 'error';
  readonly fields: Record<string, unknown>;
  readonly message: string;
}

export function recordingLogger(): CaLogger & { readonly lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: LogLine['level']) => (fields: Record<string, unknown>, message: string) => {
    lines.push({ level, fields, message });
  };
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}

/** A pod index from `node/ns/sa` triples (the config view will implement PodsOnNode for real). */
export function podIndex(entries: readonly string[]): { hasPod(node: string, namespace: string, serviceAccount: string): boolean } {
  const set = new Set(entries);
  return { hasPod: (node, namespace, serviceAccount) => set.has(`${node}/${namespace}/${serviceAccount}`) };
}

export function unwrap<T>(result: { ok: true; value: T } | { ok: false; error: { code: string; message: string } }): T {
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  return result.value;
}
