/**
 * The pure Notary Project verification core, over envelopes made by vouch's own signer and then
 * tampered with: every bad input is a specific failure, never a throw.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Decoder, Encoder, type Tag } from 'cbor-x';
import { verifyNotationEnvelope } from '../../../src/verifiers/notation/core.js';
import { reasonFor } from '../../../src/verifiers/notation/result.js';
import { cert, editJws, envelope, rawJws, SUBJECT, standardHeader, trustFor } from './fixtures.js';

const JWS = 'application/jose+json';
const COSE = 'application/cose';
const now = () => new Date();

describe('when an envelope made by the signer is verified', () => {
  for (const format of ['jws', 'cose'] as const) {
    it(`accepts a ${format} signature by a self-signed leaf in the ca store`, async () => {
      const signer = await cert('acme');
      const { trust, statement } = trustFor({ ca: [signer.der] });
      const r = verifyNotationEnvelope(
        await envelope(format, signer),
        format === 'jws' ? JWS : COSE,
        SUBJECT,
        trust,
        statement,
        { now: now() },
      );
      assert.equal(r.verified, true, r.failure?.message);
      assert.match(String(r.details.signer), /CN=acme\.example,O=Notary,L=Seattle,ST=WA,C=US/);
      assert.equal((r.details.certificateChain as unknown[]).length, 1);
      assert.equal(r.details.envelope, format);
    });
  }

  for (const keyAlgorithm of ['ec-p256', 'ec-p384', 'ec-p521', 'rsa-3072'] as const) {
    it(`accepts ${keyAlgorithm} keys (the algorithm follows the key)`, async () => {
      const signer = await cert(keyAlgorithm, { keyAlgorithm });
      const { trust, statement } = trustFor({ ca: [signer.der] });
      for (const format of ['jws', 'cose'] as const) {
        const r = verifyNotationEnvelope(
          await envelope(format, signer),
          format === 'jws' ? JWS : COSE,
          SUBJECT,
          trust,
          statement,
          { now: now() },
        );
        assert.equal(r.verified, true, r.failure?.message);
      }
    });
  }

  it('accepts a leaf issued by a CA whose root is in the store, and rejects the same chain mis-ordered', async () => {
    const root = await cert('root', { ca: true });
    const leaf = await cert('leaf-of-root', { issuer: root });
    const { trust, statement } = trustFor({ ca: [root.der] });
    const ok = verifyNotationEnvelope(
      await envelope('jws', leaf, { chain: [leaf, root] }),
      JWS,
      SUBJECT,
      trust,
      statement,
      { now: now() },
    );
    assert.equal(ok.verified, true, ok.failure?.message);
    const misordered = editJws(await envelope('jws', leaf, { chain: [leaf, root] }), (doc) => {
      const h = doc.header as { x5c: string[] };
      h.x5c.reverse();
    });
    const bad = verifyNotationEnvelope(misordered, JWS, SUBJECT, trust, statement, { now: now() });
    assert.equal(bad.failure?.code, 'integrity');
    assert.match(bad.failure?.message ?? '', /certificate chain is invalid/);
    const incomplete = editJws(await envelope('jws', leaf, { chain: [leaf, root] }), (doc) => {
      (doc.header as { x5c: string[] }).x5c.pop();
    });
    assert.equal(
      verifyNotationEnvelope(incomplete, JWS, SUBJECT, trust, statement, { now: now() }).failure?.code,
      'integrity',
    );
  });
});

describe('when the signer is not trusted', () => {
  it('fails authenticity for a certificate outside the store ("untrusted-signer")', async () => {
    const evil = await cert('evil');
    const { trust, statement } = trustFor({ ca: [(await cert('acme')).der] });
    const r = verifyNotationEnvelope(await envelope('jws', evil), JWS, SUBJECT, trust, statement, {
      now: now(),
    });
    assert.equal(r.failure?.code, 'untrusted-chain');
    assert.equal(reasonFor('untrusted-chain'), 'untrusted-signer');
    assert.match(r.failure?.message ?? '', /signature is not produced by a trusted signer/);
  });

  it('logs the same failure under audit and verifies', async () => {
    const { trust, statement } = trustFor({ ca: [(await cert('acme')).der] }, { level: 'audit' });
    const r = verifyNotationEnvelope(
      await envelope('cose', await cert('evil')),
      COSE,
      SUBJECT,
      trust,
      statement,
      { now: now() },
    );
    assert.equal(r.verified, true);
    assert.equal(r.logged[0]?.code, 'untrusted-chain');
    assert.ok(Array.isArray(r.details.loggedFailures));
  });

  it('matches trusted identities as DN subsets, in any order', async () => {
    const signer = await cert('acme');
    const ok = trustFor({ ca: [signer.der] }, undefined, [
      'x509.subject: O=Notary, C=US, ST=WA, CN=acme.example',
    ]);
    assert.equal(
      verifyNotationEnvelope(await envelope('jws', signer), JWS, SUBJECT, ok.trust, ok.statement, {
        now: now(),
      }).verified,
      true,
    );
    const other = trustFor({ ca: [signer.der] }, undefined, [
      'x509.subject: C=US, ST=WA, O=Notary, CN=someone-else',
    ]);
    assert.equal(
      verifyNotationEnvelope(await envelope('jws', signer), JWS, SUBJECT, other.trust, other.statement, {
        now: now(),
      }).failure?.code,
      'identity',
    );
  });
});

describe('when the payload or the envelope is tampered with', () => {
  it('fails with digest-mismatch when the payload names another artifact', async () => {
    const signer = await cert('acme');
    const { trust, statement } = trustFor({ ca: [signer.der] });
    const other = { ...SUBJECT, digest: `sha256:${'1'.repeat(64)}` };
    const r = verifyNotationEnvelope(
      await envelope('cose', signer, { subject: other }),
      COSE,
      SUBJECT,
      trust,
      statement,
      { now: now() },
    );
    assert.equal(r.failure?.code, 'digest-mismatch');
  });

  it('fails integrity when the payload is replaced (a forged signature)', async () => {
    const signer = await cert('acme');
    const { trust, statement } = trustFor({ ca: [signer.der] });
    const forged = editJws(await envelope('jws', signer), (doc) => {
      doc.payload = Buffer.from(JSON.stringify({ targetArtifact: SUBJECT, x: 1 })).toString('base64url');
    });
    const r = verifyNotationEnvelope(forged, JWS, SUBJECT, trust, statement, { now: now() });
    assert.equal(r.failure?.code, 'integrity');
    assert.match(r.failure?.message ?? '', /signature is invalid/);
  });

  const cases: Array<[string, (doc: Record<string, unknown>) => void, string]> = [
    [
      'padding in base64url',
      (d) => {
        d.signature = `${String(d.signature)}=`;
      },
      'integrity',
    ],
    [
      'not base64 at all',
      (d) => {
        d.payload = '***';
      },
      'integrity',
    ],
    [
      'x5c as a string',
      (d) => {
        (d.header as Record<string, unknown>).x5c = 'abc';
      },
      'malformed',
    ],
    [
      'x5c with a non-certificate',
      (d) => {
        (d.header as Record<string, unknown>).x5c = ['AAAA'];
      },
      'malformed',
    ],
    [
      'an extra top-level member',
      (d) => {
        d.signatures = [];
      },
      'malformed',
    ],
    [
      'protected header missing',
      (d) => {
        delete d.protected;
      },
      'malformed',
    ],
    [
      'signature as a number',
      (d) => {
        d.signature = 5;
      },
      'malformed',
    ],
  ];
  for (const [name, edit, code] of cases) {
    it(`rejects a JWS with ${name} as ${code}`, async () => {
      const signer = await cert('acme');
      const { trust, statement } = trustFor({ ca: [signer.der] });
      const r = verifyNotationEnvelope(
        editJws(await envelope('jws', signer), edit),
        JWS,
        SUBJECT,
        trust,
        statement,
        { now: now() },
      );
      assert.equal(r.verified, false);
      assert.equal(r.failure?.code, code, r.failure?.message);
    });
  }

  const headerCases: Array<[string, Record<string, unknown>, string, RegExp]> = [
    ['alg of the wrong type', { alg: 256 }, 'malformed', /alg header/],
    ['an alg that does not match the key', { alg: 'PS512' }, 'integrity', /does not match/],
    [
      'an unknown critical header',
      { crit: ['io.cncf.notary.signingScheme', 'com.example.mustKnow'], 'com.example.mustKnow': true },
      'unsupported',
      /critical headers/,
    ],
    [
      'a verification plugin',
      {
        crit: ['io.cncf.notary.signingScheme', 'io.cncf.notary.verificationPlugin'],
        'io.cncf.notary.verificationPlugin': 'com.example.plugin',
      },
      'unsupported',
      /plugins are not supported/,
    ],
    ['a wrong payload content type', { cty: 'application/json' }, 'unsupported', /content type/],
    [
      'crit without the signing scheme',
      { crit: ['io.cncf.notary.expiry'], 'io.cncf.notary.expiry': '2999-01-01T00:00:00Z' },
      'malformed',
      /signingScheme/,
    ],
    [
      'expiry not listed in crit',
      { 'io.cncf.notary.expiry': '2999-01-01T00:00:00Z' },
      'malformed',
      /crit must list io\.cncf\.notary\.expiry/,
    ],
    [
      'a signing time that is not RFC 3339',
      { 'io.cncf.notary.signingTime': 'yesterday' },
      'malformed',
      /RFC 3339/,
    ],
    [
      'an unknown signing scheme',
      { 'io.cncf.notary.signingScheme': 'notary.x509.other' },
      'malformed',
      /signingScheme must be/,
    ],
  ];
  for (const [name, extra, code, message] of headerCases) {
    it(`rejects a protected header with ${name}`, async () => {
      const signer = await cert('acme');
      const { trust, statement } = trustFor({ ca: [signer.der] });
      const r = verifyNotationEnvelope(
        rawJws(signer, 'PS256', standardHeader('PS256', extra)),
        JWS,
        SUBJECT,
        trust,
        statement,
        { now: now() },
      );
      assert.equal(r.failure?.code, code, r.failure?.message);
      assert.match(r.failure?.message ?? '', message);
    });
  }

  it('accepts the raw JWS builder output untampered (the header cases fail for their own reason)', async () => {
    const signer = await cert('acme');
    const { trust, statement } = trustFor({ ca: [signer.der] });
    assert.equal(
      verifyNotationEnvelope(
        rawJws(signer, 'PS256', standardHeader('PS256')),
        JWS,
        SUBJECT,
        trust,
        statement,
        { now: now() },
      ).verified,
      true,
    );
  });

  it('rejects truncated CBOR, a COSE without tag 18, and a JWS declared as COSE as malformed', async () => {
    const signer = await cert('acme');
    const { trust, statement } = trustFor({ ca: [signer.der] });
    const cose = await envelope('cose', signer);
    for (const bytes of [
      cose.subarray(0, cose.length - 10),
      cose.subarray(0, 3),
      new Uint8Array(
        new Encoder({ useRecords: false }).encode(
          (new Decoder({ mapsAsObjects: false }).decode(cose) as Tag).value,
        ),
      ),
      await envelope('jws', signer),
    ]) {
      const r = verifyNotationEnvelope(bytes, COSE, SUBJECT, trust, statement, { now: now() });
      assert.equal(r.failure?.code, 'malformed', r.failure?.message);
    }
  });

  it('rejects a huge envelope before parsing it', async () => {
    const signer = await cert('acme');
    const { trust, statement } = trustFor({ ca: [signer.der] });
    const r = verifyNotationEnvelope(new Uint8Array(300 * 1024).fill(0x20), JWS, SUBJECT, trust, statement, {
      now: now(),
    });
    assert.equal(r.failure?.code, 'malformed');
    assert.match(r.failure?.message ?? '', /more than/);
  });

  it('rejects an unknown envelope media type', async () => {
    const signer = await cert('acme');
    const { trust, statement } = trustFor({ ca: [signer.der] });
    assert.equal(
      verifyNotationEnvelope(await envelope('jws', signer), 'application/json', SUBJECT, trust, statement, {
        now: now(),
      }).failure?.code,
      'unsupported',
    );
  });
});

describe('when certificates break the rules', () => {
  it('fails integrity for a leaf with a TLS server EKU', async () => {
    const tls = await cert('tls', { extendedKeyUsages: ['1.3.6.1.5.5.7.3.1'] });
    const { trust, statement } = trustFor({ ca: [tls.der] });
    const r = verifyNotationEnvelope(
      await envelope('jws', tls).catch(() => rawJws(tls, 'PS256', standardHeader('PS256'))),
      JWS,
      SUBJECT,
      trust,
      statement,
      { now: now() },
    );
    assert.equal(r.failure?.code, 'integrity');
    assert.match(r.failure?.message ?? '', /ServerAuth/);
  });

  it('refuses to sign with a certificate that breaks the rules', async () => {
    await assert.rejects(
      envelope('jws', await cert('tls', { extendedKeyUsages: ['1.3.6.1.5.5.7.3.1'] })),
      /not a valid code signing chain/,
    );
  });

  it('fails an expired signing certificate ("expired") and one not yet valid ("not-yet-valid")', async () => {
    const old = await cert('old', {
      notBefore: new Date('2020-01-01T00:00:00Z'),
      notAfter: new Date('2021-01-01T00:00:00Z'),
    });
    const { trust, statement } = trustFor({ ca: [old.der] });
    const bytes = await envelope('cose', old, { now: new Date('2020-06-01T00:00:00Z') });
    const expired = verifyNotationEnvelope(bytes, COSE, SUBJECT, trust, statement, { now: now() });
    assert.equal(expired.failure?.code, 'cert-expired');
    assert.equal(reasonFor('cert-expired'), 'expired');
    assert.match(expired.failure?.message ?? '', /contains an expired certificate/);
    const early = verifyNotationEnvelope(bytes, COSE, SUBJECT, trust, statement, {
      now: new Date('2019-01-01T00:00:00Z'),
    });
    assert.equal(early.failure?.code, 'cert-not-yet-valid');
    const thenValid = verifyNotationEnvelope(bytes, COSE, SUBJECT, trust, statement, {
      now: new Date('2020-07-01T00:00:00Z'),
    });
    assert.equal(thenValid.verified, true, thenValid.failure?.message);
  });

  it('requires a countersignature when a tsa store is configured, and logs it under permissive', async () => {
    const signer = await cert('acme');
    const tsaRoot = await cert('tsa-root', { ca: true });
    const strict = trustFor({ ca: [signer.der], tsa: [tsaRoot.der] });
    const r = verifyNotationEnvelope(
      await envelope('jws', signer),
      JWS,
      SUBJECT,
      strict.trust,
      strict.statement,
      { now: now() },
    );
    assert.equal(r.failure?.code, 'timestamp');
    const permissive = trustFor({ ca: [signer.der], tsa: [tsaRoot.der] }, { level: 'permissive' });
    const p = verifyNotationEnvelope(
      await envelope('jws', signer),
      JWS,
      SUBJECT,
      permissive.trust,
      permissive.statement,
      { now: now() },
    );
    assert.equal(p.verified, true);
    assert.equal(p.logged[0]?.check, 'authenticTimestamp');
    assert.ok(p.revocationPending, 'revocation is left to the caller when the policy checks it');
  });
});

describe('when the signature carries an expiry', () => {
  it('enforces it under strict and logs it under permissive', async () => {
    const signer = await cert('acme');
    const bytes = await envelope('jws', signer, { expiry: new Date(Date.now() + 60_000) });
    const strict = trustFor({ ca: [signer.der] });
    assert.equal(
      verifyNotationEnvelope(bytes, JWS, SUBJECT, strict.trust, strict.statement, { now: now() }).verified,
      true,
    );
    const later = new Date(Date.now() + 120_000);
    assert.equal(
      verifyNotationEnvelope(bytes, JWS, SUBJECT, strict.trust, strict.statement, { now: later }).failure
        ?.code,
      'expired',
    );
    const permissive = trustFor(
      { ca: [signer.der] },
      { level: 'permissive', override: { revocation: 'skip' } },
    );
    const r = verifyNotationEnvelope(bytes, JWS, SUBJECT, permissive.trust, permissive.statement, {
      now: later,
    });
    assert.equal(r.verified, true);
    assert.equal(r.logged[0]?.code, 'expired');
  });

  it('returns verified without checks under the skip level', async () => {
    const skip = trustFor({}, { level: 'skip' }, []);
    const r = verifyNotationEnvelope(new Uint8Array([1, 2, 3]), JWS, SUBJECT, skip.trust, skip.statement, {
      now: now(),
    });
    assert.equal(r.verified, true);
    assert.equal(r.details.skipped, true);
  });
});
