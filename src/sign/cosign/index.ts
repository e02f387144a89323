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
import type { SignatureArtifact } from '../signature-artifact.js';
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

/** What to sign: the subject and the key; no repository (see `createCosignSignature`). */
export interface CreateCosignSignatureOptions {
  readonly subject: Descriptor;
  /** `registry/repository` recorded as `critical.identity.docker-reference` / the statement subject name. */
  readonly subjectReference: string;
  /** Decrypted PKCS#8 PEM private key. */
  readonly privateKeyPem: string;
  /** `bundle`: a sigstore bundle v0.3 (DSSE statement); `simple-signing`: cosign's legacy payload + signature. */
  readonly form: 'bundle' | 'simple-signing';
}

/**
 * Signs the subject without pushing anything: a sigstore bundle v0.3 layer (artifactType the
 * bundle media type) or one simple-signing layer annotated with its signature.
 */
export function createCosignSignature(options: CreateCosignSignatureOptions): SignatureArtifact {
  let key: KeyObject;
  try {
    key = createPrivateKey(options.privateKeyPem);
  } catch (err) {
    throw new VouchError('SIGNING_FAILED', 'the cosign private key does not parse', { cause: err });
  }
  if (options.form === 'bundle') return bundleSignature(options, key);
  const payload = simpleSigningPayload(options.subjectReference, options.subject.digest);
  const signature = signBytes(key, payload).toString('base64');
  return {
    format: 'cosign',
    artifactType: MediaTypes.cosignArtifactSignature,
    layers: [
      {
        bytes: payload,
        mediaType: MediaTypes.simpleSigning,
        annotations: { [Annotation.signature]: signature },
      },
    ],
  };
}

/**
 * Places a cosign signature: a simple-signing layer appended to the `.sig` tag (`tag`) or as an
 * OCI referrer (`referrer`); a bundle always as a referrer. Returns the pushed manifest.
 */
export async function pushCosignSignature(
  repository: Repository,
  subject: Descriptor,
  signature: SignatureArtifact,
  placement: 'tag' | 'referrer',
  signal?: AbortSignal,
): Promise<Descriptor> {
  const layer = signature.layers[0];
  if (placement === 'tag' && signature.layers.length === 1 && layer?.mediaType === MediaTypes.simpleSigning) {
    return appendToCosignTag(
      repository,
      subject,
      'sig',
      { bytes: layer.bytes, mediaType: layer.mediaType, annotations: layer.annotations ?? {} },
      signal,
    );
  }
  return attachArtifact(repository, {
    subject,
    artifactType: signature.artifactType,
    layers: signature.layers,
    ...(signature.annotations ? { annotations: signature.annotations } : {}),
    ...(signal ? { signal } : {}),
  });
}

/** Signs the subject and pushes the signature; returns the descriptor of the pushed manifest. */
export async function signCosign(options: SignCosignOptions): Promise<Descriptor> {
  const signature = createCosignSignature({
    subject: options.subject,
    subjectReference: options.subjectReference,
    privateKeyPem: options.privateKeyPem,
    form: options.mode === 'bundle' ? 'bundle' : 'simple-signing',
  });
  return pushCosignSignature(
    options.repository,
    options.subject,
    signature,
    options.mode === 'tag' ? 'tag' : 'referrer',
    options.signal,
  );
}

function bundleSignature(options: CreateCosignSignatureOptions, key: KeyObject): SignatureArtifact {
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
  return bundleArtifact(Buffer.from(JSON.stringify(bundle)), statement.predicateType);
}

/** A sigstore bundle v0.3 holding a DSSE statement, as the referrer cosign v3 attaches. */
export function bundleArtifact(bundleJson: Uint8Array, predicateType: string): SignatureArtifact {
  return {
    format: 'cosign',
    artifactType: MediaTypes.bundleV03,
    layers: [{ bytes: bundleJson, mediaType: MediaTypes.bundleV03 }],
    annotations: {
      [Annotation.bundleContent]: 'dsse-envelope',
      [Annotation.bundlePredicateType]: predicateType,
    },
  };
}
