/**
 * The files of a detached signature (a signature kept next to the image instead of in its
 * registry), written by `vouch sign --output-signature PATH` and read by `vouch verify
 * --signature-path`:
 *  - cosign, default: PATH is a sigstore bundle v0.3 JSON (protobuf-specs `docs/bundle.md`), the
 *    same bytes cosign v3 attaches as a bundle referrer;
 *  - cosign `--legacy`: PATH holds the base64 signature and PATH.payload the simple-signing
 *    payload it signs (cosign `specs/SIGNATURE_SPEC.md`; what `cosign sign --output-signature
 *    --output-payload` writes);
 *  - notation: PATH is the envelope (JWS JSON or COSE_Sign1) and PATH.json a descriptor naming the
 *    subject (media type, digest, size), the envelope (media type, digest, size) and the
 *    annotations the referrer would carry.
 * Pure: bytes in, bytes out; files.ts does the reading and writing.
 */
import { z } from 'zod';
import { VouchError } from '../errors.js';
import { computeDigest, isDigest } from '../reference/digest.js';
import type { Descriptor } from '../registry/types.js';
import type { SignatureArtifact } from '../sign/signature-artifact.js';
import { Annotation, isBundleMediaType, MediaTypes } from '../verifiers/cosign/constants.js';
import { SIGNATURE_ARTIFACT_TYPE } from '../verifiers/notation/envelope.js';

/** Media type of the notation descriptor file (PATH.json). */
export const DETACHED_DESCRIPTOR_MEDIA_TYPE = 'application/vnd.vouch.detached-signature.v1+json';
/** Suffix of the notation descriptor file. */
export const DESCRIPTOR_SUFFIX = '.json';
/** Suffix of the cosign legacy payload file. */
export const PAYLOAD_SUFFIX = '.payload';

/** One file to write. */
export interface DetachedFile {
  readonly path: string;
  readonly bytes: Uint8Array;
}

/** The image a detached signature says it signs (as far as its files say). */
export interface DeclaredSubject {
  readonly digest: string;
  readonly mediaType?: string;
  readonly size?: number;
}

/** A signature read from files, ready to be presented to the verifiers as an artifact. */
export interface DetachedSignature {
  /** The signature file (PATH). */
  readonly path: string;
  /** Every file it was read from (PATH and its companion). */
  readonly files: readonly string[];
  readonly signature: SignatureArtifact;
  /** Undefined when the files do not say (an unparseable payload): the verifier decides. */
  readonly subject?: DeclaredSubject;
  /**
   * Per layer, the digest and size the descriptor file records for it (notation); the layer's
   * bytes are checked against them when read, as a registry's blob would be.
   */
  readonly declaredLayers?: ReadonlyArray<{ readonly digest: string; readonly size: number } | undefined>;
}

const descriptorShape = z.object({
  mediaType: z.string(),
  digest: z.string().refine(isDigest, 'not a digest'),
  size: z.number().int().nonnegative(),
});

/** The notation descriptor file (PATH.json). */
const notationDescriptorSchema = z.object({
  mediaType: z.literal(DETACHED_DESCRIPTOR_MEDIA_TYPE),
  artifactType: z.literal(SIGNATURE_ARTIFACT_TYPE),
  subject: descriptorShape,
  signature: descriptorShape,
  annotations: z.record(z.string(), z.string()).optional(),
});
type NotationDescriptor = z.infer<typeof notationDescriptorSchema>;

const WHAT =
  'a sigstore bundle, a cosign signature with its PATH.payload, or a notation envelope with its PATH.json';

/** The files `vouch sign --output-signature path` writes for `signature` over `subject`. */
export function encodeDetachedSignature(
  path: string,
  signature: SignatureArtifact,
  subject: Descriptor,
): DetachedFile[] {
  const layer = signature.layers[0];
  if (!layer || signature.layers.length !== 1)
    throw new VouchError('INTERNAL', `a ${signature.format} signature must have exactly one layer`);
  if (signature.format === 'notation') {
    const descriptor: NotationDescriptor = {
      mediaType: DETACHED_DESCRIPTOR_MEDIA_TYPE,
      artifactType: SIGNATURE_ARTIFACT_TYPE,
      subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
      signature: { mediaType: layer.mediaType, digest: computeDigest(layer.bytes), size: layer.bytes.length },
      ...(signature.annotations ? { annotations: signature.annotations } : {}),
    };
    return [
      { path, bytes: layer.bytes },
      { path: path + DESCRIPTOR_SUFFIX, bytes: Buffer.from(`${JSON.stringify(descriptor, null, 2)}\n`) },
    ];
  }
  if (isBundleMediaType(layer.mediaType)) return [{ path, bytes: layer.bytes }];
  const sig = layer.annotations?.[Annotation.signature];
  if (layer.mediaType !== MediaTypes.simpleSigning || !sig)
    throw new VouchError(
      'INTERNAL',
      'a legacy cosign signature needs a simple-signing layer with a signature',
    );
  const extra = Object.keys(layer.annotations ?? {}).filter((k) => k !== Annotation.signature);
  if (extra.length > 0) {
    throw new VouchError(
      'USAGE',
      `a legacy signature file holds only the signature and payload, not ${extra.join(', ')}: write a bundle (leave out --legacy)`,
    );
  }
  return [
    { path, bytes: Buffer.from(sig) },
    { path: path + PAYLOAD_SUFFIX, bytes: layer.bytes },
  ];
}

/**
 * True when `bytes` say they are a notation descriptor file (a PATH.json companion); whether it is
 * a valid one is decided when its signature is decoded.
 */
export function isNotationDescriptor(bytes: Uint8Array): boolean {
  const json = parseJson(bytes);
  return isObject(json) && json.mediaType === DETACHED_DESCRIPTOR_MEDIA_TYPE;
}

/**
 * Reads one detached signature from its file and companion (`descriptor`: PATH.json, `payload`:
 * PATH.payload, when they exist). Throws USAGE, naming the file, when it is not a signature.
 */
export function decodeDetachedSignature(
  path: string,
  bytes: Uint8Array,
  companions: { readonly descriptor?: Uint8Array; readonly payload?: Uint8Array } = {},
): DetachedSignature {
  if (companions.descriptor) {
    const parsed = notationDescriptorSchema.safeParse(parseJson(companions.descriptor));
    if (!parsed.success)
      throw new VouchError(
        'USAGE',
        `${path}${DESCRIPTOR_SUFFIX} is not a vouch notation signature descriptor`,
      );
    const d = parsed.data;
    return {
      path,
      files: [path, path + DESCRIPTOR_SUFFIX],
      signature: {
        format: 'notation',
        artifactType: d.artifactType,
        layers: [{ bytes, mediaType: d.signature.mediaType }],
        ...(d.annotations ? { annotations: d.annotations } : {}),
      },
      subject: d.subject,
      declaredLayers: [{ digest: d.signature.digest, size: d.signature.size }],
    };
  }
  if (companions.payload) {
    const text = Buffer.from(bytes).toString('utf8').trim();
    if (!BASE64.test(text))
      throw new VouchError(
        'USAGE',
        `${path} is not a cosign signature (base64 text next to ${path}.payload)`,
      );
    const subjectDigest = payloadDigest(companions.payload);
    return {
      path,
      files: [path, path + PAYLOAD_SUFFIX],
      signature: {
        format: 'cosign',
        artifactType: MediaTypes.cosignArtifactSignature,
        layers: [
          {
            bytes: companions.payload,
            mediaType: MediaTypes.simpleSigning,
            annotations: { [Annotation.signature]: text },
          },
        ],
      },
      ...(subjectDigest ? { subject: { digest: subjectDigest } } : {}),
    };
  }
  const json = parseJson(bytes);
  if (isObject(json) && typeof json.mediaType === 'string' && isBundleMediaType(json.mediaType))
    return decodeBundle(path, bytes, json);
  if (isObject(json) && json.mediaType === DETACHED_DESCRIPTOR_MEDIA_TYPE)
    throw new VouchError('USAGE', `${path} is a notation signature descriptor, but its envelope is missing`);
  if (
    (isObject(json) && 'protected' in json && 'signature' in json) ||
    (json === undefined && bytes[0] === 0xd2)
  ) {
    throw new VouchError(
      'USAGE',
      `${path} looks like a notation envelope, but its descriptor ${path}${DESCRIPTOR_SUFFIX} is missing`,
    );
  }
  if (json === undefined && BASE64.test(Buffer.from(bytes).toString('utf8').trim()) && bytes.length > 0)
    throw new VouchError(
      'USAGE',
      `${path} looks like a cosign signature, but ${path}${PAYLOAD_SUFFIX} is missing`,
    );
  throw new VouchError('USAGE', `${path} is not a signature file (expected ${WHAT})`);
}

function decodeBundle(path: string, bytes: Uint8Array, json: Record<string, unknown>): DetachedSignature {
  const dsse = json.dsseEnvelope;
  if (isObject(dsse)) {
    const statement = typeof dsse.payload === 'string' ? parseJson(Buffer.from(dsse.payload, 'base64')) : {};
    const predicateType =
      isObject(statement) && typeof statement.predicateType === 'string' ? statement.predicateType : '';
    const subject = statementDigest(statement);
    return {
      path,
      files: [path],
      signature: {
        format: 'cosign',
        artifactType: MediaTypes.bundleV03,
        layers: [{ bytes, mediaType: MediaTypes.bundleV03 }],
        annotations: {
          [Annotation.bundleContent]: 'dsse-envelope',
          ...(predicateType ? { [Annotation.bundlePredicateType]: predicateType } : {}),
        },
      },
      ...(subject ? { subject: { digest: subject } } : {}),
    };
  }
  // a message signature signs the manifest bytes: its message digest is the subject's digest
  const message = json.messageSignature;
  const md = isObject(message) ? message.messageDigest : undefined;
  const digest =
    isObject(md) && md.algorithm === 'SHA2_256' && typeof md.digest === 'string'
      ? `sha256:${Buffer.from(md.digest, 'base64').toString('hex')}`
      : undefined;
  return {
    path,
    files: [path],
    signature: {
      format: 'cosign',
      artifactType: MediaTypes.bundleV03,
      layers: [{ bytes, mediaType: MediaTypes.bundleV03 }],
      annotations: { [Annotation.bundleContent]: 'message-signature' },
    },
    ...(digest && isDigest(digest) ? { subject: { digest } } : {}),
  };
}

/** `critical.image.docker-manifest-digest` of a simple-signing payload. */
function payloadDigest(payload: Uint8Array): string | undefined {
  const json = parseJson(payload);
  const critical = isObject(json) ? json.critical : undefined;
  const image = isObject(critical) ? critical.image : undefined;
  const digest = isObject(image) ? image['docker-manifest-digest'] : undefined;
  return typeof digest === 'string' && isDigest(digest) ? digest : undefined;
}

/** The first sha256/sha512 subject digest of an in-toto statement. */
function statementDigest(statement: unknown): string | undefined {
  const subjects = isObject(statement) && Array.isArray(statement.subject) ? statement.subject : [];
  for (const s of subjects) {
    const digests = isObject(s) ? s.digest : undefined;
    if (!isObject(digests)) continue;
    for (const alg of ['sha256', 'sha512']) {
      const hex = digests[alg];
      if (typeof hex === 'string' && isDigest(`${alg}:${hex}`)) return `${alg}:${hex}`;
    }
  }
  return undefined;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return undefined;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
