/** SPDX and CycloneDX SBOMs attached to the image (`verifiers.sbom`; src/verifiers/sbom). */
import { sbomConfigSchema } from '../verifiers/sbom/config.js';
import type { FormatDescriptor } from './types.js';

export const sbomFormat: FormatDescriptor<'sbom', typeof sbomConfigSchema> = {
  name: 'sbom',
  kind: 'content',
  configSchema: sbomConfigSchema,
  summary:
    "SPDX and CycloneDX SBOMs attached to the image, with Ratify's parameters. See docs/content-policy.md.",
  async build(settings, ctx) {
    const { createSbomVerifier } = await import('../verifiers/sbom/index.js');
    return createSbomVerifier(settings, settings.requireSignature ?? ctx.defaultSigners);
  },
};
