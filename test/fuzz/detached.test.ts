/**
 * Fuzzing detached signature files (`vouch verify --signature-path`): a notation envelope with its
 * PATH.json descriptor, a legacy cosign signature with its PATH.payload, a sigstore bundle. Seeds
 * are written by vouch's own encoder. Properties: decoding throws only VouchError USAGE; what the
 * encoder wrote decodes to the same layer bytes.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  type DetachedFile,
  decodeDetachedSignature,
  encodeDetachedSignature,
} from '../../src/detached/format.js';
import { simpleSigningPayload } from '../../src/sign/cosign/index.js';
import type { SignatureArtifact } from '../../src/sign/signature-artifact.js';
import { arbitraryBytes, check, mutatedBytes, mutatedJsonBytes, outcome } from './harness.js';

const DIGEST = `sha256:${createHash('sha256').update('subject').digest('hex')}`;
const SUBJECT = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: DIGEST, size: 1234 };
const USAGE = ['VouchError:USAGE'];

const artifacts: Record<string, SignatureArtifact> = {
  notation: {
    format: 'notation',
    artifactType: 'application/vnd.cncf.notary.signature',
    layers: [
      {
        bytes: Buffer.from('{"payload":"e30","protected":"e30","signature":"AA"}'),
        mediaType: 'application/jose+json',
      },
    ],
    annotations: { 'io.cncf.notary.x509chain.thumbprint#S256': '["ab"]' },
  },
  legacy: {
    format: 'cosign',
    artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json',
    layers: [
      {
        bytes: simpleSigningPayload('registry.test/app', DIGEST),
        mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json',
        annotations: { 'dev.cosignproject.cosign/signature': Buffer.alloc(70, 1).toString('base64') },
      },
    ],
  },
  bundle: {
    format: 'cosign',
    artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    layers: [
      {
        bytes: Buffer.from(
          JSON.stringify({
            mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
            verificationMaterial: { publicKey: { hint: 'x' } },
            messageSignature: {
              messageDigest: {
                algorithm: 'SHA2_256',
                digest: Buffer.from(DIGEST.slice(7), 'hex').toString('base64'),
              },
              signature: 'AA==',
            },
          }),
        ),
        mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      },
    ],
  },
};

const decode = (files: readonly DetachedFile[]) => {
  const [main, companion] = files as [DetachedFile, DetachedFile | undefined];
  const companions = !companion
    ? {}
    : companion.path.endsWith('.json')
      ? { descriptor: companion.bytes }
      : { payload: companion.bytes };
  return decodeDetachedSignature(main.path, main.bytes, companions);
};

describe('when detached signature files are fuzzed', () => {
  for (const [name, artifact] of Object.entries(artifacts)) {
    const files = encodeDetachedSignature(`/tmp/sig-${name}`, artifact, SUBJECT);

    it(`${name}: what the encoder wrote decodes to the same layer`, () => {
      const decoded = decode(files);
      assert.equal(decoded.signature.format, artifact.format);
      assert.deepEqual(
        Buffer.from(decoded.signature.layers[0]!.bytes),
        Buffer.from(artifact.layers[0]!.bytes),
      );
    });

    it(`${name}: edited files throw only USAGE`, () => {
      const companionEdits = (f: DetachedFile | undefined) =>
        f === undefined
          ? fc.constant(undefined)
          : fc.oneof(
              fc.constant(f.bytes),
              mutatedBytes(f.bytes),
              f.path.endsWith('.json')
                ? mutatedJsonBytes(JSON.parse(Buffer.from(f.bytes).toString()))
                : arbitraryBytes(64),
            );
      check(
        `detached ${name}: mutated`,
        [fc.oneof(mutatedBytes(files[0]!.bytes), arbitraryBytes()), companionEdits(files[1])],
        (main, companion) => {
          const edited = [
            { ...files[0]!, bytes: main },
            ...(files[1] && companion ? [{ ...files[1], bytes: companion }] : []),
          ];
          outcome(() => decode(edited), USAGE);
        },
      );
    });
  }
});
