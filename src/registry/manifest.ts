/**
 * The one manifest parser of both stores (the remote registry client and the OCI layout store):
 * untrusted manifest bytes into the `Manifest` union (image-spec 1.1 `manifest.md`,
 * `image-index.md`, `descriptor.md`; Docker image manifest v2 schema 2 and manifest list), once, at
 * the boundary. Each failure names the field. Docker schema 1 is refused: it is deprecated and its
 * signatures are not bound to the content digest.
 */
import { VouchError } from '../errors.js';
import { isDigest } from '../reference/digest.js';

/** One strict UTF-8 decoder for every manifest (a new one per call showed in the cold-batch profile). */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

import { type Descriptor, type Manifest, MediaType } from './types.js';

/** Accept header for manifest requests: every manifest type vouch can parse. */
export const MANIFEST_ACCEPT = [
  MediaType.OciManifest,
  MediaType.OciIndex,
  MediaType.DockerManifest,
  MediaType.DockerManifestList,
].join(', ');

/** Media types that are single manifests. */
export const MANIFEST_MEDIA_TYPES: ReadonlySet<string> = new Set([
  MediaType.OciManifest,
  MediaType.DockerManifest,
]);
/** Media types that are indexes (their children are manifests). */
export const INDEX_MEDIA_TYPES: ReadonlySet<string> = new Set([
  MediaType.OciIndex,
  MediaType.DockerManifestList,
]);
const SCHEMA1_TYPES = new Set<string>([MediaType.DockerSchema1, MediaType.DockerSchema1Signed]);

function invalid(where: string, why: string): never {
  throw new VouchError('MANIFEST_INVALID', `${where} is not a valid manifest: ${why}`, {
    details: { where },
  });
}

/** Media type without parameters, lowercased (`application/json; charset=utf-8` → `application/json`). */
export function bareMediaType(value: string | undefined): string | undefined {
  const bare = value?.split(';')[0]?.trim().toLowerCase();
  return bare ? bare : undefined;
}

/** Refuses Docker schema 1 by media type (before reading a body). */
export function rejectSchema1(mediaType: string | undefined, where: string): void {
  const bare = bareMediaType(mediaType);
  if (bare !== undefined && SCHEMA1_TYPES.has(bare)) throw schema1Error(where);
}

function schema1Error(where: string): VouchError {
  return new VouchError(
    'MANIFEST_UNSUPPORTED',
    `${where} is a Docker schema 1 manifest, which vouch does not accept (deprecated; re-push the image with a current client)`,
    { details: { where } },
  );
}

/** How `parseManifest` treats a manifest that names no media type. */
export interface ParseManifestOptions {
  /**
   * When neither the body nor the caller names a media type, infer it from the shape (a
   * `manifests` array: OCI index; otherwise OCI image manifest) instead of refusing. The layout
   * store sets it for manifests it reads by digest alone (image-spec: `mediaType` SHOULD be set,
   * not MUST); the remote client does not (a registry always declares one).
   */
  readonly inferMediaType?: boolean;
}

/**
 * Parses `bytes` as a manifest. The body's own `mediaType` is authoritative; `contentType` (the
 * response header or the descriptor's type) stands in when the body has none, and must agree
 * when both are present (image-spec § mediaType). Generic types (`application/json`,
 * `application/octet-stream`) and parameters are not compared.
 */
export function parseManifest(
  bytes: Uint8Array,
  contentType: string | undefined,
  where: string,
  options: ParseManifestOptions = {},
): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(UTF8.decode(bytes));
  } catch (err) {
    invalid(where, `the body is not valid UTF-8 JSON (${(err as Error).message.slice(0, 120)})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    invalid(where, 'the body is not a JSON object');
  const m = json as Record<string, unknown>;
  const declared = bareMediaType(contentType);
  if (m.schemaVersion === 1 || (declared !== undefined && SCHEMA1_TYPES.has(declared))) {
    throw schema1Error(where);
  }
  if (m.schemaVersion !== 2)
    invalid(where, `schemaVersion is ${JSON.stringify(m.schemaVersion)}, expected 2`);
  if (m.mediaType !== undefined && typeof m.mediaType !== 'string')
    invalid(where, 'mediaType is not a string');
  const own = m.mediaType as string | undefined;
  const usable =
    declared && declared !== 'application/json' && declared !== 'application/octet-stream'
      ? declared
      : undefined;
  if (own !== undefined && usable !== undefined && own !== usable) {
    invalid(where, `it says mediaType ${own}, which differs from the declared ${usable}`);
  }
  const inferred = options.inferMediaType
    ? Array.isArray(m.manifests)
      ? MediaType.OciIndex
      : MediaType.OciManifest
    : undefined;
  const mediaType = own ?? usable ?? inferred;
  if (mediaType === undefined) invalid(where, 'it has no mediaType and none was declared');
  const common = {
    schemaVersion: 2 as const,
    mediaType,
    ...optionalString(m, 'artifactType', where),
    ...(m.subject === undefined ? {} : { subject: parseDescriptor(m.subject, `${where}: subject`) }),
    ...optionalAnnotations(m.annotations, `${where}: annotations`),
  };
  if (MANIFEST_MEDIA_TYPES.has(mediaType)) {
    if (m.config === undefined) invalid(where, 'the "config" descriptor is missing');
    if (!Array.isArray(m.layers))
      invalid(where, m.layers === undefined ? 'the "layers" array is missing' : '"layers" is not an array');
    return {
      kind: 'manifest',
      ...common,
      config: parseDescriptor(m.config, `${where}: config`),
      layers: m.layers.map((l, i) => parseDescriptor(l, `${where}: layers[${i}]`)),
    };
  }
  if (INDEX_MEDIA_TYPES.has(mediaType)) {
    if (!Array.isArray(m.manifests)) {
      invalid(
        where,
        m.manifests === undefined ? 'the "manifests" array is missing' : '"manifests" is not an array',
      );
    }
    return {
      kind: 'index',
      ...common,
      manifests: m.manifests.map((d, i) => parseDescriptor(d, `${where}: manifests[${i}]`)),
    };
  }
  throw new VouchError(
    'MANIFEST_UNSUPPORTED',
    `${where} has media type ${mediaType}, which is not a manifest type vouch reads`,
    {
      details: { where, mediaType },
    },
  );
}

/** Validates one descriptor (image-spec `descriptor.md`). */
export function parseDescriptor(value: unknown, where: string): Descriptor {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    invalid(where, 'the descriptor is not an object');
  const d = value as Record<string, unknown>;
  if (typeof d.mediaType !== 'string' || d.mediaType === '')
    invalid(where, 'the descriptor has no mediaType');
  if (typeof d.digest !== 'string') invalid(where, 'the descriptor has no digest');
  if (!isDigest(d.digest))
    invalid(where, `the descriptor digest "${d.digest.slice(0, 80)}" is not a valid sha256/sha512 digest`);
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) {
    invalid(where, 'the descriptor size is not a non-negative integer');
  }
  if (d.urls !== undefined && (!Array.isArray(d.urls) || d.urls.some((u) => typeof u !== 'string'))) {
    invalid(where, 'the descriptor urls are not a list of strings');
  }
  if (d.platform !== undefined && (typeof d.platform !== 'object' || d.platform === null)) {
    invalid(where, 'the descriptor platform is not an object');
  }
  return {
    mediaType: d.mediaType,
    digest: d.digest,
    size: d.size,
    ...optionalString(d, 'artifactType', where),
    ...optionalAnnotations(d.annotations, `${where}.annotations`),
    ...(d.urls === undefined ? {} : { urls: d.urls as string[] }),
    ...(d.platform === undefined ? {} : { platform: d.platform as Record<string, unknown> }),
  };
}

function optionalString(o: Record<string, unknown>, key: string, where: string): Record<string, string> {
  const v = o[key];
  if (v === undefined) return {};
  if (typeof v !== 'string') invalid(where, `${key} is not a string`);
  return { [key]: v };
}

function optionalAnnotations(v: unknown, where: string): { annotations?: Record<string, string> } {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) invalid(where, 'annotations are not an object');
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (typeof val !== 'string') invalid(where, `annotation "${k.slice(0, 80)}" is not a string`);
  }
  return { annotations: v as Record<string, string> };
}

/**
 * The artifact type a referrer is listed under (image-spec 1.1 § Guidelines for artifact usage;
 * distribution-spec § Listing Referrers): `artifactType`, else the config's media type.
 */
export function artifactTypeOf(manifest: Manifest): string | undefined {
  if (manifest.artifactType !== undefined) return manifest.artifactType;
  return manifest.kind === 'manifest' ? manifest.config.mediaType : undefined;
}
