/** Helpers to build Reports the same way everywhere. */
import { toVouchError } from '../errors.js';
import { classifyFetchError } from './classify.js';
import type { Artifact, Outcome, Report } from './types.js';

export function artifactFacts(artifact: Artifact): Report['artifact'] {
  const d = artifact.descriptor;
  return {
    digest: d.digest,
    mediaType: d.mediaType,
    ...(d.artifactType ? { artifactType: d.artifactType } : {}),
    size: d.size,
  };
}

export function makeReport(
  verifier: string,
  artifact: Artifact,
  outcome: Outcome,
  reason: string,
  message: string,
  details: Record<string, unknown> = {},
): Report {
  return { verifier, artifact: artifactFacts(artifact), outcome, reason, message, details, nested: [] };
}

/**
 * A verifier that threw, or ran out of time: an inconclusive report with a reason, never a crash.
 * `signal` tells a deadline from other errors.
 */
export function reportFromError(
  verifier: string,
  artifact: Artifact,
  err: unknown,
  signal: AbortSignal,
): Report {
  if (signal.aborted) {
    return makeReport(
      verifier,
      artifact,
      'inconclusive',
      'timeout',
      `${verifier}: verification did not finish before the deadline`,
    );
  }
  const e = toVouchError(err);
  // a throw is never final: the table's reason when it names a transient fault, else `error`
  const c = classifyFetchError(e, signal);
  const reason = c.outcome === 'inconclusive' ? c.reason : 'error';
  return makeReport(
    verifier,
    artifact,
    'inconclusive',
    reason,
    `${verifier}: could not verify: ${e.message}`,
    {
      code: e.code,
    },
  );
}

/**
 * A registry read of `artifact` (its manifest or a blob) that threw: outcome and reason from the
 * one table (classify.ts, docs/architecture.md "Registry faults: one table"), so every verifier
 * answers the same fault the same way. `what` names what was read (`the signature`).
 */
export function reportFromFetchError(
  verifier: string,
  artifact: Artifact,
  err: unknown,
  signal: AbortSignal,
  what: string,
): Report {
  const c = classifyFetchError(err, signal);
  return makeReport(verifier, artifact, c.outcome, c.reason, `could not read ${what}: ${c.message}`, {
    code: toVouchError(err).code,
  });
}

/** The verifier name of a report that only carries the reports of an artifact's own artifacts. */
export const CONTAINER_VERIFIER = 'none';

/**
 * A report for an artifact no verifier consumes (an SBOM) that has verified artifacts of its own
 * (signatures of the SBOM). Policies never require `none`, so it cannot satisfy a rule.
 */
export function containerReport(artifact: Artifact, nested: Report[]): Report {
  const type = artifact.descriptor.artifactType ?? artifact.descriptor.mediaType;
  return {
    ...makeReport(
      CONTAINER_VERIFIER,
      artifact,
      'inconclusive',
      'no-verifier',
      `${type}: no verifier checks this artifact type; its own artifacts are listed under it`,
    ),
    nested,
  };
}
