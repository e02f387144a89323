/**
 * The shape both content verifiers share: accept artifacts by type, read the document through
 * `readContentArtifact`, check its age, and let the format's `judge` decide over the bytes.
 * Whether the report is signed is decided by the engine over the referrer tree (`signedBy`).
 */
import { createHash } from 'node:crypto';
import { makeReport } from '../../engine/reports.js';
import type { Artifact, Outcome, Report, Verifier } from '../../engine/types.js';
import type { Descriptor } from '../../registry/types.js';
import { checkAge, parseMaximumAge } from './age.js';
import { readContentArtifact } from './artifact.js';
import { ContentFailure } from './failure.js';

export interface ContentJudgement {
  readonly outcome: Exclude<Outcome, 'inconclusive'>;
  readonly reason: string;
  readonly message: string;
  readonly details: Record<string, unknown>;
}

export interface ContentVerifierSpec {
  readonly name: string;
  /** Human name of the document (`vulnerability report`, `SBOM`). */
  readonly what: string;
  /** Artifact types (and layer media types) accepted. */
  readonly mediaTypes: readonly string[];
  readonly maxBytes: number;
  readonly maximumAge: string | undefined;
  readonly signedBy: readonly string[];
  /** The settings, hashed into the generation. */
  readonly settings: unknown;
  /** Parses and weighs the document; throws ContentFailure for a document that is not what it claims. */
  judge(bytes: Uint8Array, layer: Descriptor): ContentJudgement;
}

export function createContentVerifier(spec: ContentVerifierSpec): Verifier {
  const maximumAgeMs = spec.maximumAge === undefined ? undefined : parseMaximumAge(spec.maximumAge);
  const generation = createHash('sha256')
    .update(JSON.stringify({ settings: spec.settings, signedBy: spec.signedBy }))
    .digest('hex')
    .slice(0, 16);
  const accepted = new Set(spec.mediaTypes);
  return {
    name: spec.name,
    generation,
    signedBy: spec.signedBy,
    accepts(artifact: Artifact) {
      const type = artifact.descriptor.artifactType;
      return type !== undefined && accepted.has(type.split(';')[0]?.trim().toLowerCase() ?? '');
    },
    async verify(subject, artifact, ctx): Promise<Report> {
      const read = await readContentArtifact(subject, artifact, ctx, {
        mediaTypes: spec.mediaTypes,
        maxBytes: spec.maxBytes,
        what: spec.what,
      });
      if (!read.ok) return makeReport(spec.name, artifact, read.outcome, read.reason, read.message);
      try {
        const created = checkAge(read.annotations, maximumAgeMs, ctx.now);
        const j = spec.judge(read.bytes, read.layer);
        return makeReport(spec.name, artifact, j.outcome, j.reason, j.message, {
          ...j.details,
          ...(created ? { created } : {}),
        });
      } catch (err) {
        if (err instanceof ContentFailure)
          return makeReport(spec.name, artifact, 'failed', err.reason, `${spec.what}: ${err.message}`);
        throw err;
      }
    },
  };
}
