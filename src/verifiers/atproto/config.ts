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
  })
  .strict();

export type AtcrTrustPolicyInput = z.input<typeof atcrTrustPolicySchema>;

export const atprotoConfigSchema = z
  .object({
    trustPolicy: z.unknown().optional(),
    trustPolicyFile: z.string().min(1).optional(),
    plcUrl: z.url({ protocol: /^https?$/ }).optional(),
    allowPrivateNetwork: z.boolean().optional(),
    didResolverTimeoutMs: z.number().int().positive().max(120_000).optional(),
    pdsTimeoutMs: z.number().int().positive().max(120_000).optional(),
    verifyPlcLog: z.boolean().optional(),
    cacheTtlSeconds: z.number().int().min(0).max(86_400).optional(),
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
