/**
 * The engine fetches, verifiers decide: one verifier run on one artifact. The verifier says what
 * it needs (`Verifier.reads`); this module reads the artifact's manifest and the chosen layers
 * through the read-only repository (digest and size checked by the store), refuses what does not
 * fit the needs with a named reason, classifies every registry or transport error once
 * (classify.ts), and hands the bytes to `Verifier.verify`. A throw or the deadline becomes an
 * inconclusive report.
 */
import type { Descriptor, FetchedManifest, ImageManifest, ReadonlyRepository } from '../registry/types.js';
import { MEDIA_TYPE_MISMATCH } from './classify.js';
import { makeReport, reportFromError, reportFromFetchError } from './reports.js';
import type {
  Artifact,
  ArtifactContent,
  ArtifactNeeds,
  Report,
  RunContext,
  Verifier,
  VerifierSubject,
  VerifyContext,
} from './types.js';

/**
 * A registry read made for a verifier beyond its artifact (`VerifyContext.readSubjectManifest`)
 * that failed: the engine reports it through the one table, as a failed read of the artifact.
 */
export class ArtifactReadError extends Error {
  constructor(
    readonly what: string,
    override readonly cause: unknown,
  ) {
    super(`could not read ${what}`);
    this.name = 'ArtifactReadError';
  }
}

/** The `VerifyContext` of a run against `subject` (its manifest read on demand, errors marked). */
export function verifyContext(
  repository: ReadonlyRepository,
  subject: Pick<VerifierSubject, 'descriptor'>,
  ctx: Omit<RunContext, 'repository'>,
): VerifyContext {
  let manifest: Promise<FetchedManifest> | undefined;
  return {
    signal: ctx.signal,
    cache: ctx.cache,
    now: ctx.now,
    logger: ctx.logger,
    readSubjectManifest() {
      manifest ??= repository.fetchManifest(subject.descriptor, { signal: ctx.signal }).catch((err) => {
        throw new ArtifactReadError('the image manifest', err);
      });
      return manifest;
    },
  };
}

/** A refusal of the artifact the verifier cannot read as it asked: failed, with `reason`. */
class Refused extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/** The layers of `manifest` that `needs` chooses; throws Refused when they do not fit. */
function chooseLayers(
  manifest: ImageManifest,
  needs: ArtifactNeeds,
): { layers: Descriptor[]; maxBytes: number } {
  const what = needs.what;
  const wanted = typeof needs.layers === 'function' ? needs.layers(manifest) : needs.layers;
  if (wanted.totalLayers !== undefined && manifest.layers.length !== wanted.totalLayers)
    throw new Refused(
      'malformed',
      `${what} manifest must have exactly ${wanted.totalLayers} layer(s); it has ${manifest.layers.length}`,
    );
  const matches = wanted.matches ?? ((mt: string) => wanted.mediaTypes.includes(mt));
  const all = manifest.layers.filter((l) => matches(l.mediaType));
  const types = wanted.mediaTypes.join(' or ');
  if (all.length === 0)
    throw new Refused(
      MEDIA_TYPE_MISMATCH.reason,
      `${what} has no layer of type ${types} (layers: ${manifest.layers.map((l) => l.mediaType).join(', ') || 'none'})`,
    );
  let layers = all;
  if (wanted.count === 'first') layers = all.slice(0, 1);
  else if (wanted.count === 'one' && all.length > 1)
    throw new Refused('malformed', `${what} has ${all.length} layers of type ${types}; exactly one is read`);
  else if (typeof wanted.count === 'object' && all.length > wanted.count.max)
    throw new Refused(
      'malformed',
      `${what} has ${all.length} layers of type ${types} (at most ${wanted.count.max})`,
    );
  for (const l of layers)
    if (l.size > wanted.maxBytes)
      throw new Refused('too-large', `${what} is ${l.size} bytes, more than the ${wanted.maxBytes} allowed`);
  return { layers, maxBytes: wanted.maxBytes };
}

/** `report` with the needs' own details added (a verifier's scope facts, shown also on refusals). */
const withNeedsDetails = (report: Report, needs: ArtifactNeeds | undefined): Report =>
  needs?.details ? { ...report, details: { ...report.details, ...needs.details } } : report;

/**
 * Reads `artifact` as `needs` asks: its manifest (an image manifest, attached to `subject` when
 * it names a subject), then the chosen layers, concurrently. A Report when it cannot.
 */
export async function readArtifact(
  verifier: string,
  repository: ReadonlyRepository,
  subject: Pick<VerifierSubject, 'descriptor'>,
  artifact: Artifact,
  needs: ArtifactNeeds,
  signal: AbortSignal,
): Promise<ArtifactContent | Report> {
  try {
    const { manifest } = await repository.fetchManifest(artifact.descriptor, { signal });
    if (manifest.kind !== 'manifest')
      throw new Refused('malformed', `${needs.what} is an index, not an image manifest`);
    if (
      needs.subjectMismatch !== undefined &&
      manifest.subject &&
      manifest.subject.digest !== subject.descriptor.digest
    )
      throw new Refused(
        needs.subjectMismatch,
        `${needs.what} is attached to ${manifest.subject.digest}, not to ${subject.descriptor.digest}`,
      );
    const { layers, maxBytes } = chooseLayers(manifest, needs);
    const read = await Promise.all(
      layers.map(async (descriptor) => ({
        descriptor,
        bytes: await repository.fetchBlob(descriptor, { maxBytes, signal }),
      })),
    );
    return { manifest, layers: read };
  } catch (err) {
    if (err instanceof Refused)
      return withNeedsDetails(makeReport(verifier, artifact, 'failed', err.reason, err.message), needs);
    return withNeedsDetails(reportFromFetchError(verifier, artifact, err, signal, needs.what), needs);
  }
}

const isReport = (x: ArtifactContent | ArtifactNeeds | Report): x is Report => 'outcome' in x;

/**
 * Runs `verifier` on `artifact` of `subject` the one way the engine, the Ratify plugin and the
 * tests do: its needs read, then its verdict; a throw or the deadline becomes an inconclusive
 * report, a failed read beyond the artifact (`readSubjectManifest`) the table's answer.
 */
export async function verifyArtifact(
  verifier: Verifier,
  subject: VerifierSubject,
  artifact: Artifact,
  ctx: RunContext,
): Promise<Report> {
  const { signal } = ctx;
  if (signal.aborted) return reportFromError(verifier.name, artifact, signal.reason, signal);
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  let needs: ArtifactNeeds | undefined;
  try {
    const run = async (): Promise<Report> => {
      const plan = verifier.reads(subject, artifact);
      if (isReport(plan)) return plan;
      needs = plan;
      const content = await readArtifact(verifier.name, ctx.repository, subject, artifact, plan, signal);
      if (isReport(content)) return content;
      return verifier.verify(subject, artifact, content, verifyContext(ctx.repository, subject, ctx));
    };
    return await Promise.race([run(), aborted]);
  } catch (err) {
    if (err instanceof ArtifactReadError && !signal.aborted) {
      return withNeedsDetails(
        reportFromFetchError(verifier.name, artifact, err.cause, signal, err.what),
        needs,
      );
    }
    ctx.logger.warn(
      { verifier: verifier.name, artifact: artifact.descriptor.digest, err: String(err) },
      'verifier failed',
    );
    return reportFromError(verifier.name, artifact, err, signal);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}
