/**
 * Detached signatures presented to the verifiers as artifacts: a `Repository` over the image's own
 * repository (remote, layout, or none when offline) whose referrers are the local signature files,
 * each as the referrer manifest `vouch sign --upload-signatures` would push (same artifactType,
 * layers and annotations). The cosign and notation verifiers read them through the seam they read
 * registry signatures through, so the trust policy and the outcomes are the same; every blob is
 * still checked against the digest its manifest names.
 *
 * Placement: a file that names the image being verified (or names no image) is a referrer of it;
 * a file that names another digest is a referrer of that digest (a platform manifest of an index)
 * and also of the image, where its verifier fails it as a signature of another image.
 */
import { VouchError } from '../errors.js';
import { computeDigest, digestAlgorithm, isDigest } from '../reference/digest.js';
import { parseManifest } from '../registry/manifest.js';
import {
  type BlobReadOptions,
  type Descriptor,
  type FetchedManifest,
  MediaType,
  type PushManifestResult,
  type ReadOptions,
  type ReadonlyRepository,
  type ReferrersListing,
  type ReferrersOptions,
  type Repository,
} from '../registry/types.js';
import type { DetachedSignature } from './format.js';

export interface DetachedRepositoryOptions {
  /** Where the image itself is read from. */
  readonly base: ReadonlyRepository;
  readonly signatures: readonly DetachedSignature[];
  /** The digest of the image being verified. */
  readonly subjectDigest: string;
  /** Also list the registry's referrers and cosign tags (`--also-registry`). */
  readonly alsoRegistry: boolean;
}

/** The overlay, and which artifact digest stands for which signature file (reports name the digest). */
export interface DetachedRepository extends Repository {
  readonly files: ReadonlyArray<{ readonly path: string; readonly digest: string }>;
}

interface LocalArtifact {
  readonly path: string;
  readonly descriptor: Descriptor;
  readonly bytes: Uint8Array;
  readonly declared?: string;
}

const EMPTY_JSON = new TextEncoder().encode('{}');

/** The Repository the engine decides against when `--signature-path` is given. */
export function createDetachedRepository(options: DetachedRepositoryOptions): DetachedRepository {
  const { base, alsoRegistry, subjectDigest } = options;
  const emptyDigest = computeDigest(EMPTY_JSON);
  const blobs = new Map<string, Uint8Array[]>([[emptyDigest, [EMPTY_JSON]]]);
  const artifacts: LocalArtifact[] = options.signatures.map((s) => {
    const layers = s.signature.layers.map((layer, i) => {
      const declared = s.declaredLayers?.[i];
      const digest = declared?.digest ?? computeDigest(layer.bytes);
      blobs.set(digest, [...(blobs.get(digest) ?? []), layer.bytes]);
      return {
        mediaType: layer.mediaType,
        digest,
        size: declared?.size ?? layer.bytes.length,
        ...(layer.annotations ? { annotations: layer.annotations } : {}),
      };
    });
    const manifest = {
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      artifactType: s.signature.artifactType,
      config: { mediaType: MediaType.OciEmpty, digest: emptyDigest, size: EMPTY_JSON.length },
      layers,
      ...(s.signature.annotations ? { annotations: s.signature.annotations } : {}),
    };
    const bytes = new TextEncoder().encode(JSON.stringify(manifest));
    return {
      path: s.path,
      descriptor: {
        mediaType: MediaType.OciManifest,
        digest: computeDigest(bytes),
        size: bytes.length,
        artifactType: s.signature.artifactType,
        ...(s.signature.annotations ? { annotations: s.signature.annotations } : {}),
      },
      bytes,
      ...(s.subject ? { declared: s.subject.digest } : {}),
    };
  });
  const local = new Map(artifacts.map((a) => [a.descriptor.digest, a]));

  const localReferrers = (digest: string): Descriptor[] =>
    artifacts
      .filter((a) => a.declared === digest || (digest === subjectDigest && a.declared !== digest))
      .map((a) => a.descriptor);

  return {
    name: base.name,
    files: artifacts.map((a) => ({ path: a.path, digest: a.descriptor.digest })),
    async resolve(reference: string, opts?: ReadOptions): Promise<Descriptor> {
      const mine = local.get(reference);
      if (mine) return mine.descriptor;
      // cosign's `.sig`/`.att` tags are the registry's signatures: not read unless asked for
      if (!isDigest(reference) && !alsoRegistry)
        throw new VouchError(
          'REGISTRY_NOT_FOUND',
          `${reference}: registry tags are not read for detached signatures`,
        );
      return base.resolve(reference, opts);
    },
    async fetchManifest(reference: string | Descriptor, opts?: ReadOptions): Promise<FetchedManifest> {
      const digest = typeof reference === 'string' ? reference : reference.digest;
      const mine = local.get(digest);
      if (!mine) {
        if (typeof reference === 'string' && !isDigest(reference) && !alsoRegistry)
          throw new VouchError(
            'REGISTRY_NOT_FOUND',
            `${reference}: registry tags are not read for detached signatures`,
          );
        return base.fetchManifest(reference, opts);
      }
      const where = `detached signature ${digest}`;
      return {
        descriptor: mine.descriptor,
        bytes: mine.bytes,
        manifest: parseManifest(mine.bytes, MediaType.OciManifest, where),
      };
    },
    async fetchBlob(descriptor: Descriptor, opts: BlobReadOptions): Promise<Uint8Array> {
      const candidates = blobs.get(descriptor.digest);
      if (!candidates) return base.fetchBlob(descriptor, opts);
      if (descriptor.size > opts.maxBytes)
        throw new VouchError(
          'CONTENT_TOO_LARGE',
          `blob ${descriptor.digest} is ${descriptor.size} bytes, more than the limit of ${opts.maxBytes}`,
        );
      // as a registry's blob: the bytes must match the digest and size their descriptor names
      const match = candidates.find(
        (b) =>
          b.length === descriptor.size &&
          computeDigest(b, digestAlgorithm(descriptor.digest)) === descriptor.digest,
      );
      if (!match) {
        const actual = candidates[0] ? computeDigest(candidates[0]) : 'nothing';
        throw new VouchError(
          'CONTENT_DIGEST_MISMATCH',
          `the signature file's content (${actual}) does not match the digest its descriptor records (${descriptor.digest})`,
        );
      }
      return match;
    },
    async referrers(subject: Descriptor | string, opts?: ReferrersOptions): Promise<ReferrersListing> {
      const digest = typeof subject === 'string' ? subject : subject.digest;
      const mine = localReferrers(digest).filter(
        (d) => opts?.artifactType === undefined || d.artifactType === opts.artifactType,
      );
      if (!alsoRegistry) return { descriptors: mine, source: 'detached' };
      const remote = await base.referrers(subject, opts);
      const without = (l: ReferrersListing): ReferrersListing => ({
        descriptors: l.descriptors.filter((d) => !local.has(d.digest)),
        source: l.source,
        ...(l.also ? { also: without(l.also) } : {}),
      });
      return { descriptors: mine, source: 'detached', also: without(remote) };
    },
    async listTags(opts?: ReadOptions): Promise<string[]> {
      return alsoRegistry && base.listTags ? base.listTags(opts) : [];
    },
    async pushBlob(): Promise<Descriptor> {
      throw new VouchError('USAGE', 'detached signatures are read-only');
    },
    async pushManifest(): Promise<PushManifestResult> {
      throw new VouchError('USAGE', 'detached signatures are read-only');
    },
  };
}

/**
 * The repository of an image verified `--offline`: nothing is read from a registry. Whatever a
 * verifier would still need from it (the manifest bytes a message-signature bundle signs, an
 * index's platforms) cannot be had, and says so (inconclusive: could not complete).
 */
export function createOfflineRepository(name: string): Repository {
  const refuse = async (): Promise<never> => {
    throw new VouchError('REGISTRY_UNREACHABLE', `--offline: ${name} is not contacted`);
  };
  return {
    name,
    resolve: refuse,
    fetchManifest: refuse,
    fetchBlob: refuse,
    referrers: refuse,
    pushBlob: refuse,
    pushManifest: refuse,
  };
}

/**
 * The subject descriptor of an image verified `--offline` by digest: its media type and size come
 * from a notation descriptor file that names the digest (notation signs them), else it is taken
 * as an OCI image manifest of unknown size (cosign signs the digest alone).
 */
export function offlineSubjectDescriptor(
  digest: string,
  signatures: readonly DetachedSignature[],
): Descriptor {
  const named = signatures.find(
    (s) => s.subject?.digest === digest && s.subject.mediaType !== undefined && s.subject.size !== undefined,
  )?.subject;
  return {
    mediaType: named?.mediaType ?? MediaType.OciManifest,
    digest,
    size: named?.size ?? 0,
  };
}
