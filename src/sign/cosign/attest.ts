/**
 * `cosign attest` on the push side: an in-toto statement (v1) about the image, wrapped in a DSSE
 * envelope (DSSE v1 protocol: the signature covers PAE(payloadType, payload)) and appended as one
 * `application/vnd.dsse.envelope.v1+json` layer to the image's `sha256-<hex>.att` manifest
 * (cosign `specs/ATTESTATION_SPEC.md`). The layer carries cosign's annotations: `predicateType`,
 * an empty `dev.cosignproject.cosign/signature` (the signature is inside the envelope) and, when
 * signed keylessly, the certificate, chain and Rekor SET like a keyless `.sig` layer.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { envelopeToJSON } from '@sigstore/bundle';
import { dsse } from '@sigstore/core';
import { DSSEBundleBuilder } from '@sigstore/sign';
import { VouchError } from '../../errors.js';
import type { Descriptor, Repository } from '../../registry/types.js';
import { Annotation, MediaTypes } from '../../verifiers/cosign/constants.js';
import { FulcioChainSigner } from './fulcio.js';
import { signBytes } from './index.js';
import { buildWitnesses, checkServiceUrl, legacyAnnotations } from './keyless.js';
import { appendToCosignTag } from './tag-manifest.js';

/** The keyless services an attestation is signed through. */
export interface KeylessServices {
  readonly identityToken: string;
  readonly fulcioUrl: string;
  readonly rekorUrl: string;
  readonly tsaUrl?: string;
}

export interface AttestCosignOptions {
  readonly repository: Repository;
  readonly subject: Descriptor;
  /** `registry/repository`, the statement subject's name. */
  readonly subjectReference: string;
  /** e.g. `https://slsa.dev/provenance/v1`. */
  readonly predicateType: string;
  /** The predicate (any JSON value). */
  readonly predicate: unknown;
  /** Decrypted PKCS#8 PEM private key, or keyless services. */
  readonly signer: { readonly privateKeyPem: string } | { readonly keyless: KeylessServices };
  readonly signal?: AbortSignal;
}

/** The in-toto v1 statement cosign writes for an image attestation. */
export function imageStatement(
  subjectReference: string,
  digest: string,
  predicateType: string,
  predicate: unknown,
): Buffer {
  const [alg, hex] = digest.split(':');
  if (!alg || !hex) throw new VouchError('DIGEST_INVALID', `${digest} is not <algorithm>:<hex>`);
  return Buffer.from(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: subjectReference, digest: { [alg]: hex } }],
      predicateType,
      predicate: predicate ?? {},
    }),
  );
}

/** Signs an attestation about the subject and appends it to the `.att` tag; returns the manifest. */
export async function attestCosign(options: AttestCosignOptions): Promise<Descriptor> {
  if (!options.predicateType) throw new VouchError('USAGE', 'an attestation needs a predicate type');
  const payload = imageStatement(
    options.subjectReference,
    options.subject.digest,
    options.predicateType,
    options.predicate,
  );
  const base = {
    [Annotation.predicateType]: options.predicateType,
    [Annotation.signature]: '',
  };
  let envelope: Buffer;
  let annotations: Record<string, string>;
  if ('privateKeyPem' in options.signer) {
    let key: KeyObject;
    try {
      key = createPrivateKey(options.signer.privateKeyPem);
    } catch (err) {
      throw new VouchError('SIGNING_FAILED', 'the cosign private key does not parse', { cause: err });
    }
    const sig = signBytes(key, dsse.preAuthEncoding(MediaTypes.inTotoPayload, payload));
    envelope = Buffer.from(
      JSON.stringify({
        payloadType: MediaTypes.inTotoPayload,
        payload: payload.toString('base64'),
        signatures: [{ keyid: '', sig: sig.toString('base64') }],
      }),
    );
    annotations = base;
  } else {
    const k = options.signer.keyless;
    const signal = options.signal ?? AbortSignal.timeout(120_000);
    const signer = new FulcioChainSigner({
      fulcioUrl: checkServiceUrl(k.fulcioUrl, '--fulcio-url'),
      identityToken: k.identityToken,
      signal,
    });
    const builder = new DSSEBundleBuilder({
      signer,
      witnesses: buildWitnesses(k.rekorUrl, k.tsaUrl, 'intoto'),
    });
    let bundle: Awaited<ReturnType<DSSEBundleBuilder['create']>>;
    try {
      bundle = await builder.create({ data: payload, type: MediaTypes.inTotoPayload });
    } catch (err) {
      if (err instanceof VouchError) throw err;
      throw new VouchError('SIGNING_FAILED', `keyless attestation failed: ${String(err).slice(0, 300)}`, {
        cause: err,
      });
    }
    const env = bundle.content.dsseEnvelope;
    envelope = Buffer.from(JSON.stringify(envelopeToJSON(env)));
    const sig = env.signatures[0]?.sig ?? Buffer.alloc(0);
    annotations = { ...legacyAnnotations(bundle, sig, signer.chainPem), ...base };
  }
  return appendToCosignTag(
    options.repository,
    options.subject,
    'att',
    { bytes: envelope, mediaType: MediaTypes.dsseEnvelope, annotations },
    options.signal,
  );
}
