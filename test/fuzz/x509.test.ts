/**
 * Fuzzing X.509 certificates and chains (DER and PEM readers, chain rules) and RFC 3161 timestamp
 * tokens. Seeds are made in-test: certificates by vouch's test-certificate generator, a token by a
 * real openssl TSA (test/helpers/tsa.ts) countersigning a notation signature made by vouch's signer.
 * Properties: the readers throw only CertificateParseError (TimestampError for tokens); chain
 * validation returns a sentence, never throws; a token with any changed byte never verifies.
 */
import assert from 'node:assert/strict';
import { X509Certificate as NodeX509 } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { createNotationEnvelope } from '../../src/sign/notation/index.js';
import {
  isSelfSigned,
  isSignedBy,
  type ParsedCertificate,
  parseCertificate,
  readCertificates,
} from '../../src/trust/notation/certificate.js';
import { checkStoreCertificate } from '../../src/trust/notation/store.js';
import { parseCertificates } from '../../src/verifiers/cosign/certificate.js';
import { validateCertificateChain } from '../../src/verifiers/notation/chain.js';
import { parseJwsEnvelope } from '../../src/verifiers/notation/jws.js';
import { verifyTimestampToken } from '../../src/verifiers/notation/timestamp.js';
import { startTsa, type TestTsa } from '../helpers/tsa.js';
import { cert, SUBJECT } from '../verifiers/notation/fixtures.js';
import { arbitraryBytes, check, flippedByte, mutatedBytes, outcome, recordFixed } from './harness.js';

let root: { der: Uint8Array; certPem: string };
let leaf: { der: Uint8Array; certPem: string; keyPem: string };
let rootParsed: ParsedCertificate;

before(async () => {
  root = await cert('fuzz-x509-root', { ca: true, keyAlgorithm: 'ec-p256' });
  leaf = await cert('fuzz-x509-leaf', { issuer: root as never, keyAlgorithm: 'ec-p256' });
  rootParsed = parseCertificate(root.der);
});

/** Parses `der` when it parses; undefined otherwise (only CertificateParseError allowed). */
function tryParse(der: Uint8Array): ParsedCertificate | undefined {
  return outcome(() => parseCertificate(der), ['CertificateParseError']) === 'ok'
    ? parseCertificate(der)
    : undefined;
}

describe('when certificates are fuzzed', () => {
  it('arbitrary bytes: DER and PEM readers throw only CertificateParseError', () => {
    check('x509: arbitrary bytes', [arbitraryBytes()], (bytes) => {
      tryParse(bytes);
      outcome(() => readCertificates(bytes), ['CertificateParseError']);
      outcome(
        () => parseCertificates(Buffer.from(bytes).toString('latin1'), 'fuzz'),
        ['CosignCheckFailure:malformed'],
      );
    });
  });

  it('byte-edited DER certificates: parse errors are classified, and what parses is judged without throwing', () => {
    check(
      'x509: mutated DER',
      [fc.constantFrom('leaf', 'root').chain((w) => mutatedBytes(w === 'leaf' ? leaf.der : root.der))],
      (der) => {
        const parsed = tryParse(der);
        if (!parsed) return;
        const leafParsed = parseCertificate(leaf.der);
        for (const chain of [[parsed], [parsed, rootParsed], [leafParsed, parsed]]) {
          const problem = validateCertificateChain(chain, 'codeSigning');
          assert.ok(problem === undefined || typeof problem === 'string');
        }
        assert.equal(typeof isSignedBy(parsed, rootParsed), 'boolean');
        assert.equal(typeof isSelfSigned(parsed), 'boolean');
        for (const type of ['ca', 'signingAuthority', 'tsa'] as const) {
          const why = checkStoreCertificate(parsed, type);
          assert.ok(why === undefined || typeof why === 'string');
        }
      },
      3,
    );
  });

  // Regression (found by 'x509: mutated PEM', seed 20261207): a certificate whose public key does
  // not decode parsed, and the raw OpenSSL "decode error" came out of the lazy key accessor later.
  it('a certificate whose public key does not decode throws CertificateParseError', () => {
    const spki = new NodeX509(leaf.der).publicKey.export({ format: 'der', type: 'spki' });
    const at = Buffer.from(leaf.der).indexOf(spki);
    assert.ok(at > 0);
    const broken = new Uint8Array(leaf.der);
    broken[at + spki.length - 1] = (broken[at + spki.length - 1] as number) ^ 0x01; // the point leaves the curve
    assert.throws(() => new NodeX509(broken).publicKey);
    assert.equal(
      outcome(() => parseCertificate(broken), ['CertificateParseError']),
      'CertificateParseError',
    );
    recordFixed('x509: broken public key regression', 1);
  });

  it('a leaf with any changed byte is not signed by its issuer', () => {
    check('x509: flipped byte breaks the issuer signature', [flippedByte(leaf.der)], (der) => {
      const parsed = tryParse(der);
      if (parsed) assert.equal(isSignedBy(parsed, rootParsed), false);
    });
  });

  it('edited PEM text: both PEM readers throw only their classified errors', () => {
    const pem = Buffer.from(`${leaf.certPem}${root.certPem}`);
    check('x509: mutated PEM', [mutatedBytes(pem)], (bytes) => {
      outcome(() => readCertificates(bytes), ['CertificateParseError']);
      for (const der of outcome(() => readCertificates(bytes), ['CertificateParseError']) === 'ok'
        ? readCertificates(bytes)
        : [])
        tryParse(der);
      outcome(
        () => parseCertificates(Buffer.from(bytes).toString('utf8'), 'fuzz'),
        ['CosignCheckFailure:malformed'],
      );
    });
  });
});

describe('when RFC 3161 timestamp tokens are fuzzed', () => {
  let tsa: TestTsa | undefined;
  let token: Uint8Array;
  let signature: Uint8Array;
  let tsaRoots: ParsedCertificate[];
  before(async () => {
    tsa = await startTsa();
    const { bytes } = await createNotationEnvelope({
      subject: SUBJECT,
      keyPem: leaf.keyPem,
      certChainPem: `${leaf.certPem}${root.certPem}`,
      envelope: 'jws',
      timestampUrl: tsa.url,
    });
    const parsed = parseJwsEnvelope(bytes);
    assert.ok(parsed.timestampToken);
    token = parsed.timestampToken;
    signature = parsed.signature;
    tsaRoots = readCertificates(Buffer.from(tsa.rootPem)).map(parseCertificate);
  });
  after(async () => {
    await tsa?.stop();
  });

  it('the seed token verifies', () => {
    assert.ok(verifyTimestampToken(token, signature, tsaRoots).genTime instanceof Date);
  });

  it('arbitrary bytes throw only TimestampError or CertificateParseError', () => {
    check('timestamp: arbitrary bytes', [arbitraryBytes()], (bytes) => {
      outcome(
        () => verifyTimestampToken(bytes, signature, tsaRoots),
        ['TimestampError', 'CertificateParseError'],
      );
    });
  });

  it('a token with a changed byte fails, or asserts exactly what the original asserts', () => {
    // The token is BER read leniently (asn1js): an edit of a length octet, of the unsigned
    // SignedData.certificates (the TSA's copy of its root) or of a tag the re-encoding restores can
    // still verify. What must not change is what it proves: the time, its accuracy, the TSA.
    const facts = (t: Uint8Array) => {
      const r = verifyTimestampToken(t, signature, tsaRoots);
      return JSON.stringify([r.genTime, r.lower, r.upper, r.tsaChain.map((c) => c.sha256)]);
    };
    const original = facts(token);
    check(
      'timestamp: flipped byte never changes what verifies',
      [fc.constant(null).chain(() => flippedByte(token))],
      (bytes) => {
        const result = outcome(
          () => verifyTimestampToken(bytes, signature, tsaRoots),
          ['TimestampError', 'CertificateParseError'],
        );
        if (result === 'ok')
          assert.equal(facts(bytes), original, 'a changed token verified with other facts');
      },
      0.5,
    );
  });

  // Regression (found by 'timestamp: flipped byte…', seed 20261207 with 1000 runs): an eContent
  // that is not an OCTET STRING threw a raw TypeError (eContent.getValue is not a function).
  it('a token whose TSTInfo is not an OCTET STRING throws TimestampError', () => {
    const oid = Buffer.from('060b2a864886f70d0109100104', 'hex'); // id-ct-TSTInfo
    const afterOid = Buffer.from(token).indexOf(oid) + oid.length;
    const lengthOctets =
      (token[afterOid + 1] as number) & 0x80 ? ((token[afterOid + 1] as number) & 0x7f) + 1 : 1;
    const tagAt = afterOid + 1 + lengthOctets;
    assert.equal(token[tagAt], 0x04);
    const bad = new Uint8Array(token);
    bad[tagAt] = 0x05;
    assert.equal(
      outcome(() => verifyTimestampToken(bad, signature, tsaRoots), ['TimestampError']),
      'TimestampError',
    );
    recordFixed('timestamp: eContent not an OCTET STRING regression', 1);
  });

  it('edited tokens (inserts, deletes, truncation) throw only classified errors', () => {
    check('timestamp: mutated bytes', [fc.constant(null).chain(() => mutatedBytes(token))], (bytes) => {
      outcome(
        () => verifyTimestampToken(bytes, signature, tsaRoots),
        ['TimestampError', 'CertificateParseError'],
      );
    });
  });

  it('a token over another signature never verifies', () => {
    check('timestamp: other signature', [fc.constant(null).chain(() => flippedByte(signature))], (other) => {
      assert.notEqual(
        outcome(() => verifyTimestampToken(token, other, tsaRoots), ['TimestampError']),
        'ok',
      );
    });
  });
});
