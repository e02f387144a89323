/**
 * Reads a content artifact (a vulnerability report, an SBOM) the one way both content verifiers
 * need: its manifest, the check that it is attached to the image being decided, the one layer of
 * an accepted media type, and that layer's bytes within a size limit (digest checked by the
 * Repository). Registry faults are classified by the engine's one table.
 */
import { classifyFetchError } from '../../engine/classify.js';
import type { Artifact, Outcome, Subject, VerifyContext } from '../../engine/types.js';
import type { Descriptor } from '../../registry/types.js';

export const DEFAULT_MAX_CONTENT_BYTES = 64 * 1024 * 1024;

export type ContentRead =
  | {
      readonly ok: true;
      readonly bytes: Uint8Array;
      readonly layer: Descriptor;
      /** Manifest annotations over the referrers listing's (the manifest is what was digest-checked). */
      readonly annotations: Readonly<Record<string, string>>;
    }
  | {
      readonly ok: false;
      readonly outcome: Exclude<Outcome, 'verified'>;
      readonly reason: string;
      readonly message: string;
    };

export async function readContentArtifact(
  subject: Subject,
  artifact: Artifact,
  ctx: VerifyContext,
  accept: { readonly mediaTypes: readonly string[]; readonly maxBytes: number; readonly what: string },
): Promise<ContentRead> {
  const fail = (reason: string, message: string): ContentRead => ({
    ok: false,
    outcome: 'failed',
    reason,
    message,
  });
  try {
    const { manifest } = await ctx.repository.fetchManifest(artifact.descriptor, { signal: ctx.signal });
    if (manifest.kind !== 'manifest')
      return fail('malformed', `the ${accept.what} artifact is an index, not a manifest`);
    // a report attached to another image must not count for this one (a copied referrer)
    if (
      artifact.kind === 'referrer' &&
      manifest.subject &&
      manifest.subject.digest !== subject.descriptor.digest
    )
      return fail(
        'subject-mismatch',
        `the ${accept.what} is attached to ${manifest.subject.digest}, not to ${subject.descriptor.digest}`,
      );
    const base = (mt: string) => mt.split(';')[0]?.trim().toLowerCase() ?? '';
    const layers = manifest.layers.filter((l) => accept.mediaTypes.includes(base(l.mediaType)));
    if (layers.length !== 1)
      return fail(
        layers.length === 0 ? 'media-type-mismatch' : 'malformed',
        layers.length === 0
          ? `the ${accept.what} artifact has no layer of type ${accept.mediaTypes.join(' or ')} (layers: ${manifest.layers.map((l) => l.mediaType).join(', ') || 'none'})`
          : `the ${accept.what} artifact has ${layers.length} layers of type ${accept.mediaTypes.join(' or ')}; exactly one is read`,
      );
    const layer = layers[0] as Descriptor;
    if (layer.size > accept.maxBytes)
      return fail(
        'too-large',
        `the ${accept.what} is ${layer.size} bytes, more than the ${accept.maxBytes} allowed`,
      );
    const bytes = await ctx.repository.fetchBlob(layer, { maxBytes: accept.maxBytes, signal: ctx.signal });
    return {
      ok: true,
      bytes,
      layer,
      annotations: { ...(artifact.descriptor.annotations ?? {}), ...(manifest.annotations ?? {}) },
    };
  } catch (err) {
    const c = classifyFetchError(err, ctx.signal);
    return {
      ok: false,
      outcome: c.outcome,
      reason: c.reason,
      message: `could not read the ${accept.what}: ${c.message}`,
    };
  }
}
