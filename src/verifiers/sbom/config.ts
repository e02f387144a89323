/** `verifiers.sbom` in vouch.yaml: Ratify's SBOM parameters. */
import { z } from 'zod';
import { contentCommonShape } from '../content/config.js';

export const sbomConfigSchema = z
  .object({
    disallowedLicenses: z
      .array(z.string().min(1))
      .default([])
      .describe('SPDX licence ids that deny, also inside licence expressions.'),
    disallowedPackages: z
      .array(
        z
          .object({
            name: z
              .string()
              .min(1)
              .describe('Package name as the SBOM writes it (SPDX `name`, CycloneDX `name`).'),
            version: z
              .string()
              .min(1)
              .optional()
              .describe('Exact version; without one, every version of the name is disallowed.'),
            purl: z
              .string()
              .min(1)
              .optional()
              .describe(
                'Package URL to match instead of the name (qualifiers ignored; without `@version` every version).',
              ),
          })
          .strict(),
      )
      .default([])
      .describe('Packages that deny: `name`, optional `version` (without: every version), optional `purl`.'),
    ...contentCommonShape,
  })
  .strict();

export type SbomConfig = z.infer<typeof sbomConfigSchema>;
