/**
 * The Registry seam: everything above this layer reads and writes content through a
 * `Repository`, whether it lives in a remote OCI registry or in an OCI image layout on disk.
 * Every byte a Repository returns has had its digest (and size) checked against the
 * descriptor that named it.
 */

/** OCI content descriptor (image-spec 1.1 `descriptor.md`). */
export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly artifactType?: string;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly urls?: readonly string[];
  readonly platform?: Readonly<Record<string, unknown>>;
}

/** Well-known media types. */
export const MediaType = {
  OciManifest: 'application/vnd.oci.image.manifest.v1+json',
  OciIndex: 'application/vnd.oci.image.index.v1+json',
  DockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  DockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  DockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  DockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  OciEmpty: 'application/vnd.oci.empty.v1+json',
  OciConfig: 'application/vnd.oci.image.config.v1+json',
} as const;

/** An image or artifact manifest (OCI image manifest or Docker v2 schema 2), parsed and validated. */
export interface ImageManifest {
  readonly kind: 'manifest';
  readonly schemaVersion: 2;
  readonly mediaType: string;
  readonly artifactType?: string;
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
  readonly subject?: Descriptor;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** An OCI image index or Docker manifest list, parsed and validated. */
export interface ImageIndex {
  readonly kind: 'index';
  readonly schemaVersion: 2;
  readonly mediaType: string;
  readonly artifactType?: string;
  readonly manifests: readonly Descriptor[];
  readonly subject?: Descriptor;
  readonly annotations?: Readonly<Record<string, string>>;
}

export type Manifest = ImageManifest | ImageIndex;

/** A manifest as fetched: its descriptor (digest checked), the exact bytes, and the parsed form. */
export interface FetchedManifest {
  readonly descriptor: Descriptor;
  readonly bytes: Uint8Array;
  readonly manifest: Manifest;
}

/** Options every read takes. */
export interface ReadOptions {
  /** The caller's deadline; every request and retry stops when it aborts. */
  readonly signal?: AbortSignal;
}

export interface BlobReadOptions extends ReadOptions {
  /** Largest body accepted, enforced while streaming. Required: nothing reads without a limit. */
  readonly maxBytes: number;
}

export interface ReferrersOptions extends ReadOptions {
  /** Only referrers with this artifactType (filtered by the registry when it can, else locally). */
  readonly artifactType?: string;
}

export interface PushManifestOptions extends ReadOptions {
  /** Tag to push under; without it the manifest is pushed by digest. */
  readonly tag?: string;
}

export interface PushManifestResult {
  readonly descriptor: Descriptor;
  /**
   * True when the store indexed the manifest's `subject` itself (a registry answering with
   * `OCI-Subject`, or a layout store); false means the caller must maintain the referrers
   * tag schema index.
   */
  readonly subjectIndexed: boolean;
}

/** How a store found the referrers it lists. */
export type ReferrersSource =
  /** OCI distribution-spec 1.1 Referrers API (`GET /v2/<name>/referrers/<digest>`). */
  | 'referrers-api'
  /** the referrers tag schema (`<alg>-<hex>` holding an index), on a registry without the API */
  | 'referrers-tag'
  /** manifests with a `subject` in an OCI image layout's index.json */
  | 'layout'
  /** detached signature files given on the command line (`--signature-path`) */
  | 'detached';

/** The referrers of one subject, and how they were found. */
export interface ReferrersListing {
  readonly descriptors: readonly Descriptor[];
  readonly source: ReferrersSource;
  /**
   * Referrers found another way for the same call, listed after these: a store over another
   * (detached signatures `--also-registry`) gives the underlying store's listing here.
   */
  readonly also?: ReferrersListing;
}

/**
 * The reading side of a repository: what discovery and verification use. Verifiers and the
 * engine are typed against it, so nothing on the verification path can push.
 */
export interface ReadonlyRepository {
  /** Human-readable location, e.g. `127.0.0.1:5000/app` or `oci:/path/to/layout`. */
  readonly name: string;

  /** Resolves a tag or digest to the descriptor of its manifest. */
  resolve(reference: string, options?: ReadOptions): Promise<Descriptor>;

  /** Fetches a manifest by tag, digest or descriptor; digest and size are checked, max 4 MiB. */
  fetchManifest(reference: string | Descriptor, options?: ReadOptions): Promise<FetchedManifest>;

  /** Fetches a blob; its digest and size are checked against `descriptor` before return. */
  fetchBlob(descriptor: Descriptor, options: BlobReadOptions): Promise<Uint8Array>;

  /**
   * Lists the manifests whose `subject` is `subject` (OCI distribution 1.1 Referrers API,
   * falling back to the referrers tag schema), and which mechanism answered. No referrers is an
   * empty listing.
   */
  referrers(subject: Descriptor | string, options?: ReferrersOptions): Promise<ReferrersListing>;

  /** Lists tags (used for the cosign tag schema only where resolve is not enough). */
  listTags?(options?: ReadOptions): Promise<string[]>;
}

/** One repository of a registry, or one OCI image layout: reads, and the push side signers use. */
export interface Repository extends ReadonlyRepository {
  /** Uploads a blob unless already present; returns its descriptor. */
  pushBlob(bytes: Uint8Array, mediaType: string, options?: ReadOptions): Promise<Descriptor>;

  /** Uploads a manifest (by digest, and tagged when `options.tag` is given). */
  pushManifest(
    bytes: Uint8Array,
    mediaType: string,
    options?: PushManifestOptions,
  ): Promise<PushManifestResult>;
}

/** Largest manifest vouch reads (OCI distribution spec recommends registries accept at least 4 MiB). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
