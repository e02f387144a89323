/**
 * The `verifiers.notation` section of vouch.yaml. Trust material may come from a notation config
 * directory (`trustpolicy.json` + `truststore/x509/{ca,signingAuthority,tsa}/<name>/*`), from an inline
 * or file trust policy, and from named stores listed here (files or directories).
 */
import { z } from 'zod';

const storeMap = z.record(
  z.string().regex(/^[a-zA-Z0-9_.-]+$/, 'store names must match [a-zA-Z0-9_.-]+'),
  z.array(z.string().min(1)).min(1),
);

export const notationConfigSchema = z
  .object({
    /** notation's config directory: trustpolicy.json (or trustpolicy.oci.json) and truststore/. */
    configDir: z
      .string()
      .min(1)
      .optional()
      .describe("notation's config directory: trustpolicy.json (or trustpolicy.oci.json) and truststore/."),
    /** An inline trust policy document (notation's trustpolicy.json, version 1.0). */
    trustPolicy: z
      .record(z.string(), z.unknown())
      .optional()
      .describe("An inline trust policy document (notation's trustpolicy.json, version 1.0)."),
    /** A trust policy file (JSON). */
    trustPolicyFile: z.string().min(1).optional().describe('A trust policy file (JSON).'),
    /** Named stores: store name -> certificate files or directories, per store type. */
    trustStores: z
      .object({ ca: storeMap.optional(), signingAuthority: storeMap.optional(), tsa: storeMap.optional() })
      .strict()
      .optional(),
    revocation: z
      .object({
        /** Deadline of one OCSP or CRL request (default 2000 ms for OCSP, as the spec suggests). */
        timeoutMs: z
          .number()
          .int()
          .positive()
          .max(30_000)
          .optional()
          .describe('Deadline of one OCSP or CRL request (default 2000 ms for OCSP, as the spec suggests).'),
      })
      .strict()
      .optional(),
  })
  .strict();

export type NotationConfig = z.infer<typeof notationConfigSchema>;
