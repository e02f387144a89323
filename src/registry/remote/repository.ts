/**
 * One repository of a remote registry, read side: resolve (HEAD, GET fallback), manifests and
 * blobs (size limit while streaming, digest checked before return), tags; referrers and the push
 * side live in referrers.ts and push.ts (OCI distribution-spec 1.1 § Pull, § Content discovery).
 */
import { VouchError } from '../../errors.js';
import { computeDigest, validateDigest } from '../../reference/digest.js';
import { TAG_MAX_LENGTH } from '../../reference/parse.js';
import type { ImageReference } from '../../reference/types.js';
import { bareMediaType, MANIFEST_ACCEPT, parseManifest, rejectSchema1 } from '../manifest.js';
import {
  type BlobReadOptions,
  type Descriptor,
  type FetchedManifest,
  MAX_MANIFEST_BYTES,
  type PushManifestOptions,
  type PushManifestResult,
  type ReadOptions,
  type ReferrersListing,
  type ReferrersOptions,
  type Repository,
} from '../types.js';
import { contentLength, header, readLimited, verifyContent } from './body.js';
import { nextLink, pullScope, type RemoteContext, type RemoteRepositoryTarget } from './context.js';
import { type PushBlobOptions, pushBlob, pushManifest } from './push.js';
import { listReferrers } from './referrers.js';
import type { TransportResponse } from './transport.js';

const KNOWN_MANIFEST_TYPES = new Set(MANIFEST_ACCEPT.split(', '));
const MAX_TAG_LIST_BYTES = 4 * 1024 * 1024;

/** A tag or digest as given to resolve/fetchManifest, validated. */
export function checkManifestReference(
  reference: string,
  repo: string,
): { kind: 'tag' | 'digest'; value: string } {
  if (reference.includes(':')) return { kind: 'digest', value: validateDigest(reference) };
  if (reference.length === 0 || reference.length > TAG_MAX_LENGTH || !/^[\w][\w.-]*$/.test(reference)) {
    throw new VouchError(
      'REFERENCE_INVALID',
      `"${reference.slice(0, 140)}" is not a valid tag or digest for ${repo}`,
    );
  }
  return { kind: 'tag', value: reference };
}

export class RemoteRepository implements Repository, RemoteRepositoryTarget {
  readonly name: string;
  readonly host: string;
  readonly repository: string;
  readonly #ctx: RemoteContext;

  constructor(ctx: RemoteContext, ref: ImageReference) {
    this.#ctx = ctx;
    this.host = ref.registry;
    this.repository = ref.repository;
    this.name = `${ref.registry}/${ref.repository}`;
  }

  #describe(ref: { kind: 'tag' | 'digest'; value: string }): string {
    return ref.kind === 'tag'
      ? `tag "${ref.value}" of ${this.name}`
      : `manifest ${ref.value} of ${this.name}`;
  }

  async resolve(reference: string, options: ReadOptions = {}): Promise<Descriptor> {
    const ref = checkManifestReference(reference, this.name);
    const signal = this.#ctx.transport.deadline(options.signal);
    const what = this.#describe(ref);
    const viaHead = await this.#ctx.transport.request(
      {
        host: this.host,
        method: 'HEAD',
        path: `/v2/${this.repository}/manifests/${ref.value}`,
        headers: { accept: MANIFEST_ACCEPT },
        scopes: [pullScope(this.repository)],
        signal,
        accept: [405, 501],
        what,
      },
      async (res) => {
        if (res.status === 405 || res.status === 501) return undefined;
        rejectSchema1(header(res.headers, 'content-type'), what);
        const mediaType = bareMediaType(header(res.headers, 'content-type'));
        const digest = header(res.headers, 'docker-content-digest');
        const size = contentLength(res.headers);
        if (ref.kind === 'digest' && digest !== undefined && digest !== ref.value) {
          throw new VouchError(
            'CONTENT_DIGEST_MISMATCH',
            `${this.host} answered ${what} with digest ${digest}`,
          );
        }
        const resolved = ref.kind === 'digest' ? ref.value : digest;
        if (
          resolved === undefined ||
          mediaType === undefined ||
          !KNOWN_MANIFEST_TYPES.has(mediaType) ||
          size === undefined
        ) {
          return undefined; // not enough to trust: GET the manifest and check it
        }
        validateRegistryDigest(resolved, this.host, what);
        if (size > MAX_MANIFEST_BYTES) {
          throw new VouchError(
            'CONTENT_TOO_LARGE',
            `${what} is ${size} bytes, more than the ${MAX_MANIFEST_BYTES}-byte manifest limit`,
          );
        }
        return { mediaType, digest: resolved, size };
      },
    );
    if (viaHead) return viaHead;
    return (await this.fetchManifest(reference, { signal })).descriptor;
  }

  async fetchManifest(reference: string | Descriptor, options: ReadOptions = {}): Promise<FetchedManifest> {
    const fetched = await this.#getManifest(reference, this.#ctx.transport.deadline(options.signal), false);
    if (fetched === undefined) throw new VouchError('INTERNAL', 'a manifest fetch returned nothing');
    return fetched;
  }

  /** A manifest by tag or digest, or undefined when the registry answers 404 (referrers tag lookup). */
  fetchManifestOrUndefined(reference: string, signal: AbortSignal): Promise<FetchedManifest | undefined> {
    return this.#getManifest(reference, signal, true);
  }

  async #getManifest(
    reference: string | Descriptor,
    signal: AbortSignal,
    allowMissing: boolean,
  ): Promise<FetchedManifest | undefined> {
    const given = typeof reference === 'string' ? undefined : reference;
    const ref = checkManifestReference(given ? given.digest : (reference as string), this.name);
    const what = this.#describe(ref);
    if (given && given.size > MAX_MANIFEST_BYTES) {
      throw new VouchError(
        'CONTENT_TOO_LARGE',
        `${what} is ${given.size} bytes, more than the ${MAX_MANIFEST_BYTES}-byte manifest limit`,
      );
    }
    const accept =
      given && !KNOWN_MANIFEST_TYPES.has(given.mediaType)
        ? `${given.mediaType}, ${MANIFEST_ACCEPT}`
        : MANIFEST_ACCEPT;
    return this.#ctx.transport.request(
      {
        host: this.host,
        method: 'GET',
        path: `/v2/${this.repository}/manifests/${ref.value}`,
        headers: { accept },
        scopes: [pullScope(this.repository)],
        signal,
        accept: allowMissing ? [404] : [],
        what,
      },
      async (res) =>
        res.status === 404 ? undefined : this.#readManifestResponse(res, ref, what, signal, given),
    );
  }

  /** Reads, digest-checks and parses a manifest response (shared with the referrers tag lookup). */
  async #readManifestResponse(
    res: TransportResponse,
    ref: { kind: 'tag' | 'digest'; value: string },
    what: string,
    signal: AbortSignal,
    given?: Descriptor,
  ): Promise<FetchedManifest> {
    const contentType = header(res.headers, 'content-type');
    rejectSchema1(contentType, what);
    const bytes = await readLimited(res.body, MAX_MANIFEST_BYTES, what, contentLength(res.headers), signal);
    const headerDigest = header(res.headers, 'docker-content-digest');
    if (headerDigest !== undefined) validateRegistryDigest(headerDigest, this.host, what);
    const expected = ref.kind === 'digest' ? ref.value : headerDigest;
    let digest: string;
    if (expected !== undefined) {
      verifyContent(bytes, { digest: expected, ...(given ? { size: given.size } : {}) }, what);
      digest = expected;
    } else {
      digest = computeDigest(bytes); // neither requested nor announced: the content names itself
    }
    const manifest = parseManifest(bytes, given?.mediaType ?? contentType, what);
    const descriptor: Descriptor = given ?? {
      mediaType: manifest.mediaType,
      digest,
      size: bytes.byteLength,
      ...(manifest.artifactType === undefined ? {} : { artifactType: manifest.artifactType }),
    };
    return { descriptor, bytes, manifest };
  }

  async fetchBlob(descriptor: Descriptor, options: BlobReadOptions): Promise<Uint8Array> {
    const digest = validateDigest(descriptor.digest);
    const what = `blob ${digest} of ${this.name}`;
    if (!(options.maxBytes >= 0))
      throw new VouchError('INTERNAL', `fetchBlob needs a maxBytes limit for ${what}`);
    if (descriptor.size > options.maxBytes) {
      throw new VouchError(
        'CONTENT_TOO_LARGE',
        `${what} is ${descriptor.size} bytes, more than the limit of ${options.maxBytes}`,
      );
    }
    const signal = this.#ctx.transport.deadline(options.signal);
    return this.#ctx.transport.request(
      {
        host: this.host,
        method: 'GET',
        path: `/v2/${this.repository}/blobs/${digest}`,
        scopes: [pullScope(this.repository)],
        signal,
        redirects: 'blob',
        what,
      },
      async (res) => {
        const bytes = await readLimited(res.body, descriptor.size, what, contentLength(res.headers), signal);
        verifyContent(bytes, descriptor, what);
        return bytes;
      },
    );
  }

  /** The Referrers API, or (a registry without it) the referrers tag schema; the listing says which. */
  referrers(subject: Descriptor | string, options: ReferrersOptions = {}): Promise<ReferrersListing> {
    return listReferrers(this.#ctx, this, typeof subject === 'string' ? subject : subject.digest, options);
  }

  async listTags(options: ReadOptions = {}): Promise<string[]> {
    const signal = this.#ctx.transport.deadline(options.signal);
    const tags: string[] = [];
    let path: string | undefined = `/v2/${this.repository}/tags/list?n=1000`;
    for (let page = 0; path !== undefined; page++) {
      if (page >= this.#ctx.maxPages) {
        this.#ctx.transport.logger.warn(
          { repository: this.name, pages: page },
          'tag list truncated at the page cap',
        );
        break;
      }
      const what = `the tag list of ${this.name}`;
      const current: string = path;
      const result: { tags: string[]; next: URL | undefined } = await this.#ctx.transport.request(
        { host: this.host, method: 'GET', path: current, scopes: [pullScope(this.repository)], signal, what },
        async (res) => {
          const bytes = await readLimited(
            res.body,
            MAX_TAG_LIST_BYTES,
            what,
            contentLength(res.headers),
            signal,
          );
          let json: { tags?: unknown };
          try {
            json = JSON.parse(Buffer.from(bytes).toString('utf8')) as { tags?: unknown };
          } catch {
            throw new VouchError('REGISTRY_ERROR', `${this.host} answered ${what} with non-JSON`);
          }
          const list = json.tags ?? [];
          if (!Array.isArray(list) || list.some((t) => typeof t !== 'string')) {
            throw new VouchError(
              'REGISTRY_ERROR',
              `${this.host} answered ${what} without a list of tag strings`,
            );
          }
          return { tags: list as string[], next: nextLink(header(res.headers, 'link'), res.url) };
        },
      );
      tags.push(...result.tags);
      path = result.next?.href;
    }
    return tags;
  }

  pushBlob(bytes: Uint8Array, mediaType: string, options: PushBlobOptions = {}): Promise<Descriptor> {
    return pushBlob(this.#ctx, this, bytes, mediaType, options);
  }

  pushManifest(
    bytes: Uint8Array,
    mediaType: string,
    options: PushManifestOptions = {},
  ): Promise<PushManifestResult> {
    return pushManifest(this.#ctx, this, bytes, mediaType, options);
  }
}

/** A registry-sent digest that is malformed is the registry's error, named as such. */
function validateRegistryDigest(digest: string, host: string, what: string): void {
  try {
    validateDigest(digest);
  } catch (err) {
    throw new VouchError(
      'REGISTRY_ERROR',
      `${host} sent a malformed Docker-Content-Digest for ${what}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}
