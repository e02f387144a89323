/**
 * Reads an SBOM blob by its media type. The document must be the format its media type says:
 * a CycloneDX BOM served as `application/spdx+json` is refused (`media-type-mismatch`), not
 * guessed at.
 */
import { asObject, ContentFailure, parseJsonDocument } from '../content/failure.js';
import { readCycloneDx } from './cyclonedx.js';
import { CYCLONEDX_MEDIA_TYPE, type Sbom, SPDX_MEDIA_TYPE } from './model.js';
import { readSpdx } from './spdx.js';

/** The SBOM format a media type names (parameters such as `;version=` ignored). */
export function sbomFormatOf(mediaType: string): 'spdx' | 'cyclonedx' | undefined {
  const base = mediaType.split(';')[0]?.trim().toLowerCase();
  if (base === SPDX_MEDIA_TYPE) return 'spdx';
  if (base === CYCLONEDX_MEDIA_TYPE) return 'cyclonedx';
  return undefined;
}

export function parseSbom(bytes: Uint8Array, mediaType: string): Sbom {
  const format = sbomFormatOf(mediaType);
  if (!format)
    throw new ContentFailure('malformed', `media type ${mediaType} is not an SBOM type vouch reads`);
  const doc = asObject(parseJsonDocument(bytes, 'the SBOM'));
  if (!doc) throw new ContentFailure('malformed', 'the SBOM is not a JSON object');
  const looksCycloneDx = doc.bomFormat === 'CycloneDX';
  const looksSpdx = typeof doc.spdxVersion === 'string';
  if (format === 'spdx' && looksCycloneDx)
    throw new ContentFailure(
      'media-type-mismatch',
      `the SBOM is CycloneDX but its media type is ${SPDX_MEDIA_TYPE}`,
    );
  if (format === 'cyclonedx' && looksSpdx)
    throw new ContentFailure(
      'media-type-mismatch',
      `the SBOM is SPDX but its media type is ${CYCLONEDX_MEDIA_TYPE}`,
    );
  return format === 'spdx' ? readSpdx(doc) : readCycloneDx(doc);
}
