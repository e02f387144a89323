/**
 * The SBOM verifier (`sbom`): SPDX 2.2/2.3 and CycloneDX 1.4–1.7 JSON attached to an image,
 * judged by Ratify's parameters. Details: format, document name, package count, violations.
 */
import type { Verifier } from '../../engine/types.js';
import { createContentVerifier } from '../content/verifier.js';
import type { SbomConfig } from './config.js';
import { parseSbom } from './document.js';
import { evaluateSbom } from './evaluate.js';
import { CYCLONEDX_MEDIA_TYPE, SPDX_MEDIA_TYPE } from './model.js';

export const SBOM_VERIFIER = 'sbom';

export function createSbomVerifier(config: SbomConfig, signedBy: readonly string[]): Verifier {
  return createContentVerifier({
    name: SBOM_VERIFIER,
    what: 'SBOM',
    mediaTypes: [SPDX_MEDIA_TYPE, CYCLONEDX_MEDIA_TYPE],
    maxBytes: config.maxBytes,
    maximumAge: config.maximumAge,
    signedBy,
    settings: config,
    judge(bytes, layer) {
      const sbom = parseSbom(bytes, layer.mediaType);
      const v = evaluateSbom(sbom, config);
      return {
        outcome: v.reason === 'ok' ? 'verified' : 'failed',
        reason: v.reason,
        message: v.message,
        details: {
          format: sbom.specVersion,
          ...(sbom.name ? { documentName: sbom.name } : {}),
          packages: sbom.packages.length,
          violations: [...v.licenseViolations, ...v.packageViolations],
        },
      };
    },
  });
}
