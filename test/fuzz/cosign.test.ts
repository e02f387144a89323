/**
 * Fuzzing cosign and sigstore inputs: simple-signing payloads and their signatures, DSSE
 * attestation layers, in-toto statements, sigstore bundles (a key-signed v0.3 message-signature
 * bundle built in-test), public keys, and trusted_root.json. Seeds are signed here with node crypto
 * and vouch's own payload builder. Properties: only CosignCheckFailure (or TRUST_MATERIAL_INVALID)
 * escapes; verifyBundle never throws; a changed byte of a signed payload or of a signature never
 * verifies, and neither does any other text of the signature.
 */
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { dsse } from '@sigstore/core';
import fc from 'fast-check';
import { simpleSigningPayload } from '../../src/sign/cosign/index.js';
import { parseTrustedRoot } from '../../src/trust/cosign/trusted-root.js';
import type { CosignPolicy, CosignTrustMaterial } from '../../src/trust/cosign/types.js';
import { verifyDsseLayer } from '../../src/verifiers/cosign/attestation.js';
import { verifyBundle } from '../../src/verifiers/cosign/bundle.js';
import { describeKey, parsePublicKey } from '../../src/verifiers/cosign/public-key.js';
import { parsePayloadDigest, verifySimpleSigning } from '../../src/verifiers/cosign/simplesigning.js';
import { parseStatement } from '../../src/verifiers/cosign/statement.js';
import { cert } from '../verifiers/notation/fixtures.js';
import {
  arbitraryBytes,
  check,
  flippedByte,
  mutatedBytes,
  mutatedJson,
  mutatedJsonBytes,
  outcome,
  recordFixed,
} from './harness.js';

const COSIGN = ['CosignCheckFailure'];
const HEX = 'a'.repeat(64);
const DIGEST = `sha256:${HEX}`;
const SIMPLE = 'application/vnd.dev.cosign.simplesigning.v1+json';
const DSSE = 'application/vnd.dsse.envelope.v1+json';
const SIG = 'dev.cosignproject.cosign/signature';
const TRUST: CosignTrustMaterial = {
  certificateAuthorities: [],
  intermediates: [],
  rekorKeys: [],
  ctLogs: [],
};

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const publicPem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
const POLICY: CosignPolicy = {
  keys: [describeKey(publicKey, 'fuzz.pub')],
  identities: [],
  threshold: 1,
  requireTlog: false,
  requireSct: false,
  attestations: [],
};

const payload = simpleSigningPayload('registry.test/app', DIGEST);
const signature = sign('sha256', payload, privateKey);
const layer = (p: Uint8Array, sigText: string) => ({
  mediaType: SIMPLE,
  payload: p,
  annotations: { [SIG]: sigText },
});
const verifies = (fn: () => unknown) => outcome(fn, COSIGN) === 'ok';

const statement = {
  _type: 'https://in-toto.io/Statement/v1',
  subject: [{ name: 'registry.test/app', digest: { sha256: HEX } }],
  predicateType: 'https://slsa.dev/provenance/v1',
  predicate: { buildDefinition: { buildType: 'https://example/build' } },
};
const statementBytes = Buffer.from(JSON.stringify(statement));
const INTOTO = 'application/vnd.in-toto+json';
function dsseEnvelope(
  body: Uint8Array,
  sig: Buffer = sign('sha256', dsse.preAuthEncoding(INTOTO, Buffer.from(body)), privateKey),
) {
  return {
    payloadType: INTOTO,
    payload: Buffer.from(body).toString('base64'),
    signatures: [{ keyid: '', sig: sig.toString('base64') }],
  };
}
const envelope = dsseEnvelope(statementBytes);
const dsseLayer = (bytes: Uint8Array) => ({ mediaType: DSSE, envelope: bytes, annotations: {} });

/** A key-signed sigstore bundle v0.3 over `artifact` (message signature, no log entry). */
const artifact = Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}');
const artifactDigest = `sha256:${createHash('sha256').update(artifact).digest('hex')}`;
const bundle = {
  mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
  verificationMaterial: {
    publicKey: { hint: 'fuzz' },
    tlogEntries: [],
    timestampVerificationData: { rfc3161Timestamps: [] },
  },
  messageSignature: {
    messageDigest: { algorithm: 'SHA2_256', digest: createHash('sha256').update(artifact).digest('base64') },
    signature: sign('sha256', artifact, privateKey).toString('base64'),
  },
};
const bundleBytes = Buffer.from(JSON.stringify(bundle));
const checkBundle = (bytes: Uint8Array) =>
  verifyBundle(bytes, { artifact, artifactDigest, policy: POLICY, trust: TRUST });

describe('when simple-signing payloads are fuzzed', () => {
  it('the seed verifies', () => {
    assert.ok(
      verifies(() =>
        verifySimpleSigning(layer(payload, signature.toString('base64')), DIGEST, POLICY, TRUST),
      ),
    );
  });

  it('arbitrary and edited payloads: parsePayloadDigest throws only CosignCheckFailure', () => {
    const doc = JSON.parse(payload.toString('utf8'));
    check(
      'cosign: payload arbitrary and mutated',
      [fc.oneof(arbitraryBytes(), mutatedJsonBytes(doc), mutatedBytes(payload))],
      (bytes) => {
        outcome(() => parsePayloadDigest(bytes), COSIGN);
        outcome(() => parsePayloadDigest(bytes, 'registry.test/app'), COSIGN);
      },
    );
  });

  // Regression (found by 'cosign: payload arbitrary and mutated', seed 7 with 2000 runs): a
  // docker-reference given as {"toString": 1} made String() throw a raw TypeError.
  it('a payload whose docker-reference is a map is digest-mismatch, not a TypeError', () => {
    const doc = JSON.parse(payload.toString('utf8'));
    doc.critical.identity['docker-reference'] = { toString: 1 };
    const bytes = Buffer.from(JSON.stringify(doc));
    assert.equal(
      outcome(() => parsePayloadDigest(bytes, 'registry.test/app'), COSIGN),
      'CosignCheckFailure:digest-mismatch',
    );
    recordFixed('cosign: toString docker-reference regression', 1);
  });

  it('a payload with a changed byte never verifies', () => {
    check('cosign: payload byte flipped', [flippedByte(payload)], (p) => {
      assert.equal(
        verifies(() => verifySimpleSigning(layer(p, signature.toString('base64')), DIGEST, POLICY, TRUST)),
        false,
      );
    });
  });

  it('a signature with a changed byte never verifies', () => {
    check('cosign: signature byte flipped', [flippedByte(signature)], (s) => {
      assert.equal(
        verifies(() =>
          verifySimpleSigning(layer(payload, Buffer.from(s).toString('base64')), DIGEST, POLICY, TRUST),
        ),
        false,
      );
    });
  });

  it('another text of the signature annotation verifies only when it decodes to the same signature', () => {
    // decodeBase64Strict drops whitespace and, like Go's decoder cosign uses, ignores the unused
    // bits of the last character: such a text is the same signature, not a changed one.
    const text = signature.toString('base64');
    check(
      'cosign: signature text changed',
      [fc.oneof(flippedByte(Buffer.from(text)), mutatedBytes(Buffer.from(text)))],
      (chars) => {
        const edited = Buffer.from(chars).toString('latin1');
        if (!verifies(() => verifySimpleSigning(layer(payload, edited), DIGEST, POLICY, TRUST))) return;
        assert.ok(
          Buffer.from(edited.replace(/\s+/g, ''), 'base64').equals(signature),
          `signature text ${edited} verified`,
        );
      },
      3,
    );
  });
});

describe('when DSSE attestation layers are fuzzed', () => {
  it('the seed verifies', () => {
    assert.ok(
      verifies(() =>
        verifyDsseLayer(dsseLayer(Buffer.from(JSON.stringify(envelope))), DIGEST, POLICY, TRUST),
      ),
    );
  });

  it('arbitrary and edited envelopes throw only CosignCheckFailure', () => {
    check(
      'dsse: arbitrary and mutated',
      [
        fc.oneof(
          arbitraryBytes(),
          mutatedJsonBytes(envelope),
          mutatedBytes(Buffer.from(JSON.stringify(envelope))),
        ),
      ],
      (bytes) => {
        outcome(() => verifyDsseLayer(dsseLayer(bytes), DIGEST, POLICY, TRUST), COSIGN);
      },
      2,
    );
  });

  it('an envelope whose payload or signature has a changed byte never verifies', () => {
    const sig = Buffer.from(envelope.signatures[0]!.sig, 'base64');
    check(
      'dsse: payload or signature byte flipped',
      [
        fc.oneof(
          flippedByte(statementBytes).map((p) => dsseEnvelope(p, sig)),
          flippedByte(sig).map((s) => dsseEnvelope(statementBytes, Buffer.from(s))),
        ),
      ],
      (env) => {
        assert.equal(
          verifies(() => verifyDsseLayer(dsseLayer(Buffer.from(JSON.stringify(env))), DIGEST, POLICY, TRUST)),
          false,
        );
      },
    );
  });

  it('in-toto statements: arbitrary and edited ones throw only CosignCheckFailure', () => {
    check(
      'statement: arbitrary and mutated',
      [fc.oneof(arbitraryBytes(), mutatedJsonBytes(statement))],
      (bytes) => {
        outcome(() => parseStatement(bytes), COSIGN);
      },
    );
  });
});

describe('when sigstore bundles are fuzzed', () => {
  it('the seed verifies', () => {
    const result = checkBundle(bundleBytes);
    assert.equal(result.ok, true, result.ok ? '' : result.message);
  });

  it('arbitrary and edited bundles: verifyBundle never throws, and verifies only the signed content', () => {
    // The key hint and other unsigned members may change (the key comes from the policy); the
    // signature and the digest it signs may not.
    const signedOf = (doc: {
      messageSignature?: { signature?: unknown; messageDigest?: { digest?: unknown } };
    }) =>
      [doc.messageSignature?.signature, doc.messageSignature?.messageDigest?.digest].map((v) =>
        Buffer.from(String(v), 'base64').toString('hex'),
      );
    check(
      'bundle: arbitrary and mutated',
      [fc.oneof(arbitraryBytes(), mutatedJsonBytes(bundle), mutatedBytes(bundleBytes))],
      (bytes) => {
        const result = checkBundle(bytes);
        if (result.ok)
          assert.deepEqual(
            signedOf(JSON.parse(Buffer.from(bytes).toString())),
            signedOf(bundle),
            'an edited bundle verified',
          );
      },
      3,
    );
  });

  // Regression (found by 'bundle: arbitrary and mutated', seed 20261207 with 2000 runs): an empty
  // (or truncated) RFC 3161 timestamp made toSignedEntity throw a plain Error out of verifyBundle.
  it('a bundle with an unparsable RFC 3161 timestamp is malformed', () => {
    for (const ts of ['', 'MA==', 'MIIBAA==']) {
      const edited = {
        ...bundle,
        verificationMaterial: {
          ...bundle.verificationMaterial,
          timestampVerificationData: { rfc3161Timestamps: [{ signedTimestamp: ts }] },
        },
      };
      const result = checkBundle(Buffer.from(JSON.stringify(edited)));
      assert.equal(result.ok ? 'ok' : result.reason, 'malformed');
    }
    recordFixed('bundle: unparsable timestamp regression', 3);
  });

  it('a bundle whose signature or artifact digest has a changed byte never verifies', () => {
    const sig = Buffer.from(bundle.messageSignature.signature, 'base64');
    check('bundle: signature byte flipped', [flippedByte(sig)], (s) => {
      const edited = {
        ...bundle,
        messageSignature: { ...bundle.messageSignature, signature: Buffer.from(s).toString('base64') },
      };
      assert.equal(checkBundle(Buffer.from(JSON.stringify(edited))).ok, false);
    });
  });
});

describe('when keys and trusted roots are fuzzed', () => {
  let rootDoc: Record<string, unknown>;
  before(async () => {
    const ca = await cert('fuzz-cosign-ca', { ca: true, keyAlgorithm: 'ec-p256' });
    const spki = publicKey.export({ format: 'der', type: 'spki' });
    rootDoc = {
      mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
      tlogs: [
        {
          baseUrl: 'https://rekor.example',
          hashAlgorithm: 'SHA2_256',
          publicKey: {
            rawBytes: spki.toString('base64'),
            keyDetails: 'PKIX_ECDSA_P256_SHA_256',
            validFor: { start: '2021-01-01T00:00:00Z' },
          },
          logId: { keyId: createHash('sha256').update(spki).digest('base64') },
        },
      ],
      certificateAuthorities: [
        {
          subject: { organization: 'fuzz', commonName: 'fuzz' },
          uri: 'https://fulcio.example',
          certChain: { certificates: [{ rawBytes: Buffer.from(ca.der).toString('base64') }] },
          validFor: { start: '2021-01-01T00:00:00Z' },
        },
      ],
      ctlogs: [],
      timestampAuthorities: [],
    };
  });

  it('public keys: arbitrary and edited PEM throw only classified errors', () => {
    check(
      'public key: arbitrary and mutated',
      [fc.oneof(arbitraryBytes(), mutatedBytes(Buffer.from(publicPem)))],
      (bytes) => {
        outcome(() => parsePublicKey(Buffer.from(bytes), 'fuzz'), ['VouchError', 'CosignCheckFailure']);
        outcome(
          () => parsePublicKey(Buffer.from(bytes).toString('latin1'), 'fuzz'),
          ['VouchError', 'CosignCheckFailure'],
        );
      },
    );
  });

  it('trusted_root.json: the seed loads, and edited ones throw only TRUST_MATERIAL_INVALID', () => {
    assert.equal(parseTrustedRoot(JSON.stringify(rootDoc), 'root.json').rekorKeys.length, 1);
    check(
      'trusted root: mutated',
      [fc.constant(null).chain(() => fc.oneof(mutatedJson(rootDoc), fc.jsonValue()))],
      (doc) => {
        outcome(
          () => parseTrustedRoot(JSON.stringify(doc) ?? '', 'root.json'),
          ['VouchError:TRUST_MATERIAL_INVALID'],
        );
      },
      2,
    );
  });
});
