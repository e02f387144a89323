/**
 * The cosign verifier: legacy `.sig` / `.att` tag-schema artifacts, cosign OCI referrers, and
 * sigstore bundle referrers (cosign v3's default). It fetches the artifact manifest and its
 * layers through `ctx.repository` (size-limited, digest-checked by the Registry), runs the pure
 * checks of this folder, and returns one Report. Network failures are inconclusive; bad content
 * fails with a stable reason (failure.ts).
 */

import { MEDIA_TYPE_MISMATCH } from '../../engine/classify.js';
import { reportFromFetchError } from '../../engine/reports.js';
import type { Artifact, Report, Subject, Verifier, VerifyContext } from '../../engine/types.js';
import type { Descriptor, ImageManifest } from '../../registry/types.js';
import { type CosignTrust, policyFor } from '../../trust/cosign/load.js';
import { checkRequirements, verifyDsseLayer } from './attestation.js';
import { verifyBundle } from './bundle.js';
import { Annotation, isBundleMediaType, MediaTypes } from './constants.js';
import { CosignCheckFailure, type CosignReason } from './failure.js';
import type { CosignPolicy } from './model.js';
import { verifySimpleSigningSet } from './simplesigning.js';

/** Most signature layers read from one manifest (cosign appends one per signing). */
export const MAX_SIGNATURE_LAYERS = 32;
/** Largest signature payload / envelope / bundle blob read. */
export const MAX_LAYER_BYTES = 4 * 1024 * 1024;
/** The predicate type cosign v3 uses for a plain image signature in a bundle. */
export const COSIGN_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';

const REFERRER_TYPES = new Set<string>([MediaTypes.simpleSigning, MediaTypes.cosignArtifactSignature]);

/** Creates the `cosign` verifier over loaded trust material. */
export function createCosignVerifier(trust: CosignTrust): Verifier {
  return {
    name: 'cosign',
    usesCosignTags: true,
    generation: trust.generation,
    accepts(artifact: Artifact): boolean {
      if (artifact.kind === 'cosign-signature' || artifact.kind === 'cosign-attestation') return true;
      if (artifact.kind !== 'referrer') return false;
      const type = artifact.descriptor.artifactType;
      return type !== undefined && (REFERRER_TYPES.has(type) || isBundleMediaType(type));
    },
    async verify(subject: Subject, artifact: Artifact, ctx: VerifyContext): Promise<Report> {
      const policy = policyFor(trust, subject.name);
      try {
        const fetched = await ctx.repository.fetchManifest(artifact.descriptor, { signal: ctx.signal });
        if (fetched.manifest.kind !== 'manifest') {
          return report(
            artifact,
            'failed',
            'malformed',
            'the artifact is an index, not a signature manifest',
            {},
          );
        }
        const manifest = fetched.manifest;
        const type = manifest.artifactType ?? artifact.descriptor.artifactType ?? manifest.config.mediaType;
        if (isBundleMediaType(type) || manifest.layers.some((l) => isBundleMediaType(l.mediaType))) {
          return await verifyBundleArtifact(subject, artifact, manifest, policy, trust, ctx);
        }
        const attestation =
          artifact.kind === 'cosign-attestation' ||
          manifest.layers.some((l) => l.mediaType === MediaTypes.dsseEnvelope);
        return await verifyLegacy(subject, artifact, manifest, policy, trust, ctx, attestation);
      } catch (err) {
        if (err instanceof CosignCheckFailure)
          return report(artifact, 'failed', err.reason, err.message, err.details);
        // registry and transport faults: the one table (src/engine/classify.ts)
        return reportFromFetchError('cosign', artifact, err, ctx.signal, 'the signature');
      }
    },
  };
}

async function fetchLayers(
  manifest: ImageManifest,
  mediaType: string,
  ctx: VerifyContext,
): Promise<Array<{ d: Descriptor; bytes: Uint8Array }>> {
  const layers = manifest.layers.filter((l) => l.mediaType === mediaType);
  if (layers.length === 0)
    throw new CosignCheckFailure(
      MEDIA_TYPE_MISMATCH.reason,
      `the manifest has no ${mediaType} layer (layers: ${manifest.layers.map((l) => l.mediaType).join(', ') || 'none'})`,
    );
  if (layers.length > MAX_SIGNATURE_LAYERS) {
    throw new CosignCheckFailure(
      'malformed',
      `the manifest has ${layers.length} signature layers (at most ${MAX_SIGNATURE_LAYERS})`,
    );
  }
  return Promise.all(
    layers.map(async (d) => ({
      d,
      bytes: await ctx.repository.fetchBlob(d, { maxBytes: MAX_LAYER_BYTES, signal: ctx.signal }),
    })),
  );
}

async function verifyLegacy(
  subject: Subject,
  artifact: Artifact,
  manifest: ImageManifest,
  policy: CosignPolicy,
  trust: CosignTrust,
  ctx: VerifyContext,
  attestation: boolean,
): Promise<Report> {
  const digest = subject.descriptor.digest;
  const options = { now: ctx.now };
  if (attestation) {
    const layers = await fetchLayers(manifest, MediaTypes.dsseEnvelope, ctx);
    let firstFailure: CosignCheckFailure | undefined;
    const verified: Array<Record<string, unknown>> = [];
    // attestations of the manifest that did not verify, named by their (unsigned) layer annotation:
    // only to explain a policy that wanted that predicate type, never to count it
    const rejected: Array<Record<string, unknown>> = [];
    for (const { d, bytes } of layers) {
      try {
        const a = verifyDsseLayer(
          { mediaType: d.mediaType, envelope: bytes, annotations: d.annotations ?? {} },
          digest,
          policy,
          trust.material,
          options,
        );
        verified.push({
          ...a.details,
          predicateType: a.statement.predicateType,
          predicate: a.statement.predicate,
        });
      } catch (err) {
        if (!(err instanceof CosignCheckFailure)) throw err;
        firstFailure ??= err;
        rejected.push({
          predicateType: d.annotations?.[Annotation.predicateType] ?? err.details.predicateType,
          reason: err.reason,
          message: err.message,
        });
      }
    }
    if (verified.length > 0) {
      return report(artifact, 'verified', 'ok', `${verified.length} attestation(s) verified`, {
        attestations: verified,
        ...(rejected.length > 0 ? { rejected } : {}),
      });
    }
    const f = firstFailure as CosignCheckFailure;
    return report(artifact, 'failed', f.reason, f.message, f.details);
  }
  const layers = await fetchLayers(manifest, MediaTypes.simpleSigning, ctx);
  const { verified, failures } = verifySimpleSigningSet(
    layers.map(({ d, bytes }) => ({
      mediaType: d.mediaType,
      payload: bytes,
      annotations: d.annotations ?? {},
      digest: d.digest,
    })),
    digest,
    policy,
    trust.material,
    options,
  );
  const signers = verified.map((v) => v.details);
  if (verified.length >= policy.threshold) {
    return report(
      artifact,
      'verified',
      'ok',
      `${verified.length} of ${policy.threshold} required signer(s) verified`,
      { signers },
    );
  }
  if (verified.length > 0) {
    return report(
      artifact,
      'failed',
      'threshold-not-met',
      `${verified.length} of ${policy.threshold} required distinct signers verified`,
      {
        signers,
        failures: failures.map((f) => f.message),
      },
    );
  }
  const f = failures[0] as CosignCheckFailure;
  return report(artifact, 'failed', f.reason, f.message, {
    ...f.details,
    failures: failures.map((x) => `${x.reason}: ${x.message}`),
  });
}

async function verifyBundleArtifact(
  subject: Subject,
  artifact: Artifact,
  manifest: ImageManifest,
  policy: CosignPolicy,
  trust: CosignTrust,
  ctx: VerifyContext,
): Promise<Report> {
  const layer = manifest.layers.find((l) => isBundleMediaType(l.mediaType));
  if (!layer)
    throw new CosignCheckFailure(MEDIA_TYPE_MISMATCH.reason, 'the bundle artifact has no bundle layer');
  const bytes = await ctx.repository.fetchBlob(layer, { maxBytes: MAX_LAYER_BYTES, signal: ctx.signal });
  const isDsse =
    manifest.annotations?.['dev.sigstore.bundle.content'] === 'dsse-envelope' ||
    (bytes.includes(0x64) && Buffer.from(bytes).includes('"dsseEnvelope"'));
  // A message signature signs the image manifest bytes (its digest is the subject digest).
  const artifactBytes = isDsse
    ? undefined
    : (await ctx.repository.fetchManifest(subject.descriptor, { signal: ctx.signal })).bytes;
  const result = verifyBundle(bytes, {
    artifactDigest: subject.descriptor.digest,
    ...(artifactBytes ? { artifact: artifactBytes } : {}),
    policy,
    trust: trust.material,
    now: ctx.now,
  });
  if (!result.ok) return report(artifact, 'failed', result.reason, result.message, result.details);
  const details: Record<string, unknown> = { ...result.details };
  if (result.statement && result.statement.predicateType !== COSIGN_SIGN_PREDICATE) {
    try {
      checkRequirements(result.statement, policy);
    } catch (err) {
      if (err instanceof CosignCheckFailure)
        return report(artifact, 'failed', err.reason, err.message, details);
      throw err;
    }
    details.predicate = result.statement.predicate;
  }
  return report(artifact, 'verified', 'ok', 'the sigstore bundle verified', details);
}

function report(
  artifact: Artifact,
  outcome: Report['outcome'],
  reason: CosignReason | 'timeout' | 'unreachable' | 'error',
  message: string,
  details: Record<string, unknown>,
): Report {
  const d = artifact.descriptor;
  return {
    verifier: 'cosign',
    artifact: {
      digest: d.digest,
      mediaType: d.mediaType,
      size: d.size,
      ...(d.artifactType ? { artifactType: d.artifactType } : {}),
    },
    outcome,
    reason,
    message,
    details,
    nested: [],
  };
}
