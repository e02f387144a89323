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
      .describe(
        "notation's config directory (as `--notation-dir`): trustpolicy.oci.json or trustpolicy.json, and truststore/x509/{ca,signingAuthority,tsa}/<name>/ for stores not listed under trustStores. Relative to vouch.yaml's folder.",
      ),
    /** An inline trust policy document (notation's trustpolicy.json, version 1.0). */
    trustPolicy: z
      .record(z.string(), z.unknown())
      .optional()
      .describe(
        "An inline trust policy document (notation's trustpolicy.json, version 1.0). Used first; otherwise trustPolicyFile, otherwise configDir. One of the three is required.",
      ),
    /** A trust policy file (JSON). */
    trustPolicyFile: z
      .string()
      .min(1)
      .optional()
      .describe(
        "A trust policy file (notation's trustpolicy.json, version 1.0); relative to vouch.yaml's folder. Used when trustPolicy is not set.",
      ),
    /** Named stores: store name -> certificate files or directories, per store type. */
    trustStores: z
      .object({
        ca: storeMap
          .optional()
          .describe(
            'Stores the trust policy names as `ca:<name>`: name -> list of PEM/DER certificate files or folders of them (CA roots that issue signing certificates).',
          ),
        signingAuthority: storeMap
          .optional()
          .describe(
            'Stores named `signingAuthority:<name>`: name -> certificate files or folders (roots of signing authorities, notary.x509.signingAuthority scheme).',
          ),
        tsa: storeMap
          .optional()
          .describe(
            'Stores named `tsa:<name>`: name -> certificate files or folders holding self-signed RFC 3161 timestamp authority roots.',
          ),
      })
      .strict()
      .optional()
      .describe(
        "Named trust stores by type; paths are relative to vouch.yaml's folder. A store listed here wins over configDir's store of the same name.",
      ),
    revocation: z
      .object({
        /** Deadline of one OCSP or CRL request (default 2000 ms for OCSP, as the spec suggests). */
        timeoutMs: z
          .number()
          .int()
          .positive()
          .max(30_000)
          .optional()
          .describe(
            'Deadline of one OCSP or CRL request, in milliseconds (default 2000, as the spec suggests for OCSP; at most 30000).',
          ),
        allowPrivateNetwork: z
          .boolean()
          .optional()
          .describe(
            'Contact OCSP and CRL addresses (taken from certificates) on loopback, private and link-local networks, e.g. an internal PKI (default false: refused, and the revocation status is unknown).',
          ),
      })
      .strict()
      .optional()
      .describe(
        'How certificate revocation (OCSP, CRL) is checked; what a failure means is set by the trust policy.',
      ),
  })
  .strict();

export type NotationConfig = z.infer<typeof notationConfigSchema>;
