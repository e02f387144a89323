/**
 * The cosign signer: produces artifacts `cosign verify` (and vouch's cosign verifier) accept.
 *  - `tag`: cosign's tag schema, `sha256-<hex>.sig` manifest with one simple-signing layer per
 *    signature (appended to an existing `.sig` manifest, as cosign does);
 *  - `referrer`: the same layer in an OCI 1.1 referrer (`--registry-referrers-mode=oci-1-1`);
 *  - `bundle`: a sigstore bundle v0.3 referrer holding a DSSE in-toto statement with predicate
 *    `https://sigstore.dev/cosign/sign/v1` (cosign v3's new bundle format, key-signed, no Rekor).
 * Payload format: cosign `specs/SIGNATURE_SPEC.md`, serialised exactly like Go `json.Marshal`.
 */
import { createHash, createPrivateKey, createPublicKey, type KeyObject, sign } from 'node:crypto';
import { dsse } from '@sigstore/core';
import { VouchError } from '../../errors.js';
import { attachArtifact } from '../../referrers/attach.js';
import type { Descriptor, Repository } from '../../registry/types.js';
import { Annotation, MediaTypes } from '../../verifiers/cosign/constants.js';
import { appendToCosignTag } from './tag-manifest.js';

export { decryptCosignKey, encryptCosignKey, generateCosignKeyPair } from './key-file.js';

export interface SignCosignOptions {
  readonly repository: Repository;
  readonly subject: Descriptor;
  /** `registry/repository` recorded as `critical.identity.docker-reference`. */
  readonly subjectReference: string;
  /** Decrypted PKCS#8 PEM private key. */
  readonly privateKeyPem: string;
  readonly mode: 'tag' | 'referrer' | 'bundle';
  readonly signal?: AbortSignal;
}

/** Go `json.Marshal` of cosign's simple-signing payload (struct field order, `optional: null`). */
export function simpleSigningPayload(dockerReference: string, digest: string): Buffer {
  const doc = {
    critical: {
      identity: { 'docker-reference': dockerReference },
      image: { 'docker-manifest-digest': digest },
      type: 'cosign container image signature',
    },
    optional: null,
  };
  // Go escapes <, > and & in strings; JSON.stringify does not.
  return Buffer.from(
    JSON.stringify(doc).replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`),
    'utf8',
  );
}

/** Signs `data` as cosign does for the key type (ECDSA/RSA over SHA-256, Ed25519 pure). */
export function signBytes(key: KeyObject, data: Uint8Array): Buffer {
  return key.asymmetricKeyType === 'ed25519' ? sign(null, data, key) : sign('sha256', data, key);
}

/** Signs the subject and pushes the signature; returns the descriptor of the pushed manifest. */
export async function signCosign(options: SignCosignOptions): Promise<Descriptor> {
  let key: KeyObject;
  try {
    key = createPrivateKey(options.privateKeyPem);
  } catch (err) {
    throw new VouchError('SIGNING_FAILED', 'the cosign private key does not parse', { cause: err });
  }
  const { repository, subject, signal } = options;
  if (options.mode === 'bundle') return pushBundle(options, key);
  const payload = simpleSigningPayload(options.subjectReference, subject.digest);
  const signature = signBytes(key, payload).toString('base64');
  const layerAnnotations = { [Annotation.signature]: signature };
  if (options.mode === 'referrer') {
    return attachArtifact(repository, {
      subject,
      artifactType: MediaTypes.cosignArtifactSignature,
      layers: [{ bytes: payload, mediaType: MediaTypes.simpleSigning, annotations: layerAnnotations }],
      ...(signal ? { signal } : {}),
    });
  }
  return appendToCosignTag(
    repository,
    subject,
    'sig',
    { bytes: payload, mediaType: MediaTypes.simpleSigning, annotations: layerAnnotations },
    signal,
  );
}

async function pushBundle(options: SignCosignOptions, key: KeyObject): Promise<Descriptor> {
  const { subject } = options;
  const [alg, hex] = subject.digest.split(':');
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: options.subjectReference, digest: { [alg ?? 'sha256']: hex } }],
    predicateType: 'https://sigstore.dev/cosign/sign/v1',
    predicate: {},
  };
  const payload = Buffer.from(JSON.stringify(statement));
  const sig = signBytes(key, dsse.preAuthEncoding(MediaTypes.inTotoPayload, payload));
  const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
  const bundle = {
    mediaType: MediaTypes.bundleV03,
    verificationMaterial: {
      publicKey: { hint: createHash('sha256').update(spki).digest('base64') },
      tlogEntries: [],
    },
    dsseEnvelope: {
      payload: payload.toString('base64'),
      payloadType: MediaTypes.inTotoPayload,
      signatures: [{ sig: sig.toString('base64'), keyid: '' }],
    },
  };
  return attachArtifact(options.repository, {
    subject,
    artifactType: MediaTypes.bundleV03,
    layers: [{ bytes: Buffer.from(JSON.stringify(bundle)), mediaType: MediaTypes.bundleV03 }],
    annotations: {
      [Annotation.bundleContent]: 'dsse-envelope',
      [Annotation.bundlePredicateType]: statement.predicateType,
    },
    ...(options.signal ? { signal: options.signal } : {}),
  });
}
