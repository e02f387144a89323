/**
 * The OCI image layout store: the Repository seam over a directory laid out per image-spec 1.1
 * `image-layout.md` (`oci-layout`, `index.json`, `blobs/<alg>/<hex>`). Tags are the
 * `org.opencontainers.image.ref.name` annotations of index.json entries (annotations.md).
 * Artifacts carrying a `subject` are kept in index.json too, so `referrers` finds them by
 * scanning it (image-layout.md allows any manifest there; oras-go's OCI store does the same).
 */

import { mkdir } from 'node:fs/promises';
import { join, resolve as resolvePath } from 'node:path';
import { VouchError } from '../../errors.js';
import type { LayoutReference } from '../../reference/types.js';
import { artifactTypeOf, INDEX_MEDIA_TYPES, MANIFEST_MEDIA_TYPES, parseManifest } from '../manifest.js';
import {
  type BlobReadOptions,
  type Descriptor,
  type FetchedManifest,
  MAX_MANIFEST_BYTES,
  type Manifest,
  type PushManifestOptions,
  type PushManifestResult,
  type ReadOptions,
  type ReferrersListing,
  type ReferrersOptions,
  type Repository,
} from '../types.js';
import { checkDigest, digestOf, splitDigest } from './digest.js';
import { ensureLayout, exists, isMissing, readBounded, serialized, writeAtomic } from './files.js';
import { type LayoutIndex, readLayoutIndex, writeLayoutIndex } from './layout-index.js';

/** The annotation that names a tag in index.json (image-spec annotations.md § Pre-Defined Annotation Keys). */
export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';

/** Tag grammar of the distribution spec (`[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`). */
const TAG_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

/** Parsed manifests are content-addressed, so they can be kept; this bounds how many. */
const MANIFEST_CACHE_ENTRIES = 512;

/** A Repository over one OCI image layout directory. */
export class LayoutRepository implements Repository {
  readonly name: string;
  readonly dir: string;
  private readonly manifests = new Map<string, Manifest>();

  constructor(dir: string) {
    this.dir = resolvePath(dir);
    this.name = `oci:${dir}`;
  }

  /** Resolves a tag (index.json ref.name annotation) or a digest to its manifest descriptor. */
  async resolve(reference: string, options: ReadOptions = {}): Promise<Descriptor> {
    const index = await readLayoutIndex(this.dir, options.signal);
    if (reference.includes(':')) {
      splitDigest(reference);
      const entry = index.entries.find((e) => e.descriptor.digest === reference);
      if (entry) return plainDescriptor(entry.descriptor);
      const fetched = await this.readManifestBlob(reference, undefined, undefined, options.signal);
      return plainDescriptor(fetched.descriptor, artifactTypeOf(fetched.manifest));
    }
    if (!TAG_PATTERN.test(reference)) {
      throw new VouchError('REFERENCE_INVALID', `"${reference}" is not a valid tag or digest`);
    }
    const entry = index.entries.findLast(
      (e) => e.descriptor.annotations?.[REF_NAME_ANNOTATION] === reference,
    );
    if (!entry) throw new VouchError('REGISTRY_NOT_FOUND', `tag "${reference}" not found in ${this.name}`);
    return plainDescriptor(entry.descriptor);
  }

  /** Reads a manifest by tag, digest or descriptor; size (≤ 4 MiB) and digest are checked. */
  async fetchManifest(reference: string | Descriptor, options: ReadOptions = {}): Promise<FetchedManifest> {
    const descriptor = typeof reference === 'string' ? await this.resolve(reference, options) : reference;
    return this.readManifestBlob(descriptor.digest, descriptor.mediaType, descriptor.size, options.signal);
  }

  /** Reads a blob; its size and digest are checked against the descriptor before return. */
  async fetchBlob(descriptor: Descriptor, options: BlobReadOptions): Promise<Uint8Array> {
    if (descriptor.size > options.maxBytes) {
      throw new VouchError(
        'CONTENT_TOO_LARGE',
        `blob ${descriptor.digest} is ${descriptor.size} bytes, more than the limit of ${options.maxBytes}`,
      );
    }
    return this.readBlob(descriptor.digest, descriptor.size, options.maxBytes, options.signal);
  }

  /**
   * Lists the manifests in index.json whose `subject` is `subject`, each described with its
   * `artifactType` (else config media type) and annotations, as the Referrers API would
   * (distribution-spec 1.1 § Listing Referrers).
   */
  async referrers(subject: Descriptor | string, options: ReferrersOptions = {}): Promise<ReferrersListing> {
    const subjectDigest = typeof subject === 'string' ? subject : subject.digest;
    splitDigest(subjectDigest);
    const index = await readLayoutIndex(this.dir, options.signal);
    const seen = new Set<string>();
    const candidates = index.entries
      .map((e) => e.descriptor)
      .filter((d) => {
        if (
          seen.has(d.digest) ||
          !(MANIFEST_MEDIA_TYPES.has(d.mediaType) || INDEX_MEDIA_TYPES.has(d.mediaType))
        ) {
          return false;
        }
        seen.add(d.digest);
        return d.digest !== subjectDigest;
      });
    const found: Descriptor[] = [];
    for (const descriptor of candidates) {
      const { manifest } = await this.readManifestBlob(
        descriptor.digest,
        descriptor.mediaType,
        descriptor.size,
        options.signal,
      );
      if (manifest.subject?.digest !== subjectDigest) continue;
      const artifactType = artifactTypeOf(manifest);
      if (options.artifactType !== undefined && artifactType !== options.artifactType) continue;
      found.push({
        mediaType: descriptor.mediaType,
        digest: descriptor.digest,
        size: descriptor.size,
        ...(artifactType === undefined ? {} : { artifactType }),
        ...(manifest.annotations === undefined ? {} : { annotations: manifest.annotations }),
      });
    }
    return { descriptors: found, source: 'layout' };
  }

  /** The tags of this layout, in index.json order. */
  async listTags(options: ReadOptions = {}): Promise<string[]> {
    const index = await readLayoutIndex(this.dir, options.signal);
    const tags = index.entries.flatMap((e) => e.descriptor.annotations?.[REF_NAME_ANNOTATION] ?? []);
    return [...new Set(tags)];
  }

  /** Writes a blob under `blobs/sha256/` unless present; creates the layout when missing. */
  async pushBlob(bytes: Uint8Array, mediaType: string, options: ReadOptions = {}): Promise<Descriptor> {
    options.signal?.throwIfAborted();
    await ensureLayout(this.dir);
    const digest = digestOf(bytes);
    await this.writeBlob(digest, bytes);
    return { mediaType, digest, size: bytes.byteLength };
  }

  /**
   * Writes a manifest blob and lists it in index.json: under `options.tag` (replacing the
   * tag's previous entry), or untagged so that `referrers` can find it by its `subject`.
   */
  async pushManifest(
    bytes: Uint8Array,
    mediaType: string,
    options: PushManifestOptions = {},
  ): Promise<PushManifestResult> {
    options.signal?.throwIfAborted();
    if (options.tag !== undefined && !TAG_PATTERN.test(options.tag)) {
      throw new VouchError('REFERENCE_INVALID', `"${options.tag}" is not a valid tag`);
    }
    const manifest = parseManifest(bytes, mediaType, 'manifest to push');
    if (manifest.mediaType !== mediaType) {
      throw new VouchError(
        'MANIFEST_INVALID',
        `manifest to push says mediaType ${manifest.mediaType} but is pushed as ${mediaType}`,
      );
    }
    await ensureLayout(this.dir);
    const digest = digestOf(bytes);
    await this.writeBlob(digest, bytes);
    const descriptor: Descriptor = {
      mediaType,
      digest,
      size: bytes.byteLength,
      ...(manifest.artifactType === undefined ? {} : { artifactType: manifest.artifactType }),
    };
    this.remember(digest, manifest);
    await serialized(this.dir, async () => {
      const index = await readLayoutIndex(this.dir, options.signal);
      writeEntry(index, descriptor, options.tag);
      await writeLayoutIndex(this.dir, index);
    });
    return { descriptor, subjectIndexed: true };
  }

  private blobPath(digest: string): string {
    const { algorithm, hex } = splitDigest(digest);
    return join(this.dir, 'blobs', algorithm, hex);
  }

  private async writeBlob(digest: string, bytes: Uint8Array): Promise<void> {
    const path = this.blobPath(digest);
    if (await exists(path)) return;
    await mkdir(join(path, '..'), { recursive: true });
    await writeAtomic(path, bytes);
  }

  private async readBlob(
    digest: string,
    size: number | undefined,
    limit: number,
    signal?: AbortSignal,
  ): Promise<Uint8Array> {
    const path = this.blobPath(digest);
    let bytes: Uint8Array;
    try {
      bytes = await readBounded(path, limit, `blob ${digest} in ${this.name}`, signal);
    } catch (err) {
      if (isMissing(err)) throw new VouchError('REGISTRY_NOT_FOUND', `blob ${digest} is not in ${this.name}`);
      throw err;
    }
    if (size !== undefined && bytes.byteLength !== size) {
      throw new VouchError(
        bytes.byteLength < size ? 'CONTENT_TRUNCATED' : 'CONTENT_DIGEST_MISMATCH',
        `blob ${digest} in ${this.name} is ${bytes.byteLength} bytes, its descriptor says ${size}`,
      );
    }
    checkDigest(bytes, digest, `blob in ${this.name}`);
    return bytes;
  }

  private async readManifestBlob(
    digest: string,
    mediaType: string | undefined,
    size: number | undefined,
    signal?: AbortSignal,
  ): Promise<FetchedManifest> {
    if (size !== undefined && size > MAX_MANIFEST_BYTES) {
      throw new VouchError(
        'CONTENT_TOO_LARGE',
        `manifest ${digest} is ${size} bytes, more than ${MAX_MANIFEST_BYTES}`,
      );
    }
    const bytes = await this.readBlob(digest, size, MAX_MANIFEST_BYTES, signal);
    const manifest =
      this.manifests.get(digest) ??
      parseManifest(bytes, mediaType, `manifest ${digest} in ${this.name}`, { inferMediaType: true });
    if (mediaType !== undefined && manifest.mediaType !== mediaType) {
      throw new VouchError(
        'MANIFEST_INVALID',
        `manifest ${digest} in ${this.name} is ${manifest.mediaType}, described as ${mediaType}`,
      );
    }
    this.remember(digest, manifest);
    return { descriptor: { mediaType: manifest.mediaType, digest, size: bytes.byteLength }, bytes, manifest };
  }

  private remember(digest: string, manifest: Manifest): void {
    if (this.manifests.size >= MANIFEST_CACHE_ENTRIES) {
      const oldest = this.manifests.keys().next().value;
      if (oldest !== undefined) this.manifests.delete(oldest);
    }
    this.manifests.set(digest, manifest);
  }
}

/** A descriptor without index.json's bookkeeping annotations (what a registry HEAD would say). */
function plainDescriptor(d: Descriptor, artifactType = d.artifactType): Descriptor {
  return {
    mediaType: d.mediaType,
    digest: d.digest,
    size: d.size,
    ...(artifactType === undefined ? {} : { artifactType }),
  };
}

/** Adds `descriptor` to index.json's list: tagged (moving the tag) or untagged (once per digest). */
function writeEntry(index: LayoutIndex, descriptor: Descriptor, tag: string | undefined): void {
  const entryOf = (annotations?: Record<string, string>) => ({
    descriptor: { ...descriptor, ...(annotations ? { annotations } : {}) },
    raw: { ...descriptor, ...(annotations ? { annotations } : {}) } as Record<string, unknown>,
  });
  if (tag === undefined) {
    if (!index.entries.some((e) => e.descriptor.digest === descriptor.digest)) index.entries.push(entryOf());
    return;
  }
  index.entries = index.entries.filter((e) => {
    const name = e.descriptor.annotations?.[REF_NAME_ANNOTATION];
    if (name === tag) return false;
    return !(name === undefined && e.descriptor.digest === descriptor.digest);
  });
  index.entries.push(entryOf({ [REF_NAME_ANNOTATION]: tag }));
}

/**
 * Opens the OCI image layout named by `ref` (its `dir`; the tag or digest is resolved by the
 * caller with `resolve`). Nothing is read until the first call; reads of a directory that is not
 * a layout fail with LAYOUT_INVALID, and the first push creates the layout.
 */
export function openLayoutRepository(ref: LayoutReference): Repository {
  return new LayoutRepository(ref.dir);
}
