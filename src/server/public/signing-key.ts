/**
 * vouch's own signing key for published lists, loaded once at start: a PEM private key (PKCS#8 or
 * SEC1) or a cosign-encrypted key (`vouch keygen --format cosign`) with its password in a file.
 * The public half is what `GET /v1/keys` serves and what readers pin with `--public-key`.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { VouchError } from '../../errors.js';
import { decryptCosignKey } from '../../sign/cosign/key-file.js';
import { type CosignPublicKey, describeKey } from '../../verifiers/cosign/public-key.js';

export interface PublicSigningKey {
  readonly privateKey: KeyObject;
  readonly publicKey: CosignPublicKey;
  /** The public key as PEM (SPKI). */
  readonly publicKeyPem: string;
}

const SUPPORTED = new Set(['ecdsa-p256', 'ecdsa-p384', 'ed25519']);

async function readOrConfigError(file: string, where: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw new VouchError('CONFIG_INVALID', `${where}: ${file} ${missing ? 'not found' : 'is unreadable'}`, {
      cause: err,
    });
  }
}

/** Loads `server.publicVerification.signingKeyFile`; CONFIG_INVALID names the field. */
export async function loadPublicSigningKey(file: string, passwordFile?: string): Promise<PublicSigningKey> {
  const where = 'server.publicVerification.signingKeyFile';
  let pem = await readOrConfigError(file, where);
  if (/-----BEGIN ENCRYPTED (SIGSTORE|COSIGN) PRIVATE KEY-----/.test(pem)) {
    if (!passwordFile)
      throw new VouchError('CONFIG_INVALID', `${where}: ${file} is encrypted; set signingKeyPasswordFile`);
    const password = (
      await readOrConfigError(passwordFile, 'server.publicVerification.signingKeyPasswordFile')
    ).split(/\r?\n/)[0] as string;
    try {
      pem = decryptCosignKey(pem, password);
    } catch (err) {
      throw new VouchError('CONFIG_INVALID', `${where}: ${file} does not decrypt with the password given`, {
        cause: err,
      });
    }
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (err) {
    throw new VouchError('CONFIG_INVALID', `${where}: ${file} is not a PEM private key`, { cause: err });
  }
  const publicKey = describeKey(createPublicKey(privateKey), file);
  if (!SUPPORTED.has(publicKey.algorithm)) {
    throw new VouchError(
      'CONFIG_INVALID',
      `${where}: ${file} is ${publicKey.algorithm}; use ECDSA P-256/P-384 or Ed25519`,
    );
  }
  const publicKeyPem = publicKey.key.export({ format: 'pem', type: 'spki' }).toString();
  return { privateKey, publicKey, publicKeyPem };
}
