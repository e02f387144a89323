/** Settings both content verifiers share: the signature they require, age and size limits. */
import { z } from 'zod';
import { parseMaximumAge } from './age.js';
import { DEFAULT_MAX_CONTENT_BYTES } from './artifact.js';

export const contentCommonShape = {
  requireSignature: z
    .array(z.string().min(1))
    .optional()
    .describe(
      'The report must itself carry a verified signature (a referrer of the report) by one of these verifiers. Default: every signature verifier configured. `[]` accepts unsigned reports (not recommended).',
    ),
  maximumAge: z
    .string()
    .refine(
      (s) => {
        try {
          parseMaximumAge(s);
          return true;
        } catch {
          return false;
        }
      },
      { message: 'must be a duration like 24h, 7d or 1h30m' },
    )
    .optional()
    .describe(
      'Largest age of the artifact, from its `org.opencontainers.image.created` annotation (`24h`, `7d`); an artifact without the annotation fails.',
    ),
  maxBytes: z
    .number()
    .int()
    .positive()
    .default(DEFAULT_MAX_CONTENT_BYTES)
    .describe('Largest document read (enforced while reading); default 64 MiB.'),
};
