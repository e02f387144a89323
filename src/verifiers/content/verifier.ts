/**
 * The shape both content verifiers share: accept artifacts by type, ask the engine for the
 * document's one layer (`contentNeeds`), check its age, and let the format's `judge` decide over
 * the bytes.
 * Whether the report is signed is decided by the engine over the referrer tree (`signedBy`).
 */
import { createHash } from 'node:crypto';
import { artifactFacts, makeReport } from '../../engine/reports.js';
import type { Artifact, ExternalDocument, Outcome, Report, Verifier } from '../../engine/types.js';
import type { Descriptor } from '../../registry/types.js';
import { CREATED_ANNOTATION, checkAge, parseMaximumAge } from './age.js';
import { contentAnnotations, contentNeeds } from './artifact.js';
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
  /** Types of documents from outside the registry judged (`judgeDocument`); default `mediaTypes`. */
  readonly documentTypes?: readonly string[];
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
  const documentTypes = new Set(spec.documentTypes ?? spec.mediaTypes);
  /** The age check and the format's judgement, the same for attached and external documents. */
  const weigh = (
    artifact: Report['artifact'],
    bytes: Uint8Array,
    layer: Descriptor,
    annotations: Readonly<Record<string, string>> | undefined,
    now: Date,
    extra: Record<string, unknown> = {},
  ): Report => {
    const report = (outcome: Outcome, reason: string, message: string, details: Record<string, unknown>) => ({
      verifier: spec.name,
      artifact,
      outcome,
      reason,
      message,
      details: { ...details, ...extra },
      nested: [],
    });
    try {
      const created = checkAge(annotations, maximumAgeMs, now);
      const j = spec.judge(bytes, layer);
      return report(j.outcome, j.reason, j.message, { ...j.details, ...(created ? { created } : {}) });
    } catch (err) {
      if (err instanceof ContentFailure)
        return report('failed', err.reason, `${spec.what}: ${err.message}`, {});
      throw err;
    }
  };
  return {
    name: spec.name,
    generation,
    signedBy: spec.signedBy,
    accepts(artifact: Artifact) {
      const type = artifact.descriptor.artifactType;
      return type !== undefined && accepted.has(type.split(';')[0]?.trim().toLowerCase() ?? '');
    },
    reads: (_subject, artifact) =>
      contentNeeds(artifact, { mediaTypes: spec.mediaTypes, maxBytes: spec.maxBytes, what: spec.what }),
    async verify(_subject, artifact, content, ctx): Promise<Report> {
      const layer = content.layers[0];
      if (!layer)
        return makeReport(spec.name, artifact, 'failed', 'malformed', `${spec.what}: no document layer`);
      const annotations = contentAnnotations(artifact, content);
      return weigh(artifactFacts(artifact), layer.bytes, layer.descriptor, annotations, ctx.now);
    },
    judgeDocument(document: ExternalDocument, ctx): Report | undefined {
      const type = document.descriptor.artifactType;
      if (!documentTypes.has(type)) return undefined;
      const artifact = { ...document.descriptor };
      const source = { source: document.source };
      if (document.bytes.byteLength > spec.maxBytes)
        return {
          verifier: spec.name,
          artifact,
          outcome: 'failed',
          reason: 'too-large',
          message: `${spec.what}: ${document.bytes.byteLength} bytes, over the ${spec.maxBytes}-byte limit`,
          details: source,
          nested: [],
        };
      const layer: Descriptor = {
        mediaType: type,
        digest: document.descriptor.digest,
        size: document.bytes.byteLength,
      };
      const annotations = document.created ? { [CREATED_ANNOTATION]: document.created } : undefined;
      return weigh(artifact, document.bytes, layer, annotations, ctx.now, source);
    },
  };
}
