/**
 * Referrer discovery: the supply-chain artifacts attached to a subject, as a tree.
 *
 * Two schemas are read, concurrently for each subject (they cost separate round trips):
 * - OCI referrers (`Repository.referrers`: distribution-spec 1.1 Referrers API, falling back to
 *   the referrers tag schema `<alg>-<hex>`; in a layout, manifests with a `subject`);
 * - cosign's tag schema (`<alg>-<hex>.sig|.att|.sbom`), see cosign-tags.ts.
 * Artifacts of artifacts (a signature of an SBOM) are discovered to `depth` levels. Each digest
 * is expanded once per discovery, so a cycle (possible with tags) ends.
 */

import { createLimiter } from '../concurrency.js';
import type { Artifact, ArtifactKind, ArtifactSource } from '../engine/types.js';
import { VouchError } from '../errors.js';
import type { Descriptor, ReadonlyRepository, ReferrersListing } from '../registry/types.js';
import { findCosignArtifacts } from './cosign-tags.js';

/** How discovery proceeds; mechanics only (no trust or policy). */
export interface DiscoverOptions {
  /** Levels of nesting: 1 = artifacts of the subject only. Default 3. */
  readonly depth?: number;
  /**
   * Only artifacts of this type directly under the subject (passed to the Referrers API as its
   * filter). Nested artifacts are not filtered. cosign-tag artifacts carry no artifactType, so
   * they are left out when a filter is given.
   */
  readonly artifactType?: string;
  /** The deadline; every registry request stops when it aborts. */
  readonly signal?: AbortSignal;
  /** Also probe cosign's `.sig`/`.att`/`.sbom` tags (three requests per subject). Default true. */
  readonly cosignTags?: boolean;
  /** Most artifacts in the whole tree; more is an error (CONTENT_TOO_LARGE). Default 256. */
  readonly maxArtifacts?: number;
  /** Most registry requests in flight for this discovery. Default 8. */
  readonly concurrency?: number;
  /**
   * Whether to look for artifacts of this artifact (default: always, to `depth`). The engine
   * descends only below artifacts no verifier consumes (an SBOM, not a signature), which saves a
   * round trip per signature.
   */
  readonly descend?: (artifact: Artifact) => boolean;
}

export const DEFAULT_DISCOVERY_DEPTH = 3;
export const DEFAULT_MAX_ARTIFACTS = 256;
const DEFAULT_CONCURRENCY = 8;

/** A listing and the listings it carries (`also`), each descriptor with its listing's source. */
function listed(listing: ReferrersListing): Array<{ descriptor: Descriptor; source: ArtifactSource }> {
  return [
    ...listing.descriptors.map((descriptor) => ({ descriptor, source: listing.source })),
    ...(listing.also ? listed(listing.also) : []),
  ];
}

/**
 * Discovers the artifacts attached to `subject` in `repository`, nested to `options.depth`.
 * Returns [] when there are none. Throws (VouchError) when a lookup fails for any reason other
 * than "not found": discovery that could not look must not read as "nothing attached".
 */
export async function discoverArtifacts(
  repository: ReadonlyRepository,
  subject: Descriptor,
  options: DiscoverOptions = {},
): Promise<Artifact[]> {
  const depth = options.depth ?? DEFAULT_DISCOVERY_DEPTH;
  const maxArtifacts = options.maxArtifacts ?? DEFAULT_MAX_ARTIFACTS;
  const cosignTags = options.cosignTags ?? true;
  if (!Number.isInteger(depth) || depth < 0)
    throw new VouchError('USAGE', `discovery depth must be a whole number ≥ 0, got ${depth}`);
  const limit = createLimiter(options.concurrency ?? DEFAULT_CONCURRENCY);
  const signal = options.signal;
  const expanded = new Set<string>([subject.digest]);
  let count = 0;

  const claim = (digest: string): boolean => {
    if (expanded.has(digest)) return false;
    expanded.add(digest);
    count += 1;
    if (count > maxArtifacts) {
      throw new VouchError(
        'CONTENT_TOO_LARGE',
        `${subject.digest} in ${repository.name} has more than ${maxArtifacts} attached artifacts; discovery stopped`,
        { details: { limit: maxArtifacts } },
      );
    }
    return true;
  };

  const level = async (of: Descriptor, remaining: number, top: boolean): Promise<Artifact[]> => {
    signal?.throwIfAborted();
    const artifactType = top ? options.artifactType : undefined;
    const readOptions = {
      ...(signal ? { signal } : {}),
      ...(artifactType === undefined ? {} : { artifactType }),
    };
    const [referrers, cosign] = await Promise.all([
      limit(() => repository.referrers(of, readOptions)),
      cosignTags && artifactType === undefined
        ? findCosignArtifacts(repository, of.digest, signal, limit)
        : [],
    ]);
    const found: Array<{ descriptor: Descriptor; kind: ArtifactKind; source: ArtifactSource }> = [
      ...listed(referrers)
        .filter((r) => artifactType === undefined || r.descriptor.artifactType === artifactType)
        .map((r) => ({ ...r, kind: 'referrer' as const })),
      ...cosign.map((c) => ({ ...c, source: 'cosign-tag' as const })),
    ];
    const fresh = found.filter((f) => claim(f.descriptor.digest));
    return Promise.all(
      fresh.map(async (f) => {
        const artifact: Artifact = {
          descriptor: f.descriptor,
          kind: f.kind,
          source: f.source,
          referrers: [],
        };
        const deeper = remaining > 1 && (options.descend?.(artifact) ?? true);
        return deeper
          ? { ...artifact, referrers: await level(f.descriptor, remaining - 1, false) }
          : artifact;
      }),
    );
  };

  if (depth === 0) return [];
  return level(subject, depth, true);
}

/** Every artifact of a tree, depth first (parents before their referrers). */
export function flattenArtifacts(artifacts: readonly Artifact[]): Artifact[] {
  return artifacts.flatMap((a) => [a, ...flattenArtifacts(a.referrers)]);
}
