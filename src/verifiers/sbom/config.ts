/** `verifiers.sbom` in vouch.yaml: Ratify's SBOM parameters. */
import { z } from 'zod';
import { sbomPolicyShape } from '../../policy/content.js';
import { contentCommonShape } from '../content/config.js';

export const sbomConfigSchema = z
  .object({
    ...sbomPolicyShape,
    ...contentCommonShape,
  })
  .strict();

export type SbomConfig = z.infer<typeof sbomConfigSchema>;
