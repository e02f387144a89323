/**
 * Multi-arch images (OCI index, Docker manifest list): which child manifests a rule's
 * `platforms` selects. Attestation manifests (BuildKit's `vnd.docker.reference.type:
 * attestation-manifest`, platform unknown/unknown) are never platforms: they describe one.
 */
import type { Descriptor, ImageIndex } from '../registry/types.js';
import { MediaType } from '../registry/types.js';

export function isIndexMediaType(mediaType: string): boolean {
  return mediaType === MediaType.OciIndex || mediaType === MediaType.DockerManifestList;
}

/** `os/arch[/variant]` of a child descriptor, or undefined when it has none. */
export function platformOf(d: Descriptor): string | undefined {
  const p = d.platform as { os?: unknown; architecture?: unknown; variant?: unknown } | undefined;
  if (typeof p?.os !== 'string' || typeof p.architecture !== 'string') return undefined;
  return typeof p.variant === 'string' && p.variant !== ''
    ? `${p.os}/${p.architecture}/${p.variant}`
    : `${p.os}/${p.architecture}`;
}

export function isAttestationManifest(d: Descriptor): boolean {
  return (
    d.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest' ||
    platformOf(d) === 'unknown/unknown'
  );
}

/** A wanted platform matches a child when os and arch agree, and the variant when one is asked for. */
function matches(wanted: string, child: string): boolean {
  const [wo, wa, wv] = wanted.toLowerCase().split('/');
  const [co, ca, cv] = child.toLowerCase().split('/');
  return wo === co && wa === ca && (wv === undefined || wv === cv);
}

export interface SelectedPlatform {
  readonly platform: string;
  readonly descriptor: Descriptor | undefined;
}

/** The children `platforms` selects from `index`: one entry per wanted platform (or per child for `all`). */
export function selectPlatforms(index: ImageIndex, platforms: 'all' | readonly string[]): SelectedPlatform[] {
  const children = index.manifests.filter((d) => !isAttestationManifest(d));
  if (platforms === 'all')
    return children.map((d) => ({ platform: platformOf(d) ?? d.digest, descriptor: d }));
  return platforms.map((wanted) => ({
    platform: wanted,
    descriptor: children.find((d) => {
      const p = platformOf(d);
      return p !== undefined && matches(wanted, p);
    }),
  }));
}
