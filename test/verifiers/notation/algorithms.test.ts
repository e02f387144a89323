/**
 * The primitive signature check (algorithms.ts verifySignature): RSASSA-PSS through a key restricted
 * to the spec's parameters must stay exact (salt as long as the hash), and ECDSA r||s signatures,
 * converted to DER for Node, must verify for every r/s shape and fail for a wrong length.
 */
import assert from 'node:assert/strict';
import { constants, generateKeyPairSync, sign } from 'node:crypto';
import { describe, it } from 'node:test';
import { createSignature, verifySignature } from '../../../src/verifiers/notation/algorithms.js';

const data = new TextEncoder().encode('notary signing input');

describe('verifySignature', () => {
  for (const [alg, bits, hash, salt] of [
    ['PS256', 2048, 'sha256', 32],
    ['PS384', 3072, 'sha384', 48],
  ] as const) {
    it(`${alg}: accepts salt ${salt} only, and the same hash only`, () => {
      const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: bits });
      const pss = (saltLength: number, h: string = hash) =>
        sign(h, data, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength });
      assert.equal(verifySignature(alg, publicKey, data, pss(salt)), true);
      assert.equal(verifySignature(alg, publicKey, data, pss(salt + 32)), false, 'longer salt');
      assert.equal(verifySignature(alg, publicKey, data, pss(20)), false, 'shorter salt');
      assert.equal(verifySignature(alg, publicKey, data, pss(salt, 'sha512')), false, 'other hash');
      assert.equal(verifySignature(alg, publicKey, new Uint8Array([1]), pss(salt)), false, 'other data');
      const pkcs1 = sign(hash, data, { key: privateKey, padding: constants.RSA_PKCS1_PADDING });
      assert.equal(verifySignature(alg, publicKey, data, pkcs1), false, 'PKCS#1 v1.5 is not PSS');
    });
  }

  for (const [alg, curve, size] of [
    ['ES256', 'P-256', 32],
    ['ES384', 'P-384', 48],
    ['ES512', 'P-521', 66],
  ] as const) {
    it(`${alg}: r||s of ${2 * size} bytes verifies for many signatures; other lengths fail`, () => {
      const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: curve });
      // 64 signatures cover r and s with the high bit set and with leading zero bytes.
      for (let i = 0; i < 64; i++) {
        const msg = new TextEncoder().encode(`message ${i}`);
        const sig = createSignature(alg, privateKey, msg);
        assert.equal(sig.length, 2 * size);
        assert.equal(verifySignature(alg, publicKey, msg, sig), true, `signature ${i}`);
        const flipped = new Uint8Array(sig);
        flipped[5] = (flipped[5] ?? 0) ^ 1;
        assert.equal(verifySignature(alg, publicKey, msg, flipped), false, `tampered ${i}`);
      }
      const sig = createSignature(alg, privateKey, data);
      assert.equal(verifySignature(alg, publicKey, data, sig.subarray(1)), false, 'short');
      assert.equal(verifySignature(alg, publicKey, data, new Uint8Array([0, ...sig])), false, 'long');
      assert.equal(verifySignature(alg, publicKey, data, new Uint8Array(2 * size)), false, 'zeros');
    });
  }
});
