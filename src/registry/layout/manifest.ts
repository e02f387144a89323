/**
 * Parses manifest bytes from a layout into the typed `Manifest` of the Registry seam
 * (image-spec 1.1 `manifest.md`, `image-index.md`; Docker v2 schema 2 and manifest list).
 * Untrusted JSON is validated here, once; nothing past this file sees `unknown`.
 */
import { z } from 'zod';
import { VouchError } from '../../errors.js';
import { type Descriptor, type Manifest, MediaType } from '../types.js';
import { splitDigest } from './digest.js';

const descriptorSchema = z.object({
  mediaType: z.string().min(1),
  digest: z.string().refine(
    (d) => {
      try {
        splitDigest(d);
        return true;
      } catch {
        return false;
      }
    },
    { message: 'not a valid sha256/sha512 digest' },
  ),
  size: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  artifactType: z.string().min(1).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  urls: z.array(z.string()).optional(),
  platform: z.record(z.string(), z.unknown()).optional(),
});

const common = {
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  artifactType: z.string().min(1).optional(),
  subject: descriptorSchema.optional(),
  annotations: z.record(z.string(), z.string()).optional(),
};
const imageManifestSchema = z.object({
  ...common,
  config: descriptorSchema,
  layers: z.array(descriptorSchema),
});
const imageIndexSchema = z.object({ ...common, manifests: z.array(descriptorSchema) });

/** Media types that are indexes (their children are manifests). */
export const INDEX_MEDIA_TYPES: ReadonlySet<string> = new Set([
  MediaType.OciIndex,
  MediaType.DockerManifestList,
]);
/** Media types that are single manifests. */
export const MANIFEST_MEDIA_TYPES: ReadonlySet<string> = new Set([
  MediaType.OciManifest,
  MediaType.DockerManifest,
]);

/** Keeps only the descriptor fields of the seam (drops unknown keys such as `data`). */
export function toDescriptor(d: z.infer<typeof descriptorSchema>): Descriptor {
  return {
    mediaType: d.mediaType,
    digest: d.digest,
    size: d.size,
    ...(d.artifactType === undefined ? {} : { artifactType: d.artifactType }),
    ...(d.annotations === undefined ? {} : { annotations: d.annotations }),
    ...(d.urls === undefined ? {} : { urls: d.urls }),
    ...(d.platform === undefined ? {} : { platform: d.platform }),
  };
}

/** Validates one descriptor from untrusted JSON (used for index.json entries). */
export function parseDescriptor(value: unknown, where: string): Descriptor {
  const parsed = descriptorSchema.safeParse(value);
  if (!parsed.success) {
    throw new VouchError('MANIFEST_INVALID', `${where}: invalid descriptor: ${describeIssues(parsed.error)}`);
  }
  return toDescriptor(parsed.data);
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}

/**
 * Parses manifest bytes. `declaredMediaType` is what the descriptor (or index.json) said;
 * when the body names a different one, that is an error (image-spec § mediaType).
 * Docker schema 1 is refused with MANIFEST_UNSUPPORTED.
 */
export function parseManifest(
  bytes: Uint8Array,
  declaredMediaType: string | undefined,
  where: string,
): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    throw new VouchError('MANIFEST_INVALID', `${where}: manifest is not valid UTF-8 JSON`, { cause: err });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new VouchError('MANIFEST_INVALID', `${where}: manifest is not a JSON object`);
  }
  const body = json as Record<string, unknown>;
  if (body.schemaVersion === 1) {
    throw new VouchError('MANIFEST_UNSUPPORTED', `${where}: Docker schema 1 manifests are not supported`);
  }
  const bodyType = typeof body.mediaType === 'string' ? body.mediaType : undefined;
  if (bodyType !== undefined && declaredMediaType !== undefined && bodyType !== declaredMediaType) {
    throw new VouchError(
      'MANIFEST_INVALID',
      `${where}: manifest says mediaType ${bodyType} but was described as ${declaredMediaType}`,
    );
  }
  const mediaType =
    bodyType ?? declaredMediaType ?? ('manifests' in body ? MediaType.OciIndex : MediaType.OciManifest);
  if (mediaType === MediaType.DockerSchema1 || mediaType === MediaType.DockerSchema1Signed) {
    throw new VouchError('MANIFEST_UNSUPPORTED', `${where}: Docker schema 1 manifests are not supported`);
  }
  if (INDEX_MEDIA_TYPES.has(mediaType)) {
    const parsed = imageIndexSchema.safeParse(body);
    if (!parsed.success)
      throw new VouchError('MANIFEST_INVALID', `${where}: ${describeIssues(parsed.error)}`);
    const m = parsed.data;
    return {
      kind: 'index',
      schemaVersion: 2,
      mediaType,
      manifests: m.manifests.map(toDescriptor),
      ...(m.artifactType === undefined ? {} : { artifactType: m.artifactType }),
      ...(m.subject === undefined ? {} : { subject: toDescriptor(m.subject) }),
      ...(m.annotations === undefined ? {} : { annotations: m.annotations }),
    };
  }
  if (MANIFEST_MEDIA_TYPES.has(mediaType)) {
    const parsed = imageManifestSchema.safeParse(body);
    if (!parsed.success)
      throw new VouchError('MANIFEST_INVALID', `${where}: ${describeIssues(parsed.error)}`);
    const m = parsed.data;
    return {
      kind: 'manifest',
      schemaVersion: 2,
      mediaType,
      config: toDescriptor(m.config),
      layers: m.layers.map(toDescriptor),
      ...(m.artifactType === undefined ? {} : { artifactType: m.artifactType }),
      ...(m.subject === undefined ? {} : { subject: toDescriptor(m.subject) }),
      ...(m.annotations === undefined ? {} : { annotations: m.annotations }),
    };
  }
  throw new VouchError('MANIFEST_UNSUPPORTED', `${where}: unsupported manifest media type ${mediaType}`);
}

/**
 * The artifact type a referrer is listed under (image-spec 1.1 § Guidelines for artifact usage;
 * distribution-spec § Listing Referrers): `artifactType`, else the config's media type.
 */
export function artifactTypeOf(manifest: Manifest): string | undefined {
  if (manifest.artifactType !== undefined) return manifest.artifactType;
  return manifest.kind === 'manifest' ? manifest.config.mediaType : undefined;
}
