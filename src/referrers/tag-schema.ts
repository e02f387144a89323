/**
 * The referrers tag schema (distribution-spec 1.1 § Referrers Tag Schema): for a registry
 * without the Referrers API, the referrers of `<alg>:<hex>` are listed in an OCI index tagged
 * `<alg>-<hex>` (hex cut to 64 characters), maintained by whoever pushes a referrer — here,
 * read-modify-write the way `oras attach` does (oras-go `registry/remote/repository.go`,
 * `updateReferrersIndex`).
 */

import { createKeyedQueue } from '../concurrency.js';
import { isVouchError, VouchError } from '../errors.js';
import { referrersTag } from '../registry/referrers-tag.js';
import { type Descriptor, MediaType, type Repository } from '../registry/types.js';

/** Attempts at a write that a concurrent writer overwrote before it could be read back. */
const MAX_INDEX_WRITES = 3;

const queue = createKeyedQueue();

/** The descriptors listed under `tag`, or [] when the tag does not exist. */
async function readReferrersIndex(
  repository: Repository,
  tag: string,
  signal?: AbortSignal,
): Promise<Descriptor[]> {
  try {
    const { manifest } = await repository.fetchManifest(tag, signal ? { signal } : {});
    if (manifest.kind !== 'index') {
      throw new VouchError(
        'MANIFEST_INVALID',
        `the referrers tag ${tag} in ${repository.name} holds a ${manifest.mediaType}, not an image index`,
      );
    }
    return [...manifest.manifests];
  } catch (err) {
    if (isVouchError(err, 'REGISTRY_NOT_FOUND')) return [];
    throw err;
  }
}

/**
 * Adds `referrer` to the referrers tag index of `subjectDigest` (creating it when absent;
 * entries deduplicated by digest). Calls within this process for the same subject are
 * serialized; after writing, the index is read back and the write repeated (up to 3 times)
 * when a concurrent writer elsewhere replaced it. Registries offer no compare-and-swap, so a
 * writer racing after that read-back can still drop an entry, as with `oras attach`.
 */
export async function addToReferrersIndex(
  repository: Repository,
  subjectDigest: string,
  referrer: Descriptor,
  signal?: AbortSignal,
): Promise<void> {
  const tag = referrersTag(subjectDigest);
  await queue(`${repository.name}\u0000${tag}`, async () => {
    for (let attempt = 1; attempt <= MAX_INDEX_WRITES; attempt++) {
      const current = await readReferrersIndex(repository, tag, signal);
      const seen = new Set<string>();
      const entries = [...current, referrer].filter((d) => {
        if (seen.has(d.digest)) return false;
        seen.add(d.digest);
        return true;
      });
      if (entries.length === current.length && current.some((d) => d.digest === referrer.digest)) return;
      const bytes = new TextEncoder().encode(
        JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: entries }),
      );
      await repository.pushManifest(bytes, MediaType.OciIndex, { tag, ...(signal ? { signal } : {}) });
      const after = await readReferrersIndex(repository, tag, signal);
      if (after.some((d) => d.digest === referrer.digest)) return;
    }
    throw new VouchError(
      'REGISTRY_ERROR',
      `the referrers index ${tag} in ${repository.name} kept changing under concurrent writers; ${referrer.digest} is not listed`,
    );
  });
}
