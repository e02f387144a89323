/**
 * The cosign verifier: legacy `.sig` / `.att` tag-schema artifacts, cosign OCI referrers, and
 * sigstore bundle referrers (cosign v3's default). It tells the engine which layers of the
 * artifact manifest it reads (`cosignLayers`: the bundle, the DSSE envelopes or the simple signing
 * payloads), runs the pure checks of this folder over their bytes, and returns one Report. The
 * engine reports registry faults (the one table); bad content fails with a stable reason
 * (failure.ts).
 */

import type {
  Artifact,
  ArtifactContent,
  ArtifactNeeds,
  FetchedLayer,
  LayerNeeds,
  Report,
  Verifier,
  VerifierSubject,
  VerifyContext,
} from '../../engine/types.js';
import type { ImageManifest } from '../../registry/types.js';
import { type CosignTrust, policyFor } from '../../trust/cosign/load.js';
import type { CosignPolicy } from '../../trust/cosign/types.js';
import { checkRequirements, verifyDsseLayer } from './attestation.js';
import { verifyBundle } from './bundle.js';
import { Annotation, isBundleMediaType, MediaTypes } from './constants.js';
import { CosignCheckFailure, type CosignReason } from './failure.js';
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
    reads: (_subject, artifact) => readsOf(artifact),
    async verify(subject, artifact, content, ctx): Promise<Report> {
      const policy = policyFor(trust, subject.name);
      try {
        const kind = cosignLayers(artifact, content.manifest).kind;
        if (kind === 'bundle')
          return await verifyBundleArtifact(subject, artifact, content, policy, trust, ctx);
        return await verifyLegacy(
          subject,
          artifact,
          content.layers,
          policy,
          trust,
          ctx,
          kind === 'attestation',
        );
      } catch (err) {
        if (err instanceof CosignCheckFailure)
          return report(artifact, 'failed', err.reason, err.message, err.details);
        throw err;
      }
    },
  };
}

/** What cosign reads of an artifact; the layers depend on its manifest (`cosignLayers`). */
function readsOf(artifact: Artifact): ArtifactNeeds {
  return { what: 'the signature', layers: (manifest) => cosignLayers(artifact, manifest).layers };
}

/**
 * Which kind of cosign artifact `manifest` is, and the layers read: a sigstore bundle (its first
 * bundle layer), an attestation (every DSSE envelope) or a signature (every simple signing payload).
 */
function cosignLayers(
  artifact: Artifact,
  manifest: ImageManifest,
): { kind: 'bundle' | 'attestation' | 'signature'; layers: LayerNeeds } {
  const type = manifest.artifactType ?? artifact.descriptor.artifactType ?? manifest.config.mediaType;
  if (isBundleMediaType(type) || manifest.layers.some((l) => isBundleMediaType(l.mediaType)))
    return {
      kind: 'bundle',
      layers: {
        mediaTypes: [MediaTypes.bundleV03, `${MediaTypes.bundlePrefix}…`],
        matches: isBundleMediaType,
        count: 'first',
        maxBytes: MAX_LAYER_BYTES,
      },
    };
  const attestation =
    artifact.kind === 'cosign-attestation' ||
    manifest.layers.some((l) => l.mediaType === MediaTypes.dsseEnvelope);
  return {
    kind: attestation ? 'attestation' : 'signature',
    layers: {
      mediaTypes: [attestation ? MediaTypes.dsseEnvelope : MediaTypes.simpleSigning],
      count: { max: MAX_SIGNATURE_LAYERS },
      maxBytes: MAX_LAYER_BYTES,
    },
  };
}

async function verifyLegacy(
  subject: VerifierSubject,
  artifact: Artifact,
  fetched: readonly FetchedLayer[],
  policy: CosignPolicy,
  trust: CosignTrust,
  ctx: VerifyContext,
  attestation: boolean,
): Promise<Report> {
  const digest = subject.descriptor.digest;
  const options = { now: ctx.now };
  const layers = fetched.map((l) => ({ d: l.descriptor, bytes: l.bytes }));
  if (attestation) {
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
  subject: VerifierSubject,
  artifact: Artifact,
  content: ArtifactContent,
  policy: CosignPolicy,
  trust: CosignTrust,
  ctx: VerifyContext,
): Promise<Report> {
  const manifest = content.manifest;
  const bytes = content.layers[0]?.bytes;
  if (!bytes) throw new CosignCheckFailure('malformed', 'the bundle artifact has no bundle layer');
  const isDsse =
    manifest.annotations?.['dev.sigstore.bundle.content'] === 'dsse-envelope' ||
    (bytes.includes(0x64) && Buffer.from(bytes).includes('"dsseEnvelope"'));
  // A message signature signs the image manifest bytes (its digest is the subject digest).
  const artifactBytes = isDsse ? undefined : (await ctx.readSubjectManifest()).bytes;
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
