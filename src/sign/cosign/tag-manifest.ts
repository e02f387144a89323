/**
 * cosign's tag schema on the push side: signatures live in `sha256-<hex>.sig` and attestations in
 * `sha256-<hex>.att`, one image manifest per subject whose layers are the signatures; signing again
 * appends a layer to the existing manifest (cosign `pkg/oci/mutate`), so earlier signatures stay.
 * The config mimics cosign's (a rootfs whose diff_ids are the layer digests).
 */
import { isVouchError } from '../../errors.js';
import { type Descriptor, MediaType, type Repository } from '../../registry/types.js';

/** One signature layer to append. */
export interface CosignTagLayer {
  readonly bytes: Uint8Array;
  readonly mediaType: string;
  readonly annotations: Readonly<Record<string, string>>;
}

/** The tag cosign uses for `subject`'s signatures (`sig`) or attestations (`att`). */
export function cosignTag(subject: Descriptor, suffix: 'sig' | 'att'): string {
  return `${subject.digest.replace(':', '-')}.${suffix}`;
}

/** Appends `layer` to the subject's `.sig` / `.att` manifest (creating it); returns the manifest. */
export async function appendToCosignTag(
  repository: Repository,
  subject: Descriptor,
  suffix: 'sig' | 'att',
  layer: CosignTagLayer,
  signal?: AbortSignal,
): Promise<Descriptor> {
  const readOptions = signal ? { signal } : {};
  const tag = cosignTag(subject, suffix);
  const previous = await existingLayers(repository, tag, signal);
  const pushed = await repository.pushBlob(layer.bytes, layer.mediaType, readOptions);
  const layers = [
    ...previous,
    {
      mediaType: pushed.mediaType,
      size: pushed.size,
      digest: pushed.digest,
      annotations: { ...layer.annotations },
    },
  ];
  const config = Buffer.from(
    JSON.stringify({
      architecture: '',
      created: '0001-01-01T00:00:00Z',
      history: [{ created: '0001-01-01T00:00:00Z' }],
      os: '',
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
      config: {},
    }),
  );
  const configDesc = await repository.pushBlob(config, MediaType.OciConfig, readOptions);
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: { mediaType: configDesc.mediaType, size: configDesc.size, digest: configDesc.digest },
    layers,
  };
  const bytes = Buffer.from(JSON.stringify(manifest));
  const { descriptor } = await repository.pushManifest(bytes, MediaType.OciManifest, { ...readOptions, tag });
  return descriptor;
}

async function existingLayers(
  repository: Repository,
  tag: string,
  signal?: AbortSignal,
): Promise<Array<Record<string, unknown>>> {
  try {
    const fetched = await repository.fetchManifest(tag, signal ? { signal } : {});
    if (fetched.manifest.kind !== 'manifest') return [];
    return fetched.manifest.layers.map((l) => ({
      mediaType: l.mediaType,
      size: l.size,
      digest: l.digest,
      ...(l.annotations ? { annotations: l.annotations } : {}),
    }));
  } catch (err) {
    if (isVouchError(err, 'REGISTRY_NOT_FOUND')) return [];
    throw err;
  }
}
