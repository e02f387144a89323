/**
 * What both content verifiers (a vulnerability report, an SBOM) read of a content artifact, as
 * needs the engine fulfils (src/engine/run.ts): the manifest, attached to the image being decided
 * when it is a referrer, and its one layer of an accepted media type within a size limit (digest
 * checked). Registry faults are classified by the engine's one table.
 */
import type { Artifact, ArtifactContent, ArtifactNeeds } from '../../engine/types.js';

export const DEFAULT_MAX_CONTENT_BYTES = 64 * 1024 * 1024;

const base = (mt: string) => mt.split(';')[0]?.trim().toLowerCase() ?? '';

export function contentNeeds(
  artifact: Artifact,
  accept: { readonly mediaTypes: readonly string[]; readonly maxBytes: number; readonly what: string },
): ArtifactNeeds {
  return {
    what: `the ${accept.what}`,
    layers: {
      mediaTypes: accept.mediaTypes,
      matches: (mt) => accept.mediaTypes.includes(base(mt)),
      count: 'one',
      maxBytes: accept.maxBytes,
    },
    // a report attached to another image must not count for this one (a copied referrer)
    ...(artifact.kind === 'referrer' ? { subjectMismatch: 'subject-mismatch' } : {}),
  };
}

/** Manifest annotations over the referrers listing's (the manifest is what was digest-checked). */
export function contentAnnotations(artifact: Artifact, content: ArtifactContent): Record<string, string> {
  return { ...(artifact.descriptor.annotations ?? {}), ...(content.manifest.annotations ?? {}) };
}
