/**
 * Tiny test images: an OCI config and one layer, content unique per seed, so tests never
 * collide on digests. Built in memory; pushed through the Repository push side, or written as an
 * OCI image layout directory (image-spec `image-layout.md`) for tools like skopeo to read.
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Descriptor, Repository } from '../../src/registry/types.js';
import { MediaType } from '../../src/registry/types.js';

export const TEST_LAYER_MEDIA_TYPE = 'application/vnd.oci.image.layer.v1.tar';

export interface TestImage {
  readonly manifest: Descriptor;
  readonly manifestBytes: Uint8Array;
  readonly blobs: ReadonlyArray<{ readonly descriptor: Descriptor; readonly bytes: Uint8Array }>;
}

function sha256(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

function describe(mediaType: string, bytes: Uint8Array): Descriptor {
  return { mediaType, digest: sha256(bytes), size: bytes.byteLength };
}

/** Builds a manifest + config + layer whose digests depend on `seed` (deterministic). */
export function buildTestImage(
  seed: string,
  extra: { subject?: Descriptor; artifactType?: string } = {},
): TestImage {
  const config = new TextEncoder().encode(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [] },
      config: { Labels: { seed } },
    }),
  );
  const layer = new TextEncoder().encode(`vouch test layer ${seed}\n`);
  const configDesc = describe(
    extra.artifactType ? MediaType.OciEmpty : MediaType.OciConfig,
    extra.artifactType ? new TextEncoder().encode('{}') : config,
  );
  const blobs = [
    { descriptor: configDesc, bytes: extra.artifactType ? new TextEncoder().encode('{}') : config },
    { descriptor: describe(TEST_LAYER_MEDIA_TYPE, layer), bytes: layer },
  ];
  const manifestJson: Record<string, unknown> = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    ...(extra.artifactType ? { artifactType: extra.artifactType } : {}),
    config: configDesc,
    layers: [blobs[1]?.descriptor],
    ...(extra.subject ? { subject: extra.subject } : {}),
    annotations: { 'org.opencontainers.image.title': seed },
  };
  const manifestBytes = new TextEncoder().encode(JSON.stringify(manifestJson));
  const manifest: Descriptor = {
    ...describe(MediaType.OciManifest, manifestBytes),
    ...(extra.artifactType ? { artifactType: extra.artifactType } : {}),
  };
  return { manifest, manifestBytes, blobs };
}

/** Pushes a fresh test image (blobs, then the manifest under `tag`) and returns its descriptor. */
export async function pushTestImage(repo: Repository, tag: string, seed: string): Promise<Descriptor> {
  const image = buildTestImage(seed);
  await pushImage(repo, image, tag);
  return image.manifest;
}

/** Pushes a built image (blobs then manifest, tagged when `tag` is given). */
export async function pushImage(repo: Repository, image: TestImage, tag?: string): Promise<void> {
  for (const blob of image.blobs) await repo.pushBlob(blob.bytes, blob.descriptor.mediaType);
  await repo.pushManifest(image.manifestBytes, MediaType.OciManifest, tag === undefined ? {} : { tag });
}

/** Writes `image` as an OCI image layout directory with `tag` in index.json (ref.name annotation). */
export async function writeTestLayout(dir: string, image: TestImage, tag: string): Promise<void> {
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const all = [...image.blobs, { descriptor: image.manifest, bytes: image.manifestBytes }];
  for (const { descriptor, bytes } of all) {
    await writeFile(join(dir, 'blobs', 'sha256', descriptor.digest.slice('sha256:'.length)), bytes);
  }
  const index = {
    schemaVersion: 2,
    mediaType: MediaType.OciIndex,
    manifests: [{ ...image.manifest, annotations: { 'org.opencontainers.image.ref.name': tag } }],
  };
  await writeFile(join(dir, 'index.json'), JSON.stringify(index));
}
