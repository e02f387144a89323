/**
 * The Notary Project verifier: picks the trust policy statement for the subject's repository,
 * asks the engine for the signature artifact's one layer (the envelope, JWS or COSE), runs the
 * pure core (core.ts) over its bytes, finishes the revocation check when the policy asks for one
 * (revocation.ts), and turns the result into a Report.
 */

import type {
  Artifact,
  ArtifactContent,
  ArtifactNeeds,
  Report,
  ScopePolicy,
  Verifier,
  VerifierSubject,
  VerifyContext,
} from '../../engine/types.js';
import { selectTrustPolicyStatement } from '../../trust/notation/policy.js';
import type { NotationTrust } from '../../trust/notation/types.js';
import { verifyNotationEnvelope } from './core.js';
import { COSE_MEDIA_TYPE, JWS_MEDIA_TYPE, MAX_ENVELOPE_BYTES, SIGNATURE_ARTIFACT_TYPE } from './envelope.js';
import { type NotationResult, reasonFor } from './result.js';
import { checkChainRevocation, createHttpRevocationFetcher, type RevocationFetcher } from './revocation.js';

export { verifyNotationEnvelope } from './core.js';
export type { NotationResult } from './result.js';

export interface NotationVerifierOptions {
  /**
   * Fetches OCSP/CRL responses (default: HTTP with the trust material's timeout, a size limit and
   * the egress rules: public addresses only unless `trust.revocation.allowPrivateNetwork`).
   */
  readonly fetchRevocation?: RevocationFetcher;
}

type Outcome = Report['outcome'];

const guardedFetchers = new WeakMap<NotationTrust, RevocationFetcher>();
/** The default revocation fetcher under `trust`'s egress setting (one per trust material). */
function fetcherFor(trust: NotationTrust): RevocationFetcher {
  let f = guardedFetchers.get(trust);
  if (!f) {
    f = createHttpRevocationFetcher({ allowPrivateNetwork: trust.revocation.allowPrivateNetwork ?? false });
    guardedFetchers.set(trust, f);
  }
  return f;
}

/** Builds the `notation` verifier over loaded trust material. */
export function createNotationVerifier(
  trust: NotationTrust,
  options: NotationVerifierOptions = {},
): Verifier {
  return {
    name: 'notation',
    generation: trust.generation,
    accepts: (artifact: Artifact) => artifact.descriptor.artifactType === SIGNATURE_ARTIFACT_TYPE,
    reads: (subject, artifact) => withoutReading(trust, subject, artifact) ?? ENVELOPE,
    verify: (subject, artifact, content, ctx) =>
      verifyArtifact(trust, options, subject, artifact, content, ctx),
    scopePolicy: (imageName: string) => notationScopePolicy(trust, imageName),
  };
}

/**
 * What the trust policy statement that applies to `imageName` says about the image as a whole
 * (specs/trust-store-trust-policy.md "Trust policy" levels): `skip` means no signature is required,
 * `audit` means failures are reported but never deny; `strict` and `permissive` enforce. Undefined
 * when no statement's registryScopes cover the image (vouch's own policy then applies unchanged).
 */
export function notationScopePolicy(trust: NotationTrust, imageName: string): ScopePolicy | undefined {
  const statement = selectTrustPolicyStatement(trust.policy, imageName);
  if (!statement) return undefined;
  if (statement.level === 'skip') return { name: statement.name, required: false, mode: 'enforce' };
  if (statement.level === 'audit') return { name: statement.name, required: true, mode: 'audit' };
  return { name: statement.name, required: true, mode: 'enforce' };
}

/** What notation reads of a signature artifact: the manifest's one layer, the envelope. */
const ENVELOPE: ArtifactNeeds = {
  what: 'the signature',
  layers: {
    mediaTypes: [JWS_MEDIA_TYPE, COSE_MEDIA_TYPE],
    totalLayers: 1,
    count: 'first',
    maxBytes: MAX_ENVELOPE_BYTES,
  },
};

function reporter(artifact: Artifact) {
  const base = {
    verifier: 'notation',
    artifact: {
      digest: artifact.descriptor.digest,
      mediaType: artifact.descriptor.mediaType,
      ...(artifact.descriptor.artifactType ? { artifactType: artifact.descriptor.artifactType } : {}),
      size: artifact.descriptor.size,
    },
    nested: [] as Report[],
  };
  const report = (
    outcome: Outcome,
    reason: string,
    message: string,
    details: Record<string, unknown> = {},
  ): Report => ({
    ...base,
    outcome,
    reason,
    message,
    details,
  });
  return report;
}

/** The report notation gives without reading the artifact: no statement applies, or it skips. */
function withoutReading(
  trust: NotationTrust,
  subject: VerifierSubject,
  artifact: Artifact,
): Report | undefined {
  const report = reporter(artifact);
  const statement = selectTrustPolicyStatement(trust.policy, subject.name);
  if (!statement) {
    return report(
      'failed',
      'no-trust-policy',
      `no trust policy statement applies to ${subject.name}: add its repository to a statement's registryScopes, or a "*" statement`,
    );
  }
  if (statement.level === 'skip') {
    return report(
      'verified',
      'policy-skip',
      `trust policy statement "${statement.name}" skips signature verification for ${subject.name}`,
      { trustPolicy: statement.name },
    );
  }

  return undefined;
}

async function verifyArtifact(
  trust: NotationTrust,
  options: NotationVerifierOptions,
  subject: VerifierSubject,
  artifact: Artifact,
  content: ArtifactContent,
  ctx: VerifyContext,
): Promise<Report> {
  const report = reporter(artifact);
  const statement = selectTrustPolicyStatement(trust.policy, subject.name);
  if (!statement || statement.level === 'skip') return withoutReading(trust, subject, artifact) as Report;
  const layer = content.layers[0];
  if (!layer) return report('failed', 'malformed', 'the signature has no envelope layer');
  const envelope = layer.bytes;
  const mediaType = layer.descriptor.mediaType;

  let result: NotationResult = verifyNotationEnvelope(
    envelope,
    mediaType,
    subject.descriptor,
    trust,
    statement,
    { now: ctx.now },
  );
  if (result.verified && result.revocationPending) {
    const pending = result.revocationPending;
    const status = await checkChainRevocation(pending.chain, {
      cache: ctx.cache,
      signal: ctx.signal,
      now: ctx.now,
      timeoutMs: trust.revocation.timeoutMs,
      anchored: pending.anchored,
      fetch: options.fetchRevocation ?? fetcherFor(trust),
    });
    if (status.status !== 'good') {
      const failure = {
        check: 'revocation' as const,
        code: status.status === 'revoked' ? ('revoked' as const) : ('revocation-unknown' as const),
        message: status.message,
      };
      if (pending.action === 'enforce') {
        result = { verified: false, failure, logged: result.logged, details: result.details };
      } else {
        const logged = [...result.logged, failure];
        result = {
          verified: true,
          logged,
          details: {
            ...result.details,
            loggedFailures: logged.map((f) => ({ check: f.check, reason: f.code, message: f.message })),
          },
        };
      }
    } else {
      result = { ...result, details: { ...result.details, revocation: 'good' } };
    }
  }
  return toReport(result, statement.name, report);
}

function toReport(
  result: NotationResult,
  statementName: string,
  report: (outcome: Outcome, reason: string, message: string, details?: Record<string, unknown>) => Report,
): Report {
  const details = { ...result.details };
  if (result.verified) {
    const logged = result.logged.length;
    const signer = typeof details.signer === 'string' ? ` by "${details.signer}"` : '';
    return report(
      'verified',
      'ok',
      logged === 0
        ? `signature${signer} verified under trust policy "${statementName}"`
        : `signature${signer} accepted under trust policy "${statementName}" with ${logged} logged failure(s): ${result.logged.map((f) => f.message).join('; ')}`,
      details,
    );
  }
  const failure = result.failure;
  if (!failure) return report('failed', 'error', 'verification failed without a recorded reason', details);
  details.failedCheck = failure.check;
  const outcome: Outcome = failure.code === 'revocation-unknown' ? 'inconclusive' : 'failed';
  return report(outcome, reasonFor(failure.code), failure.message, details);
}
