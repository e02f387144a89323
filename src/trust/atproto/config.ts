/**
 * `verifiers.atproto` in vouch.yaml. The inline `trustPolicy` has exactly the format of ATCR's
 * trust policy (ATCR `examples/plugins/*`/trust-policy.yaml; docs/atproto.md): `version`,
 * `trustedDIDs` (`name`, `validFrom`, `expiresAt`), `policies` (`name`, `scope`,
 * `require.signature`, `trustedDIDs`, `action`). Defaults live in `ATPROTO_DEFAULTS`.
 */
import { z } from 'zod';

const isoDate = z
  .union([z.string(), z.date()])
  .transform((v) => (v instanceof Date ? v.toISOString() : v))
  .refine((v) => !Number.isNaN(Date.parse(v)), { message: 'must be an RFC 3339 date-time' });

/** One trusted DID and its validity window. */
export const trustedDidSchema = z
  .object({
    name: z.string().optional(),
    validFrom: isoDate.nullish(),
    expiresAt: isoDate.nullish(),
  })
  .strict();

/** One scoped policy. */
export const atcrPolicySchema = z
  .object({
    name: z.string().min(1),
    scope: z.string().min(1),
    require: z.object({ signature: z.boolean() }).strict().default({ signature: true }),
    trustedDIDs: z.array(z.string()).default([]),
    action: z.enum(['enforce', 'audit']).default('enforce'),
  })
  .strict();

/** The ATCR trust policy document. `version: 1.0` (YAML reads it as the number 1). */
export const atcrTrustPolicySchema = z
  .object({
    version: z.union([z.literal(1), z.literal('1.0'), z.literal('1')]),
    trustedDIDs: z.record(z.string(), trustedDidSchema.nullable()).default({}),
    policies: z.array(atcrPolicySchema).default([]),
    /**
     * vouch's addition: ATCR holds whose `io.atcr.hold.scan` records (vulnerability counts, SBOM
     * and Grype report blobs) count as signed content. Each must be listed in `trustedDIDs` (its
     * validity window applies). Empty: scan records are not read.
     */
    trustedHolds: z.array(z.string()).default([]),
  })
  .strict();

export type AtcrTrustPolicyInput = z.input<typeof atcrTrustPolicySchema>;

/** Deadline of one network request, in milliseconds (at most two minutes). */
const requestDeadlineMs = z.number().int().positive().max(120_000).optional();

export const atprotoConfigSchema = z
  .object({
    trustPolicy: z
      .unknown()
      .optional()
      .describe(
        'The ATCR trust policy inline (`version`, `trustedDIDs`, `policies`; docs/atproto.md). Give exactly one of trustPolicy or trustPolicyFile.',
      ),
    trustPolicyFile: z
      .string()
      .min(1)
      .optional()
      .describe(
        "The ATCR trust policy as a YAML or JSON file (`--atproto-policy`), relative to vouch.yaml's folder.",
      ),
    plcUrl: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe('PLC directory that resolves did:plc DIDs (`--plc-url`); default `https://plc.directory`.'),
    allowPrivateNetwork: z
      .boolean()
      .optional()
      .describe(
        'Allow did:web hosts, PDS endpoints and handle hosts on loopback, private or link-local addresses (`--allow-private-network`). Default false (SSRF protection); for tests and private deployments only.',
      ),
    didResolverTimeoutMs: requestDeadlineMs.describe(
      'Deadline of one DID document request, in milliseconds (default 10000), within the decision deadline.',
    ),
    pdsTimeoutMs: requestDeadlineMs.describe(
      'Deadline of one PDS getRecord request, in milliseconds (default 10000), within the decision deadline.',
    ),
    verifyPlcLog: z
      .boolean()
      .optional()
      .describe(
        'Replay the did:plc audit log (rotation-key signatures, prev chain) and require it to end in the served document. Default false (one more request per DID).',
      ),
    cacheTtlSeconds: z
      .number()
      .int()
      .min(0)
      .max(86_400)
      .optional()
      .describe(
        'How long resolved DID documents and handle checks are cached, in seconds (default 300; failed lookups at most 30 s).',
      ),
  })
  .strict();

/** `verifiers.atproto` as written (all optional; see ATPROTO_DEFAULTS). */
export type AtprotoConfig = z.input<typeof atprotoConfigSchema> & {
  trustPolicy?: AtcrTrustPolicyInput | unknown;
};

/** The one place the atproto defaults live. */
export const ATPROTO_DEFAULTS = {
  plcUrl: 'https://plc.directory',
  allowPrivateNetwork: false,
  didResolverTimeoutMs: 10_000,
  pdsTimeoutMs: 10_000,
  verifyPlcLog: false,
  cacheTtlSeconds: 300,
} as const;
