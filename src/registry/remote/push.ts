/**
 * The push side (OCI distribution-spec 1.1 § Push): blobs are checked for existence first, then
 * mounted from another repository when asked, uploaded in one POST+PUT when small, or in PATCH
 * chunks when large; manifests are PUT by tag or digest, and `OCI-Subject` in the answer says the
 * registry indexed the subject itself (§ Pushing Manifests with Subject).
 */
import { VouchError } from '../../errors.js';
import { computeDigest } from '../../reference/digest.js';
import {
  type Descriptor,
  MAX_MANIFEST_BYTES,
  type PushManifestOptions,
  type PushManifestResult,
  type ReadOptions,
} from '../types.js';
import { header } from './body.js';
import { pullScope, pushScope, type RemoteContext, type RemoteRepositoryTarget } from './context.js';

/** Blobs above this size are uploaded in chunks of this size. */
export const CHUNK_BYTES = 8 * 1024 * 1024;

export interface PushBlobOptions extends ReadOptions {
  /** Another repository on the same registry that may already hold the blob (cross-repo mount). */
  readonly mountFrom?: string;
  /** Chunk size for uploads larger than it (default 8 MiB). */
  readonly chunkBytes?: number;
}

export async function pushBlob(
  ctx: RemoteContext,
  repo: RemoteRepositoryTarget,
  bytes: Uint8Array,
  mediaType: string,
  options: PushBlobOptions,
): Promise<Descriptor> {
  const digest = computeDigest(bytes);
  const descriptor: Descriptor = { mediaType, digest, size: bytes.byteLength };
  const signal = ctx.transport.deadline(options.signal);
  const what = `blob ${digest} of ${repo.name}`;
  const scopes = [pushScope(repo.repository)];
  const t = ctx.transport;

  const exists = await t.request(
    {
      host: repo.host,
      method: 'HEAD',
      path: `/v2/${repo.repository}/blobs/${digest}`,
      scopes,
      signal,
      accept: [404],
      what,
    },
    async (res) => res.status !== 404,
  );
  if (exists) return descriptor;

  const mount = options.mountFrom;
  const start = await t.request(
    {
      host: repo.host,
      method: 'POST',
      path: `/v2/${repo.repository}/blobs/uploads/${mount ? `?mount=${digest}&from=${encodeURIComponent(mount)}` : ''}`,
      headers: { 'content-length': '0' },
      scopes: mount ? [...scopes, pullScope(mount)] : scopes,
      signal,
      what: `an upload of ${what}`,
    },
    async (res) => ({ status: res.status, location: header(res.headers, 'location'), url: res.url }),
  );
  if (start.status === 201) return descriptor; // mounted
  if (start.status !== 202 || !start.location) {
    throw new VouchError(
      'REGISTRY_ERROR',
      `${repo.host} answered HTTP ${start.status} without an upload location for ${what}`,
    );
  }
  let location = new URL(start.location, start.url);
  const chunk = options.chunkBytes ?? CHUNK_BYTES;
  let body: Uint8Array | undefined = bytes;
  if (bytes.byteLength > chunk) {
    for (let offset = 0; offset < bytes.byteLength; offset += chunk) {
      const part = bytes.subarray(offset, Math.min(offset + chunk, bytes.byteLength));
      const next: string | undefined = await t.request(
        {
          host: repo.host,
          method: 'PATCH',
          path: location.href,
          headers: {
            'content-type': 'application/octet-stream',
            'content-range': `${offset}-${offset + part.byteLength - 1}`,
            'content-length': String(part.byteLength),
          },
          body: part,
          scopes,
          signal,
          what: `a chunk of ${what}`,
        },
        async (res) => header(res.headers, 'location'),
      );
      if (!next)
        throw new VouchError(
          'REGISTRY_ERROR',
          `${repo.host} accepted a chunk of ${what} without a next location`,
        );
      location = new URL(next, location);
    }
    body = undefined;
  }
  location.searchParams.set('digest', digest);
  const stored = await t.request(
    {
      host: repo.host,
      method: 'PUT',
      path: location.href,
      headers: {
        'content-type': 'application/octet-stream',
        'content-length': String(body?.byteLength ?? 0),
      },
      ...(body ? { body } : {}),
      scopes,
      signal,
      what,
    },
    async (res) => header(res.headers, 'docker-content-digest'),
  );
  if (stored !== undefined && stored !== digest) {
    throw new VouchError('CONTENT_DIGEST_MISMATCH', `${repo.host} stored ${what} under digest ${stored}`);
  }
  return descriptor;
}

export async function pushManifest(
  ctx: RemoteContext,
  repo: RemoteRepositoryTarget,
  bytes: Uint8Array,
  mediaType: string,
  options: PushManifestOptions,
): Promise<PushManifestResult> {
  if (bytes.byteLength > MAX_MANIFEST_BYTES) {
    throw new VouchError(
      'CONTENT_TOO_LARGE',
      `a manifest of ${bytes.byteLength} bytes is more than the ${MAX_MANIFEST_BYTES}-byte limit`,
    );
  }
  const digest = computeDigest(bytes);
  let artifactType: string | undefined;
  try {
    const parsed = JSON.parse(Buffer.from(bytes).toString('utf8')) as { artifactType?: unknown };
    if (typeof parsed.artifactType === 'string') artifactType = parsed.artifactType;
  } catch {
    throw new VouchError('MANIFEST_INVALID', `refusing to push a manifest that is not JSON to ${repo.name}`);
  }
  const target = options.tag ?? digest;
  const what = `manifest ${options.tag === undefined ? digest : `"${options.tag}" (${digest})`} of ${repo.name}`;
  const signal = ctx.transport.deadline(options.signal);
  const result = await ctx.transport.request(
    {
      host: repo.host,
      method: 'PUT',
      path: `/v2/${repo.repository}/manifests/${target}`,
      headers: { 'content-type': mediaType, 'content-length': String(bytes.byteLength) },
      body: bytes,
      scopes: [pushScope(repo.repository)],
      signal,
      what,
    },
    async (res) => ({
      stored: header(res.headers, 'docker-content-digest'),
      subject: header(res.headers, 'oci-subject'),
    }),
  );
  if (result.stored !== undefined && result.stored !== digest) {
    throw new VouchError(
      'CONTENT_DIGEST_MISMATCH',
      `${repo.host} stored ${what} under digest ${result.stored}`,
    );
  }
  return {
    descriptor: {
      mediaType,
      digest,
      size: bytes.byteLength,
      ...(artifactType === undefined ? {} : { artifactType }),
    },
    subjectIndexed: result.subject !== undefined,
  };
}
