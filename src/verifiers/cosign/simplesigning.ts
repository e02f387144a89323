/**
 * Legacy cosign image signatures: one `application/vnd.dev.cosign.simplesigning.v1+json` layer per
 * signature in a `sha256-<hex>.sig` manifest (or an OCI referrer of that artifact type).
 * Pure: gets the exact layer bytes and annotations, the trust material and the policy; returns
 * what was verified or throws `CosignCheckFailure`.
 *
 * Format: cosign `specs/SIGNATURE_SPEC.md` (payload `critical.image.docker-manifest-digest`,
 * annotations `dev.cosignproject.cosign/signature`, `dev.sigstore.cosign/certificate`, `/chain`,
 * `/bundle`). Checks run in cosign's order: signer (key or certificate at the log time), log
 * entry, signature over the exact bytes, then the payload's claims.
 */
import { createHash } from 'node:crypto';
import type { CosignPolicy, CosignTrustMaterial } from '../../trust/cosign/types.js';
import { Annotation, MediaTypes } from './constants.js';
import { CosignCheckFailure, decodeBase64Strict, malformed } from './failure.js';
import { type SignerOptions, type VerifiedSigner, verifySigner } from './signer.js';

/** One signature layer as received: exact bytes, media type and annotations. */
export interface SimpleSigningLayer {
  readonly mediaType: string;
  readonly payload: Uint8Array;
  readonly annotations: Readonly<Record<string, string>>;
  /** The layer digest, when known: sha256(payload) must equal it. */
  readonly digest?: string;
}

/** What one verified signature proves (`signerId` counts distinct signers). */
export type VerifiedSignature = VerifiedSigner;
/** Options of one check (mechanics, not trust). */
export type SimpleSigningOptions = SignerOptions;

/** Verifies one simple-signing layer against `subjectDigest`. */
export function verifySimpleSigning(
  layer: SimpleSigningLayer,
  subjectDigest: string,
  policy: CosignPolicy,
  trust: CosignTrustMaterial,
  options: SimpleSigningOptions = {},
): VerifiedSignature {
  if (layer.mediaType !== MediaTypes.simpleSigning) {
    malformed(`layer media type ${layer.mediaType} is not ${MediaTypes.simpleSigning}`);
  }
  if (layer.digest !== undefined) {
    const actual = `sha256:${createHash('sha256').update(layer.payload).digest('hex')}`;
    if (actual !== layer.digest) {
      throw new CosignCheckFailure(
        'digest-mismatch',
        `the payload hashes to ${actual}, not the layer digest`,
      );
    }
  }
  const signatureBase64 = layer.annotations[Annotation.signature];
  if (signatureBase64 === undefined && !options.certificateOnly)
    malformed('the layer has no signature annotation');
  const signature = options.certificateOnly
    ? Buffer.alloc(0)
    : decodeBase64Strict(signatureBase64, 'signature');
  const signer = verifySigner(
    {
      signed: layer.payload,
      signature,
      signatureBase64: signatureBase64 ?? '',
      loggedPayload: layer.payload,
      annotations: layer.annotations,
    },
    policy,
    trust,
    options,
  );
  if (options.certificateOnly) return signer;
  const { signerId, details } = signer;
  const claimed = parsePayloadDigest(layer.payload, policy.dockerReference);
  if (claimed !== subjectDigest) {
    throw new CosignCheckFailure(
      'digest-mismatch',
      `the signed payload names ${claimed}, not ${subjectDigest}`,
      details,
    );
  }
  return { signerId, details };
}

/** Parses the simple-signing payload (exact bytes) and returns its manifest digest. */
export function parsePayloadDigest(payload: Uint8Array, dockerReference?: string): string {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch {
    return malformed('the signed payload is not JSON');
  }
  const critical = (doc as { critical?: unknown } | null)?.critical as
    | {
        type?: unknown;
        image?: { 'docker-manifest-digest'?: unknown };
        identity?: { 'docker-reference'?: unknown };
      }
    | undefined;
  if (!critical || typeof critical !== 'object') malformed('the signed payload has no critical section');
  if (critical.type !== 'cosign container image signature')
    malformed('the signed payload is not a cosign image signature');
  const digest = critical.image?.['docker-manifest-digest'];
  if (typeof digest !== 'string' || !/^sha(256|384|512):[0-9a-f]+$/.test(digest)) {
    malformed('the signed payload has no valid docker-manifest-digest');
  }
  if (dockerReference !== undefined && critical.identity?.['docker-reference'] !== dockerReference) {
    throw new CosignCheckFailure(
      'digest-mismatch',
      `the signed payload names reference ${JSON.stringify(critical.identity?.['docker-reference']) ?? 'none'}, not ${dockerReference}`,
    );
  }
  return digest;
}

/**
 * Verifies a set of signature layers and applies the threshold: `policy.threshold` distinct
 * signers (distinct trusted keys, or verifying certificates) must verify.
 */
export function verifySimpleSigningSet(
  layers: readonly SimpleSigningLayer[],
  subjectDigest: string,
  policy: CosignPolicy,
  trust: CosignTrustMaterial,
  options: SimpleSigningOptions = {},
): { verified: VerifiedSignature[]; failures: CosignCheckFailure[] } {
  const verified: VerifiedSignature[] = [];
  const failures: CosignCheckFailure[] = [];
  for (const layer of layers) {
    try {
      const v = verifySimpleSigning(layer, subjectDigest, policy, trust, options);
      if (!verified.some((x) => x.signerId === v.signerId)) verified.push(v);
    } catch (err) {
      if (err instanceof CosignCheckFailure) failures.push(err);
      else throw err;
    }
  }
  return { verified, failures };
}
