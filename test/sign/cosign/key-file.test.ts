/** cosign encrypted key files: round trip, format, wrong password, tampered parameters. */
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { describe, it } from 'node:test';
import { isVouchError } from '../../../src/errors.js';
import {
  decryptCosignKey,
  encryptCosignKey,
  generateCosignKeyPair,
  simpleSigningPayload,
} from '../../../src/sign/cosign/index.js';

function body(pem: string): Record<string, unknown> {
  const b64 = pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
  return JSON.parse(Buffer.from(b64, 'base64').toString('utf8'));
}

describe('cosign key files', () => {
  const pair = generateCosignKeyPair('s3cret');

  it('writes the go-securesystemslib JSON cosign reads', () => {
    assert.match(pair.privateKeyFile, /^-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n/);
    const doc = body(pair.privateKeyFile) as {
      kdf: { name: string; params: unknown; salt: string };
      cipher: { name: string; nonce: string };
    };
    assert.equal(doc.kdf.name, 'scrypt');
    assert.deepEqual(doc.kdf.params, { N: 32768, r: 8, p: 1 });
    assert.equal(Buffer.from(doc.kdf.salt, 'base64').length, 32);
    assert.equal(doc.cipher.name, 'nacl/secretbox');
    assert.equal(Buffer.from(doc.cipher.nonce, 'base64').length, 24);
  });

  it('round-trips: the decrypted key signs what the public key verifies', () => {
    const pkcs8 = decryptCosignKey(pair.privateKeyFile, 's3cret');
    const payload = simpleSigningPayload('r/a', `sha256:${'a'.repeat(64)}`);
    const sig = sign('sha256', payload, pkcs8);
    assert.equal(verify('sha256', payload, createPublicKey(pair.publicKeyPem), sig), true);
  });

  it('re-encrypts an existing PKCS#8 key', () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    assert.equal(decryptCosignKey(encryptCosignKey(pem, 'pw'), 'pw'), pem);
  });

  it('fails with SIGNING_FAILED on a wrong password', () => {
    assert.throws(
      () => decryptCosignKey(pair.privateKeyFile, 'nope'),
      (e) => isVouchError(e, 'SIGNING_FAILED'),
    );
  });

  it('refuses tampered scrypt parameters (DoS guard)', () => {
    const doc = body(pair.privateKeyFile) as { kdf: { params: { N: number } } };
    doc.kdf.params.N = 1 << 22;
    const pem = `-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n${Buffer.from(JSON.stringify(doc)).toString('base64')}\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n`;
    assert.throws(
      () => decryptCosignKey(pem, 's3cret'),
      (e) => isVouchError(e, 'USAGE'),
    );
  });
});

describe('simple-signing payload', () => {
  it('is byte-identical to Go json.Marshal output', () => {
    assert.equal(
      simpleSigningPayload('index.docker.io/library/alpine', `sha256:${'0'.repeat(64)}`).toString(),
      `{"critical":{"identity":{"docker-reference":"index.docker.io/library/alpine"},"image":{"docker-manifest-digest":"sha256:${'0'.repeat(64)}"},"type":"cosign container image signature"},"optional":null}`,
    );
  });
});
