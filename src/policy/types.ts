/**
 * vouch's own policy: which verifiers must succeed for which images, and how.
 * The format-specific trust policies (notation's trustpolicy.json, the ATCR trust policy, cosign
 * identities) decide whether ONE artifact verifies; this policy decides whether the IMAGE may run.
 */
import { z } from 'zod';

export const requirementSchema = z
  .object({
    /** Name of the verifier that must succeed (`notation`, `cosign`, `atproto`). */
    verifier: z.string().min(1),
    /**
     * `any`: at least one artifact verified by this verifier suffices (others may fail);
     * `all`: at least one artifact, and every artifact this verifier accepts, must verify.
     */
    artifacts: z.enum(['any', 'all']).default('any'),
  })
  .strict();

export const ruleSchema = z
  .object({
    name: z.string().min(1),
    /** Image patterns (see policy/scope.ts); one string or a list. */
    scope: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
    /** `enforce` denies what fails; `audit` allows and reports what would have been denied. */
    mode: z.enum(['enforce', 'audit']).default('enforce'),
    /** `all`: every requirement must hold; `any`: one suffices. */
    match: z.enum(['all', 'any']).default('all'),
    /** What must verify. Empty means nothing is required (the image is allowed). */
    require: z.array(requirementSchema).default([]),
  })
  .strict();

export const policySchema = z
  .object({
    /** For images no rule matches: deny (the default) or allow. */
    default: z.enum(['deny', 'allow']).default('deny'),
    rules: z.array(ruleSchema).default([]),
  })
  .strict();

export type RequirementConfig = z.infer<typeof requirementSchema>;
export type RuleConfig = z.infer<typeof ruleSchema>;
export type PolicyConfig = z.infer<typeof policySchema>;
