/**
 * Referrers of a manifest (OCI distribution-spec 1.1 § Listing Referrers): the Referrers API
 * `GET /v2/<name>/referrers/<digest>` (artifactType filter, Link pagination, OCI-Filters-Applied),
 * and when a host answers 404 the referrers tag schema: the tag `<alg>-<hex>` holding an OCI index
 * of the referrers (a missing tag means none). Whether a host has the API is probed once per host
 * per RemoteRegistry and remembered.
 */
import { VouchError } from '../../errors.js';
import { validateDigest } from '../../reference/digest.js';
import { parseManifest } from '../manifest.js';
import { referrersTag } from '../referrers-tag.js';
import {
  type Descriptor,
  MAX_MANIFEST_BYTES,
  MediaType,
  type ReferrersListing,
  type ReferrersOptions,
} from '../types.js';
import { contentLength, header, readLimited } from './body.js';
import { nextLink, pullScope, type RemoteContext, type RemoteRepositoryTarget } from './context.js';

/**
 * Probes in flight, per client and host: while one request finds out whether a host has the
 * Referrers API, the others wait for its answer instead of probing too (a cold batch of 100
 * images makes one probe, not 100).
 */
const probes = new WeakMap<RemoteContext, Map<string, Promise<unknown>>>();

export async function listReferrers(
  ctx: RemoteContext,
  repo: RemoteRepositoryTarget,
  subjectDigest: string,
  options: ReferrersOptions,
): Promise<ReferrersListing> {
  const digest = validateDigest(subjectDigest);
  const signal = ctx.transport.deadline(options.signal);
  const filter = (list: Descriptor[]) =>
    options.artifactType === undefined ? list : list.filter((d) => d.artifactType === options.artifactType);
  let inflight = probes.get(ctx);
  if (!inflight) {
    inflight = new Map();
    probes.set(ctx, inflight);
  }
  const pending = ctx.referrersApi.get(repo.host) === undefined ? inflight.get(repo.host) : undefined;
  if (pending) await pending.catch(() => undefined);
  if (ctx.referrersApi.get(repo.host) !== false) {
    const call = referrersApi(ctx, repo, digest, options.artifactType, signal);
    if (ctx.referrersApi.get(repo.host) === undefined && !inflight.has(repo.host)) {
      const probing = inflight;
      probing.set(repo.host, call);
      call.then(
        () => probing.delete(repo.host),
        () => probing.delete(repo.host),
      );
    }
    const viaApi = await call;
    if (viaApi !== undefined) {
      ctx.referrersApi.set(repo.host, true);
      return {
        descriptors: viaApi.filtered ? viaApi.descriptors : filter(viaApi.descriptors),
        source: 'referrers-api',
      };
    }
    ctx.referrersApi.set(repo.host, false);
  }
  return { descriptors: filter(await referrersByTag(repo, digest, signal)), source: 'referrers-tag' };
}

/** The Referrers API; undefined when the host answers 404/405 (no API). */
async function referrersApi(
  ctx: RemoteContext,
  repo: RemoteRepositoryTarget,
  digest: string,
  artifactType: string | undefined,
  signal: AbortSignal,
): Promise<{ descriptors: Descriptor[]; filtered: boolean } | undefined> {
  const descriptors: Descriptor[] = [];
  let filtered = true;
  const query = artifactType === undefined ? '' : `?artifactType=${encodeURIComponent(artifactType)}`;
  let path: string | undefined = `/v2/${repo.repository}/referrers/${digest}${query}`;
  for (let page = 0; path !== undefined; page++) {
    if (page >= ctx.maxPages) {
      ctx.transport.logger.warn(
        { repository: repo.name, subject: digest, pages: page },
        'referrers list truncated at the page cap',
      );
      break;
    }
    const what = `the referrers of ${digest} in ${repo.name}`;
    const current: string = path;
    const result = await ctx.transport.request(
      {
        host: repo.host,
        method: 'GET',
        path: current,
        headers: { accept: MediaType.OciIndex },
        scopes: [pullScope(repo.repository)],
        signal,
        accept: page === 0 ? [404, 405] : [],
        what,
      },
      async (res) => {
        if (res.status === 404 || res.status === 405) return undefined;
        const bytes = await readLimited(
          res.body,
          MAX_MANIFEST_BYTES,
          what,
          contentLength(res.headers),
          signal,
        );
        const index = parseManifest(bytes, header(res.headers, 'content-type') ?? MediaType.OciIndex, what);
        if (index.kind !== 'index') {
          throw new VouchError(
            'MANIFEST_INVALID',
            `${repo.host} answered ${what} with a ${index.mediaType}, not an image index`,
          );
        }
        const applied = (header(res.headers, 'oci-filters-applied') ?? '').split(',').map((s) => s.trim());
        return {
          manifests: index.manifests,
          filtered: artifactType === undefined || applied.includes('artifactType'),
          next: nextLink(header(res.headers, 'link'), res.url),
        };
      },
    );
    if (result === undefined) return undefined;
    descriptors.push(...result.manifests);
    filtered &&= result.filtered;
    path = result.next?.href;
  }
  return { descriptors, filtered };
}

/** The referrers tag schema: the index under `<alg>-<hex>`, or [] when that tag does not exist. */
async function referrersByTag(
  repo: RemoteRepositoryTarget,
  digest: string,
  signal: AbortSignal,
): Promise<Descriptor[]> {
  const tag = referrersTag(digest);
  const fetched = await repo.fetchManifestOrUndefined(tag, signal);
  if (fetched === undefined) return [];
  if (fetched.manifest.kind !== 'index') {
    throw new VouchError(
      'MANIFEST_INVALID',
      `the referrers tag ${tag} in ${repo.name} holds a ${fetched.manifest.mediaType}, not an image index`,
    );
  }
  return [...fetched.manifest.manifests];
}
