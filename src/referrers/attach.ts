/**
 * Attaching an artifact to a subject (image-spec 1.1 § Guidelines for artifact usage;
 * distribution-spec 1.1 § Pushing Manifests with Subject): an image manifest with
 * `artifactType`, the empty config unless one is given, the caller's layers and a `subject`.
 * When the store does not index the subject itself (a registry without the Referrers API), the
 * referrers tag schema index is updated too, as `oras attach` does. Signers of every format call
 * this.
 */
import { VouchError } from '../errors.js';
import { validateDigest } from '../reference/digest.js';
import { type Descriptor, MediaType, type Repository } from '../registry/types.js';
import { addToReferrersIndex } from './tag-schema.js';

/** The empty JSON object, the config of an artifact without one (image-spec § Empty Descriptor). */
const EMPTY_JSON = new TextEncoder().encode('{}');

/** What to attach. */
export interface AttachOptions {
  /** The manifest the artifact refers to (its mediaType, digest and size are recorded). */
  readonly subject: Descriptor;
  /** The artifact's type, e.g. `application/vnd.cncf.notary.signature`. */
  readonly artifactType: string;
  /** The artifact's blobs, in order; none means one empty-descriptor layer. */
  readonly layers: ReadonlyArray<{
    readonly bytes: Uint8Array;
    readonly mediaType: string;
    readonly annotations?: Record<string, string>;
  }>;
  /** Manifest annotations (e.g. `org.opencontainers.image.created`). */
  readonly annotations?: Record<string, string>;
  /** A config blob; default the empty JSON `{}` as `application/vnd.oci.empty.v1+json`. */
  readonly config?: { readonly bytes: Uint8Array; readonly mediaType: string };
  readonly signal?: AbortSignal;
}

/**
 * Pushes the artifact's blobs and manifest to `repository` and makes it discoverable as a
 * referrer of `options.subject`. Returns the artifact manifest's descriptor (with
 * `artifactType` and the manifest annotations, as a referrers listing describes it).
 */
export async function attachArtifact(repository: Repository, options: AttachOptions): Promise<Descriptor> {
  const { subject, artifactType, signal } = options;
  if (artifactType.trim() === '')
    throw new VouchError('USAGE', 'attachArtifact needs a non-empty artifactType');
  validateDigest(subject.digest);
  const readOptions = signal ? { signal } : {};
  const config = options.config ?? { bytes: EMPTY_JSON, mediaType: MediaType.OciEmpty };
  const [configDescriptor, ...layerDescriptors] = await Promise.all([
    repository.pushBlob(config.bytes, config.mediaType, readOptions),
    ...options.layers.map(async (layer) => {
      const pushed = await repository.pushBlob(layer.bytes, layer.mediaType, readOptions);
      return layer.annotations ? { ...pushed, annotations: layer.annotations } : pushed;
    }),
  ]);
  if (configDescriptor === undefined) throw new VouchError('INTERNAL', 'config push returned nothing');
  let layers = layerDescriptors;
  if (layers.length === 0) {
    layers = [
      configDescriptor.mediaType === MediaType.OciEmpty
        ? configDescriptor
        : await repository.pushBlob(EMPTY_JSON, MediaType.OciEmpty, readOptions),
    ];
  }
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    artifactType,
    config: plain(configDescriptor),
    layers: layers.map((l) => ({ ...plain(l), ...(l.annotations ? { annotations: l.annotations } : {}) })),
    subject: plain(subject),
    ...(options.annotations && Object.keys(options.annotations).length > 0
      ? { annotations: options.annotations }
      : {}),
  };
  const bytes = new TextEncoder().encode(JSON.stringify(manifest));
  const { descriptor, subjectIndexed } = await repository.pushManifest(
    bytes,
    MediaType.OciManifest,
    readOptions,
  );
  const artifact: Descriptor = {
    mediaType: MediaType.OciManifest,
    digest: descriptor.digest,
    size: descriptor.size,
    artifactType,
    ...(manifest.annotations ? { annotations: manifest.annotations } : {}),
  };
  if (!subjectIndexed) await addToReferrersIndex(repository, subject.digest, artifact, signal);
  return artifact;
}

/** mediaType, digest and size only: what a manifest records of another descriptor. */
function plain(d: Descriptor): Descriptor {
  return { mediaType: d.mediaType, digest: d.digest, size: d.size };
}
