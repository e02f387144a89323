/**
 * Named X.509 trust stores (specs/trust-store-trust-policy.md "Trust Store"): files of PEM or DER
 * certificates. Like notation-go, a store is rejected whole when any file fails; `ca` and
 * `signingAuthority` stores hold CA certificates or self-signed leaves; `tsa` stores hold only
 * self-issued, self-signed CA roots. Validity periods are not checked when a store loads.
 */
import { lstat, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { VouchError } from '../../errors.js';
import { isSelfSigned, type ParsedCertificate, parseCertificate, readCertificates } from './certificate.js';
import type { StoreType } from './policy.js';

/** A loaded named store. */
export interface NamedTrustStore {
  readonly type: StoreType;
  readonly name: string;
  readonly certificates: readonly ParsedCertificate[];
}

/** Largest certificate file read from a store. */
const MAX_CERT_FILE_BYTES = 1024 * 1024;

/** Checks one parsed certificate against the rules for its store type; returns an error sentence or undefined. */
export function checkStoreCertificate(cert: ParsedCertificate, type: StoreType): string | undefined {
  const isCa = cert.basicConstraints?.ca === true;
  if (!isCa && !isSelfSigned(cert)) {
    return `certificate with subject "${cert.subject}" is not a CA certificate or self-signed signing certificate`;
  }
  if (type === 'tsa') {
    if (cert.rawIssuerHex !== cert.rawSubjectHex) {
      return `certificate with subject "${cert.subject}" is not a root CA certificate: issuer (${cert.issuer}) and subject (${cert.subject}) are not the same`;
    }
    const canSign = isCa && (!cert.keyUsage || cert.keyUsage.bits.has('keyCertSign'));
    if (!canSign || !isSelfSigned(cert)) {
      return `certificate with subject "${cert.subject}" is not a root CA certificate`;
    }
  }
  return undefined;
}

/** Loads certificates from files (already chosen by the caller). `label` names the store in messages. */
export async function loadTrustStoreFiles(
  type: StoreType,
  name: string,
  files: readonly string[],
  label: string,
): Promise<NamedTrustStore> {
  const certificates: ParsedCertificate[] = [];
  for (const file of files) {
    let bytes: Buffer;
    try {
      const st = await lstat(file);
      if (st.isSymbolicLink())
        throw new VouchError(
          'TRUST_MATERIAL_INVALID',
          `${label}: ${file} is a symlink (not supported in trust stores)`,
        );
      if (!st.isFile())
        throw new VouchError('TRUST_MATERIAL_INVALID', `${label}: ${file} is not a regular file`);
      if (st.size > MAX_CERT_FILE_BYTES)
        throw new VouchError('TRUST_MATERIAL_INVALID', `${label}: ${file} is larger than 1 MiB`);
      bytes = await readFile(file);
    } catch (err) {
      if (err instanceof VouchError) throw err;
      throw new VouchError(
        'TRUST_MATERIAL_INVALID',
        `${label}: ${file} ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : 'cannot be read'}`,
        { cause: err },
      );
    }
    let parsed: ParsedCertificate[];
    try {
      parsed = readCertificates(bytes).map(parseCertificate);
    } catch (err) {
      throw new VouchError(
        'TRUST_MATERIAL_INVALID',
        `${label}: failed to read the trusted certificate ${path.basename(file)}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    for (const cert of parsed) {
      const problem = checkStoreCertificate(cert, type);
      if (problem)
        throw new VouchError(
          'TRUST_MATERIAL_INVALID',
          `${label}: trusted certificate ${path.basename(file)} is invalid: ${problem}`,
        );
    }
    certificates.push(...parsed);
  }
  if (certificates.length === 0)
    throw new VouchError(
      'TRUST_MATERIAL_INVALID',
      `${label}: no x509 certificates were found in trust store "${name}" of type "${type}"`,
    );
  return { type, name, certificates };
}

/** Lists the regular files of a directory (sub-directories are ignored, as the spec says). */
export async function listStoreDirectory(dir: string, label: string): Promise<string[]> {
  let entries: import('node:fs').Dirent[];
  try {
    const st = await lstat(dir);
    if (st.isSymbolicLink())
      throw new VouchError(
        'TRUST_MATERIAL_INVALID',
        `${label}: ${dir} is a symlink (not supported for named stores)`,
      );
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (err instanceof VouchError) throw err;
    throw new VouchError(
      'TRUST_MATERIAL_INVALID',
      `${label}: ${dir} ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : 'cannot be read'}`,
      { cause: err },
    );
  }
  return entries
    .filter((e) => !e.isDirectory())
    .map((e) => path.join(dir, e.name))
    .sort();
}

/** Loads a named store from a notation config dir (`truststore/x509/{type}/{name}/`). */
export async function loadNamedStoreDirectory(
  configDir: string,
  type: StoreType,
  name: string,
  label: string,
): Promise<NamedTrustStore> {
  const dir = path.join(configDir, 'truststore', 'x509', type, name);
  return loadTrustStoreFiles(type, name, await listStoreDirectory(dir, label), label);
}

/** Expands configured paths (files or directories) into files. */
export async function expandStorePaths(
  paths: readonly string[],
  baseDir: string,
  label: string,
): Promise<string[]> {
  const files: string[] = [];
  for (const p of paths) {
    const abs = path.resolve(baseDir, p);
    let st: import('node:fs').Stats;
    try {
      st = await lstat(abs);
    } catch (err) {
      throw new VouchError('TRUST_MATERIAL_INVALID', `${label}: ${p} not found`, { cause: err });
    }
    if (st.isDirectory()) files.push(...(await listStoreDirectory(abs, label)));
    else files.push(abs);
  }
  return files;
}
