/**
 * Fuzzing Notary Project signature envelopes (JWS JSON and COSE_Sign1), made in-test with vouch's
 * own signer. Properties: the envelope parsers throw only EnvelopeError; verification never
 * throws, whatever the bytes; an envelope whose signed payload or signature has a changed byte
 * never verifies; and any other edit that still verifies left the signed content (signing input,
 * signature, certificate chain) as it was: only unsigned members such as the signing agent moved.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { TrustPolicyStatement } from '../../src/trust/notation/policy.js';
import type { NotationTrust } from '../../src/trust/notation/types.js';
import { verifyNotationEnvelope } from '../../src/verifiers/notation/core.js';
import { parseCoseEnvelope } from '../../src/verifiers/notation/cose.js';
import {
  COSE_MEDIA_TYPE,
  JWS_MEDIA_TYPE,
  type ParsedEnvelope,
} from '../../src/verifiers/notation/envelope.js';
import { parseJwsEnvelope } from '../../src/verifiers/notation/jws.js';
import { cert, envelope, SUBJECT, trustFor } from '../verifiers/notation/fixtures.js';
import {
  arbitraryBytes,
  check,
  flippedByte,
  mutatedBytes,
  mutatedJsonBytes,
  outcome,
  recordFixed,
} from './harness.js';

const NOW = { now: new Date() };
const MEDIA = { jws: JWS_MEDIA_TYPE, cose: COSE_MEDIA_TYPE } as const;
const parse = (format: 'jws' | 'cose', bytes: Uint8Array): ParsedEnvelope =>
  format === 'jws' ? parseJwsEnvelope(bytes) : parseCoseEnvelope(bytes);

let trust: NotationTrust;
let statement: TrustPolicyStatement;
const valid: Record<'jws' | 'cose', Uint8Array> = { jws: new Uint8Array(), cose: new Uint8Array() };

before(async () => {
  const root = await cert('fuzz-root', { ca: true, keyAlgorithm: 'ec-p256' });
  const leaf = await cert('fuzz-leaf', { issuer: root, keyAlgorithm: 'ec-p256' });
  ({ trust, statement } = trustFor({ ca: [root.der] }));
  valid.jws = await envelope('jws', leaf, { chain: [leaf, root] });
  valid.cose = await envelope('cose', leaf, { chain: [leaf, root] });
});

function verify(format: 'jws' | 'cose', bytes: Uint8Array, mediaType: string = MEDIA[format]) {
  return verifyNotationEnvelope(bytes, mediaType, SUBJECT, trust, statement, NOW);
}

/** The signed content of a parsed envelope, for comparison. */
function signedContent(e: ParsedEnvelope): string {
  const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
  return JSON.stringify([hex(e.signingInput), hex(e.signature), e.certificateChain.map(hex)]);
}

/** A mutated envelope either fails to verify, or its signed content is the original's. */
function neverVerifiesChanged(format: 'jws' | 'cose', bytes: Uint8Array): void {
  const result = verify(format, bytes);
  if (!result.verified) return;
  assert.equal(
    signedContent(parse(format, bytes)),
    signedContent(parse(format, valid[format])),
    'a changed envelope verified',
  );
}

describe('when notation envelopes are fuzzed', () => {
  it('the seeds verify', () => {
    assert.equal(verify('jws', valid.jws).verified, true);
    assert.equal(verify('cose', valid.cose).verified, true);
  });

  for (const format of ['jws', 'cose'] as const) {
    describe(`as ${format}`, () => {
      it('arbitrary bytes: the parser throws only EnvelopeError, verification never throws', () => {
        check(
          `${format}: arbitrary bytes`,
          [arbitraryBytes(), fc.constantFrom(MEDIA[format], 'application/x')],
          (bytes, mt) => {
            outcome(() => parse(format, bytes), ['EnvelopeError']);
            assert.equal(verify(format, bytes, mt).verified, false);
          },
        );
      });

      it('byte-edited valid envelopes: only EnvelopeError, and no changed envelope verifies', () => {
        check(
          `${format}: mutated valid bytes`,
          [fc.constant(format).chain((f) => mutatedBytes(valid[f]))],
          (bytes) => {
            outcome(() => parse(format, bytes), ['EnvelopeError', 'CertificateParseError']);
            neverVerifiesChanged(format, bytes);
          },
          3,
        );
      });

      it('a changed byte of the signature never verifies', () => {
        const e = () => parse(format, valid[format]);
        check(
          `${format}: signature byte flipped`,
          [fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 1, max: 255 })],
          (pick, x) => {
            const bytes =
              format === 'jws'
                ? editJwsPart(valid.jws, 'signature', pick, x)
                : flipCoseBytes(valid.cose, e().signature, pick, x);
            assert.equal(verify(format, bytes).verified, false);
          },
        );
      });

      it('a changed byte of the signed payload never verifies', () => {
        const e = () => parse(format, valid[format]);
        check(
          `${format}: payload byte flipped`,
          [fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 1, max: 255 })],
          (pick, x) => {
            const bytes =
              format === 'jws'
                ? editJwsPart(valid.jws, 'payload', pick, x)
                : flipCoseBytes(valid.cose, e().payload, pick, x);
            assert.equal(verify(format, bytes).verified, false);
          },
        );
      });
    });
  }

  it('JSON-edited JWS envelopes: only EnvelopeError, and no changed envelope verifies', () => {
    const doc = JSON.parse(Buffer.from(valid.jws).toString('utf8')) as Record<string, unknown>;
    check(
      'jws: mutated valid JSON',
      [mutatedJsonBytes(doc)],
      (bytes) => {
        outcome(() => parseJwsEnvelope(bytes), ['EnvelopeError']);
        neverVerifiesChanged('jws', bytes);
      },
      2,
    );
  });

  it('JWS envelopes with an edited protected header or payload (re-encoded) never verify', () => {
    const doc = JSON.parse(Buffer.from(valid.jws).toString('utf8')) as Record<string, string>;
    const header = JSON.parse(Buffer.from(doc.protected as string, 'base64url').toString('utf8'));
    const payload = JSON.parse(Buffer.from(doc.payload as string, 'base64url').toString('utf8'));
    check(
      'jws: mutated signed JSON',
      [
        fc.constantFrom('protected', 'payload'),
        fc.constant(null).chain(() => fc.oneof(mutatedJsonBytes(header), mutatedJsonBytes(payload))),
      ],
      (part, edited) => {
        const bytes = Buffer.from(
          JSON.stringify({ ...doc, [part]: Buffer.from(edited).toString('base64url') }),
        );
        if (Buffer.from(edited).equals(Buffer.from(doc[part] as string, 'base64url'))) return;
        assert.equal(verify('jws', bytes).verified, false);
      },
    );
  });
});

/** The JWS with one byte of a decoded part changed and the part re-encoded (canonically). */
function editJwsPart(bytes: Uint8Array, part: 'signature' | 'payload', pick: number, x: number): Uint8Array {
  const doc = JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, string>;
  const raw = Buffer.from(doc[part] as string, 'base64url');
  const at = pick % raw.length;
  raw[at] = (raw[at] as number) ^ x;
  return Buffer.from(JSON.stringify({ ...doc, [part]: raw.toString('base64url') }));
}

/** The COSE envelope with one byte of `part` (found in the encoding) changed in place. */
function flipCoseBytes(bytes: Uint8Array, part: Uint8Array, pick: number, x: number): Uint8Array {
  const start = Buffer.from(bytes).lastIndexOf(Buffer.from(part));
  assert.ok(start >= 0);
  const out = new Uint8Array(bytes);
  const at = start + (pick % part.length);
  out[at] = (out[at] as number) ^ x;
  return out;
}

describe('when the text encoding of a JWS signature is varied', () => {
  // Regression (found by the property below, seed 20261207 with 3000 runs): a signature whose last
  // base64url character differed only in its unused bits decoded to the same signature and verified.
  it('a non-canonical base64url signature (same bytes, other text) does not verify', () => {
    const doc = JSON.parse(Buffer.from(valid.jws).toString('utf8')) as Record<string, string>;
    const sig = doc.signature as string;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const twins = [...alphabet]
      .map((c) => sig.slice(0, -1) + c)
      .filter((t) => t !== sig && Buffer.from(t, 'base64url').equals(Buffer.from(sig, 'base64url')));
    assert.ok(twins.length > 0);
    for (const twin of twins) {
      const result = verify('jws', Buffer.from(JSON.stringify({ ...doc, signature: twin })));
      assert.equal(result.verified, false);
      assert.equal(result.failure?.check, 'integrity');
    }
    recordFixed('jws: non-canonical signature regression', twins.length);
  });

  it('a signature whose base64url was changed never verifies', () => {
    const doc = JSON.parse(Buffer.from(valid.jws).toString('utf8')) as Record<string, string>;
    const sig = doc.signature as string;
    check('jws: signature text char changed', [flippedByte(Buffer.from(sig, 'latin1'))], (chars) => {
      const text = Buffer.from(chars).toString('latin1');
      const bytes = Buffer.from(JSON.stringify({ ...doc, signature: text }));
      assert.equal(verify('jws', bytes).verified, false, `signature text ${text} verified`);
    });
  });
});
