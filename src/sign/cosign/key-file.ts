/**
 * cosign's encrypted private key file (`cosign generate-key-pair`): PEM `ENCRYPTED SIGSTORE
 * PRIVATE KEY` whose body is the JSON of go-securesystemslib `encrypted.Encrypt`:
 * `{"kdf":{"name":"scrypt","params":{"N":32768,"r":8,"p":1},"salt":b64},
 *   "cipher":{"name":"nacl/secretbox","nonce":b64},"ciphertext":b64}` over the PKCS#8 DER key.
 * Key = scrypt(password, salt, N, r, p, 32); cipher = XSalsa20-Poly1305 secretbox.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, scryptSync } from 'node:crypto';
import nacl from 'tweetnacl';
import { VouchError } from '../../errors.js';

const PEM_LABELS = ['ENCRYPTED SIGSTORE PRIVATE KEY', 'ENCRYPTED COSIGN PRIVATE KEY'];
const SCRYPT = { N: 32768, r: 8, p: 1 } as const;

function pem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

function deriveKey(password: string, salt: Buffer, params: { N: number; r: number; p: number }): Buffer {
  return scryptSync(Buffer.from(password, 'utf8'), salt, 32, {
    N: params.N,
    r: params.r,
    p: params.p,
    maxmem: 256 * params.N * params.r,
  });
}

/** Encrypts a PKCS#8 PEM private key into cosign's `ENCRYPTED SIGSTORE PRIVATE KEY` PEM. */
export function encryptCosignKey(privateKeyPem: string, password: string): string {
  const der = createPrivateKey(privateKeyPem).export({ format: 'der', type: 'pkcs8' });
  const salt = randomBytes(32);
  const nonce = randomBytes(24);
  const key = deriveKey(password, salt, SCRYPT);
  const ciphertext = nacl.secretbox(new Uint8Array(der), new Uint8Array(nonce), new Uint8Array(key));
  const doc = {
    kdf: { name: 'scrypt', params: SCRYPT, salt: salt.toString('base64') },
    cipher: { name: 'nacl/secretbox', nonce: nonce.toString('base64') },
    ciphertext: Buffer.from(ciphertext).toString('base64'),
  };
  return pem(PEM_LABELS[0] as string, Buffer.from(JSON.stringify(doc), 'utf8'));
}

/** Decrypts a cosign key file into a PKCS#8 PEM private key; SIGNING_FAILED on a wrong password. */
export function decryptCosignKey(keyPem: string, password: string): string {
  const m = /-----BEGIN ([A-Z ]+)-----([\s\S]*?)-----END \1-----/.exec(keyPem);
  if (!m || !PEM_LABELS.includes(m[1] ?? '')) {
    throw new VouchError('USAGE', 'the key file is not an ENCRYPTED SIGSTORE PRIVATE KEY');
  }
  let doc: {
    kdf?: { name?: string; params?: { N?: number; r?: number; p?: number }; salt?: string };
    cipher?: { name?: string; nonce?: string };
    ciphertext?: string;
  };
  try {
    doc = JSON.parse(Buffer.from((m[2] ?? '').replace(/\s+/g, ''), 'base64').toString('utf8'));
  } catch (err) {
    throw new VouchError('USAGE', 'the encrypted key body is not JSON', { cause: err });
  }
  const params = doc.kdf?.params;
  if (doc.kdf?.name !== 'scrypt' || doc.cipher?.name !== 'nacl/secretbox' || !params) {
    throw new VouchError('USAGE', 'the encrypted key uses an unknown kdf or cipher');
  }
  // go-securesystemslib CheckParams: refuse tampered parameters (a DoS through huge N).
  if (params.N !== SCRYPT.N || params.r !== SCRYPT.r || params.p !== SCRYPT.p) {
    throw new VouchError('USAGE', 'the encrypted key has unexpected scrypt parameters');
  }
  const salt = Buffer.from(doc.kdf.salt ?? '', 'base64');
  const nonce = Buffer.from(doc.cipher.nonce ?? '', 'base64');
  if (nonce.length !== 24) throw new VouchError('USAGE', 'the encrypted key has a bad nonce');
  const key = deriveKey(password, salt, SCRYPT);
  const plain = nacl.secretbox.open(
    new Uint8Array(Buffer.from(doc.ciphertext ?? '', 'base64')),
    new Uint8Array(nonce),
    new Uint8Array(key),
  );
  if (!plain) throw new VouchError('SIGNING_FAILED', 'cannot decrypt the cosign key: wrong password?');
  return createPrivateKey({ key: Buffer.from(plain), format: 'der', type: 'pkcs8' })
    .export({ format: 'pem', type: 'pkcs8' })
    .toString();
}

/** Generates an ECDSA P-256 key pair as `cosign generate-key-pair` does. */
export function generateCosignKeyPair(password: string): { privateKeyFile: string; publicKeyPem: string } {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const pkcs8 = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  const publicKeyPem = createPublicKey(privateKey).export({ format: 'pem', type: 'spki' }).toString();
  return { privateKeyFile: encryptCosignKey(pkcs8, password), publicKeyPem };
}
