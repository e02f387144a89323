/** Helpers to build Reports the same way everywhere. */
import { toVouchError } from '../errors.js';
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
  const reason =
    e.code === 'DEADLINE_EXCEEDED' ? 'timeout' : e.code === 'REGISTRY_UNREACHABLE' ? 'unreachable' : 'error';
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
