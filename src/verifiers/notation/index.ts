/**
 * The Notary Project verifier: fetches a signature artifact's envelope, picks the trust policy
 * statement for the subject's repository, runs the pure core (core.ts), finishes the revocation
 * check when the policy asks for one (revocation.ts), and turns the result into a Report.
 */

import { MEDIA_TYPE_MISMATCH } from '../../engine/classify.js';
import { reportFromFetchError } from '../../engine/reports.js';
import type { Artifact, Report, ScopePolicy, Subject, Verifier, VerifyContext } from '../../engine/types.js';
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
    verify: (subject, artifact, ctx) => verifyArtifact(trust, options, subject, artifact, ctx),
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

async function verifyArtifact(
  trust: NotationTrust,
  options: NotationVerifierOptions,
  subject: Subject,
  artifact: Artifact,
  ctx: VerifyContext,
): Promise<Report> {
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

  let envelope: Uint8Array;
  let mediaType: string;
  try {
    const fetched = await ctx.repository.fetchManifest(artifact.descriptor, { signal: ctx.signal });
    const manifest = fetched.manifest;
    if (manifest.kind !== 'manifest' || manifest.layers.length !== 1) {
      return report(
        'failed',
        'malformed',
        'the signature manifest must be an image manifest with exactly one layer (the envelope)',
      );
    }
    const layer = manifest.layers[0] as (typeof manifest.layers)[number];
    mediaType = layer.mediaType;
    if (mediaType !== JWS_MEDIA_TYPE && mediaType !== COSE_MEDIA_TYPE) {
      return report(
        MEDIA_TYPE_MISMATCH.outcome,
        MEDIA_TYPE_MISMATCH.reason,
        `signature envelope media type "${mediaType}" is not supported (${JWS_MEDIA_TYPE} or ${COSE_MEDIA_TYPE})`,
      );
    }
    if (layer.size > MAX_ENVELOPE_BYTES) {
      return report(
        'failed',
        'too-large',
        `the signature envelope is ${layer.size} bytes, more than the ${MAX_ENVELOPE_BYTES} allowed`,
      );
    }
    envelope = await ctx.repository.fetchBlob(layer, { maxBytes: MAX_ENVELOPE_BYTES, signal: ctx.signal });
  } catch (err) {
    return reportFromFetchError('notation', artifact, err, ctx.signal, 'the signature');
  }

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
