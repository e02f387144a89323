/**
 * The `atproto` verifier: ATCR image signatures (docs/atproto.md). An artifact of type
 * `application/vnd.atproto.signature.v1+json` names an `io.atcr.manifest` record; the verifier
 * proves, from the signer's own PDS and DID document, that the record is in a repository commit
 * signed by the DID's `#atproto` key and that it names this image's digest and repository.
 *
 * Audit: the verifier always reports the true outcome (with `details.policy` and
 * `details.action`); the ATCR policy's `require.signature` and `action` reach vouch's policy through
 * `scopePolicy`, which lets an `audit` scope allow with a warning and waives a scope that requires
 * no signature.
 */
import { resolveTxt as dnsResolveTxt } from 'node:dns/promises';
import type {
  Artifact,
  ArtifactNeeds,
  Report,
  ScopePolicy,
  Verifier,
  VerifierSubject,
} from '../../engine/types.js';
import { isVouchError, TRANSIENT_CODES } from '../../errors.js';
import type { AtprotoTrust } from '../../trust/atproto/load.js';
import { policyFor } from '../../trust/atproto/policy.js';
import { ATPROTO_SIGNATURE_ARTIFACT_TYPE, parseSignatureArtifact } from './artifact.js';
import type { AtprotoDetails } from './details.js';
import { AtprotoFailure, type AtprotoReason, outcomeOf } from './failure.js';
import type { ResolveTxt } from './identity/handle.js';
import { defaultFetch, type FetchLike } from './identity/http.js';
import { holdScanDocuments } from './scan/documents.js';
import { type VerifiedClaim, verifyClaim } from './verify-claim.js';

export { ATPROTO_SIGNATURE_ARTIFACT_TYPE } from './artifact.js';
export type { AtprotoDetails } from './details.js';
export type { AtprotoReason } from './failure.js';

/** Largest signature artifact JSON read (ATCR's are about 512 bytes). */
const MAX_ARTIFACT_BYTES = 64 * 1024;

export interface AtprotoVerifierDeps {
  /** Replaces the network for did:web, handles, PDS and PLC (tests). */
  readonly fetch?: FetchLike;
  readonly resolveTxt?: ResolveTxt;
}

/** What the ATCR trust policy requires of one image, for the engine's policy. */
export function atprotoScopeRequirement(
  trust: AtprotoTrust,
  imageName: string,
): { requireSignature: boolean; action: 'enforce' | 'audit'; policyName?: string } | undefined {
  const p = policyFor(trust.policy, imageName);
  return p ? { requireSignature: p.requireSignature, action: p.action, policyName: p.name } : undefined;
}

function repositoryPathOf(subject: VerifierSubject): string {
  const ref = subject.reference;
  if ('repository' in ref) return ref.repository;
  return subject.name;
}

function detailsOf(v: VerifiedClaim): AtprotoDetails {
  return {
    did: v.did,
    ...(v.signer?.name ? { signerName: v.signer.name } : {}),
    ...(v.handle ? { handle: v.handle } : {}),
    ...(v.handleClaimed ? { handleClaimed: v.handleClaimed } : {}),
    handleVerified: v.handleVerified,
    signingKey: v.signingKey,
    pds: v.pds,
    ...(v.pdsHintIgnored ? { pdsHintIgnored: v.pdsHintIgnored } : {}),
    recordUri: v.recordUri,
    recordCid: v.recordCid,
    commitCid: v.commitCid,
    commitRev: v.commitRev,
    ...(v.artifactCommitCid ? { artifactCommitCid: v.artifactCommitCid } : {}),
    ...(v.signedAt ? { signedAt: v.signedAt } : {}),
    ...(v.holdDid ? { holdDid: v.holdDid } : {}),
  };
}

/**
 * What atproto reads of a signature artifact (docs/atproto.md): one `application/json` layer (the
 * artifact type is accepted too), of an artifact attached to this image when it names a subject.
 */
function signatureNeeds(details: Readonly<Record<string, unknown>>): ArtifactNeeds {
  return {
    what: 'the signature artifact',
    layers: {
      mediaTypes: ['application/json', ATPROTO_SIGNATURE_ARTIFACT_TYPE],
      count: 'first',
      maxBytes: MAX_ARTIFACT_BYTES,
    },
    subjectMismatch: 'digest-mismatch',
    details,
  };
}

/** The ATCR policy entry and action every atproto report on `imageName` names. */
function scopeDetailsOf(trust: AtprotoTrust, imageName: string): Record<string, unknown> {
  const scope = atprotoScopeRequirement(trust, imageName);
  return scope ? { policy: scope.policyName, action: scope.action } : {};
}

/** Creates the `atproto` verifier over loaded trust material. */
export function createAtprotoVerifier(trust: AtprotoTrust, deps: AtprotoVerifierDeps = {}): Verifier {
  const fetch = deps.fetch ?? defaultFetch(trust.network.allowPrivateNetwork);
  const plcFetch = deps.fetch ?? defaultFetch(true);
  const resolveTxt = deps.resolveTxt ?? dnsResolveTxt;

  function report(
    artifact: Artifact,
    reason: AtprotoReason,
    message: string,
    details: Record<string, unknown>,
  ): Report {
    const { digest, mediaType, artifactType, size } = artifact.descriptor;
    return {
      verifier: 'atproto',
      artifact: { digest, mediaType, ...(artifactType ? { artifactType } : {}), size },
      outcome: outcomeOf(reason),
      reason,
      message,
      details,
      nested: [],
    };
  }

  return {
    name: 'atproto',
    generation: trust.generation,
    scopePolicy(imageName: string): ScopePolicy | undefined {
      const scope = atprotoScopeRequirement(trust, imageName);
      if (!scope) return undefined;
      return { name: scope.policyName ?? 'atcr', required: scope.requireSignature, mode: scope.action };
    },
    accepts(artifact: Artifact): boolean {
      return (
        artifact.kind === 'referrer' && artifact.descriptor.artifactType === ATPROTO_SIGNATURE_ARTIFACT_TYPE
      );
    },
    externalDocuments(subject, reports, ctx) {
      return holdScanDocuments(subject, reports, trust, { fetch, plcFetch }, ctx);
    },
    reads(subject) {
      return signatureNeeds(scopeDetailsOf(trust, subject.name));
    },
    async verify(subject, artifact, content, ctx): Promise<Report> {
      const scopeDetails = scopeDetailsOf(trust, subject.name);
      let did: string | undefined;
      const json = content.layers[0]?.bytes ?? new Uint8Array();
      try {
        const claim = parseSignatureArtifact(json);
        did = claim.did;
        const verified = await verifyClaim(
          claim,
          trust,
          { fetch, plcFetch, resolveTxt },
          {
            cache: ctx.cache,
            signal: ctx.signal,
            now: ctx.now,
            imageName: subject.name,
            repositoryPath: repositoryPathOf(subject),
            subjectDigest: subject.descriptor.digest,
          },
        );
        const who = verified.handle ? `${verified.handle} (${verified.did})` : verified.did;
        return report(artifact, 'ok', `signed by ${who} in ${verified.recordUri}`, {
          ...detailsOf(verified),
          ...scopeDetails,
        });
      } catch (err) {
        let failure: AtprotoFailure;
        if (err instanceof AtprotoFailure) failure = err;
        else if (
          isVouchError(err) &&
          (TRANSIENT_CODES.has(err.code) || err.code === 'REGISTRY_UNREACHABLE')
        ) {
          failure = new AtprotoFailure(
            err.code === 'DEADLINE_EXCEEDED' || err.code === 'ABORTED' ? 'timeout' : 'unreachable',
            err.message,
          );
        } else if (isVouchError(err)) failure = new AtprotoFailure('malformed', err.message);
        else if (ctx.signal.aborted)
          failure = new AtprotoFailure('timeout', 'the deadline passed during ATProto verification');
        else throw err;
        const details = { ...(did ? { did } : {}), ...failure.details, ...scopeDetails };
        return report(artifact, failure.reason, failure.message, details);
      }
    },
  };
}
