/** Pure verification of legacy cosign signatures with generated keys of every supported type. */
import assert from 'node:assert/strict';
import { constants, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { describe, it } from 'node:test';
import { simpleSigningPayload } from '../../../src/sign/cosign/index.js';
import { compileIdentity, cosignConfigSchema } from '../../../src/trust/cosign/config.js';
import type { CosignPolicy, CosignTrustMaterial } from '../../../src/trust/cosign/types.js';
import { CosignCheckFailure } from '../../../src/verifiers/cosign/failure.js';
import { describeKey } from '../../../src/verifiers/cosign/public-key.js';
import { verifySimpleSigning, verifySimpleSigningSet } from '../../../src/verifiers/cosign/simplesigning.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;
const OTHER = `sha256:${'b'.repeat(64)}`;
const TRUST: CosignTrustMaterial = {
  certificateAuthorities: [],
  intermediates: [],
  rekorKeys: [],
  ctLogs: [],
};
const MT = 'application/vnd.dev.cosign.simplesigning.v1+json';

type Kind = 'ecdsa-p256' | 'ecdsa-p384' | 'rsa-pkcs1' | 'rsa-pss' | 'ed25519';
function keyPair(kind: Kind): { privateKey: KeyObject; publicKey: KeyObject } {
  if (kind === 'ecdsa-p256') return generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  if (kind === 'ecdsa-p384') return generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
  if (kind === 'ed25519') return generateKeyPairSync('ed25519');
  return generateKeyPairSync('rsa', { modulusLength: 2048 });
}
function signWith(kind: Kind, key: KeyObject, data: Buffer): Buffer {
  if (kind === 'ed25519') return sign(null, data, key);
  if (kind === 'rsa-pss')
    return sign('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
  return sign('sha256', data, key);
}
function policy(keys: KeyObject[], threshold = 1): CosignPolicy {
  return {
    keys: keys.map((k, i) => describeKey(k, `key${i}`)),
    identities: [],
    threshold,
    requireTlog: false,
    requireSct: false,
    attestations: [],
  };
}
function layer(payload: Buffer, signature: Buffer, mediaType = MT) {
  return {
    mediaType,
    payload,
    annotations: { 'dev.cosignproject.cosign/signature': signature.toString('base64') },
  };
}
function reasonOf(f: () => unknown): string {
  try {
    f();
    return 'ok';
  } catch (err) {
    if (err instanceof CosignCheckFailure) return err.reason;
    throw err;
  }
}

describe('simple-signing verification', () => {
  for (const kind of ['ecdsa-p256', 'ecdsa-p384', 'rsa-pkcs1', 'rsa-pss', 'ed25519'] as const) {
    describe(`when signed with ${kind}`, () => {
      const { privateKey, publicKey } = keyPair(kind);
      const wrong = keyPair(kind).publicKey;
      const payload = simpleSigningPayload('registry.test/app', DIGEST);
      const sig = signWith(kind, privateKey, payload);
      it('verifies with the key', () => {
        assert.equal(
          reasonOf(() => verifySimpleSigning(layer(payload, sig), DIGEST, policy([publicKey]), TRUST)),
          'ok',
        );
      });
      it('rejects a wrong key', () => {
        assert.equal(
          reasonOf(() => verifySimpleSigning(layer(payload, sig), DIGEST, policy([wrong]), TRUST)),
          'untrusted-signer',
        );
      });
      it('rejects a tampered payload', () => {
        const tampered = Buffer.from(payload.toString('utf8').replace('"optional":null', '"optional":{}'));
        assert.equal(
          reasonOf(() => verifySimpleSigning(layer(tampered, sig), DIGEST, policy([publicKey]), TRUST)),
          'untrusted-signer',
        );
      });
      it('rejects a payload naming another digest', () => {
        assert.equal(
          reasonOf(() => verifySimpleSigning(layer(payload, sig), OTHER, policy([publicKey]), TRUST)),
          'digest-mismatch',
        );
      });
    });
  }

  describe('when inputs are malformed', () => {
    const { privateKey, publicKey } = keyPair('ecdsa-p256');
    const cases: Array<[string, Buffer, string, string]> = [
      ['not JSON', Buffer.from('not json'), 'malformed', MT],
      ['no critical section', Buffer.from('{"optional":null}'), 'malformed', MT],
      [
        'wrong type',
        Buffer.from('{"critical":{"type":"x","image":{"docker-manifest-digest":"sha256:aa"}}}'),
        'malformed',
        MT,
      ],
      ['wrong media type', simpleSigningPayload('r/a', DIGEST), 'malformed', 'text/plain'],
    ];
    for (const [name, payload, reason, mt] of cases) {
      it(`fails ${name} with ${reason}`, () => {
        const l = layer(payload, sign('sha256', payload, privateKey), mt);
        assert.equal(
          reasonOf(() => verifySimpleSigning(l, DIGEST, policy([publicKey]), TRUST)),
          reason,
        );
      });
    }
    it('fails bad base64 in the signature annotation', () => {
      const l = {
        mediaType: MT,
        payload: simpleSigningPayload('r/a', DIGEST),
        annotations: { 'dev.cosignproject.cosign/signature': '!!not base64' },
      };
      assert.equal(
        reasonOf(() => verifySimpleSigning(l, DIGEST, policy([publicKey]), TRUST)),
        'malformed',
      );
    });
    it('fails a SET that is not JSON when a log entry is required', () => {
      const payload = simpleSigningPayload('r/a', DIGEST);
      const l = layer(payload, sign('sha256', payload, privateKey));
      const annotations = { ...l.annotations, 'dev.sigstore.cosign/bundle': '{nope' };
      const p = { ...policy([publicKey]), requireTlog: true };
      assert.equal(
        reasonOf(() => verifySimpleSigning({ ...l, annotations }, DIGEST, p, TRUST)),
        'tlog-invalid',
      );
      assert.equal(
        reasonOf(() => verifySimpleSigning(l, DIGEST, p, TRUST)),
        'tlog-missing',
      );
    });
    it('fails a garbage certificate with malformed under a keyless policy', () => {
      const payload = simpleSigningPayload('r/a', DIGEST);
      const l = layer(payload, sign('sha256', payload, privateKey));
      const annotations = {
        ...l.annotations,
        'dev.sigstore.cosign/certificate': '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
      };
      const p = { ...policy([]), identities: [compileIdentity({ subject: 'a@b', issuer: 'https://i' })] };
      assert.equal(
        reasonOf(() => verifySimpleSigning({ ...l, annotations }, DIGEST, p, TRUST)),
        'malformed',
      );
    });
  });

  describe('thresholds count distinct keys', () => {
    const a = keyPair('ecdsa-p256');
    const b = keyPair('ecdsa-p256');
    const payload = simpleSigningPayload('r/a', DIGEST);
    const sa = layer(payload, sign('sha256', payload, a.privateKey));
    const sb = layer(payload, sign('sha256', payload, b.privateKey));
    it('counts the same key twice once', () => {
      const r = verifySimpleSigningSet([sa, sa], DIGEST, policy([a.publicKey, b.publicKey], 2), TRUST);
      assert.equal(r.verified.length, 1);
    });
    it('counts two keys twice', () => {
      const r = verifySimpleSigningSet([sa, sb], DIGEST, policy([a.publicKey, b.publicKey], 2), TRUST);
      assert.equal(r.verified.length, 2);
    });
  });
});

describe('cosign config', () => {
  it('rejects a keyless identity without an issuer constraint', () => {
    assert.equal(cosignConfigSchema.safeParse({ identities: [{ subject: 'a@b' }] }).success, false);
    assert.equal(cosignConfigSchema.safeParse({ identities: [{}] }).success, false);
  });
  it('anchors identity regexps', () => {
    const m = compileIdentity({ subjectRegExp: 'alice@.*', issuer: 'https://i' });
    assert.equal(m.subjectRegExp?.test('alice@example.com'), true);
    assert.equal(m.subjectRegExp?.test('mallory-alice@example.com'), false);
  });
  it('rejects a bad regexp at load', () => {
    assert.equal(
      cosignConfigSchema.safeParse({ identities: [{ subjectRegExp: '(', issuer: 'x' }] }).success,
      false,
    );
  });
});
