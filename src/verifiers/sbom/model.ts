/** An SBOM read into what the policy needs, whatever its format. */

export type SbomFormat = 'spdx' | 'cyclonedx';

export const SPDX_MEDIA_TYPE = 'application/spdx+json';
export const CYCLONEDX_MEDIA_TYPE = 'application/vnd.cyclonedx+json';

export interface SbomPackage {
  readonly name: string;
  readonly version: string | undefined;
  readonly purl: string | undefined;
  /** Licence ids, from every licence field and expression of the package, each once. */
  readonly licenses: readonly string[];
}

export interface Sbom {
  readonly format: SbomFormat;
  /** `SPDX-2.3`, `CycloneDX 1.6`, … */
  readonly specVersion: string;
  /** The document's name (SPDX `name`; CycloneDX the metadata component's name). */
  readonly name: string | undefined;
  readonly packages: readonly SbomPackage[];
}
