/**
 * vouch's own policy: which verifiers must succeed for which images, and how.
 * The format-specific trust policies (notation's trustpolicy.json, the ATCR trust policy, cosign
 * identities) decide whether ONE artifact verifies; this policy decides whether the IMAGE may run.
 */
import { z } from 'zod';

/** A signature the required artifact itself must carry (evaluated over the referrer tree). */
export const signedBySchema = z
  .object({
    verifier: z
      .string()
      .min(1)
      .describe('Verifier of the signature on the artifact (`notation`, `cosign`, …).'),
  })
  .strict();

export const requirementSchema = z
  .object({
    verifier: z
      .string()
      .min(1)
      .describe('Name of the verifier that must succeed (`notation`, `cosign`, `atproto`).'),
    artifacts: z
      .enum(['any', 'all'])
      .default('any')
      .describe(
        '`any`: at least one artifact verified by this verifier suffices (others may fail); `all`: at least one artifact, and every artifact this verifier accepts, must verify.',
      ),
    predicateType: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Counts only attestations of this in-toto predicate type (e.g. `https://slsa.dev/provenance/v1`, `https://cyclonedx.org/bom`) that the verifier verified: a plain signature, or an attestation of another type, does not meet it. For `cosign`.',
      ),
    signedBy: z
      .array(signedBySchema)
      .min(1)
      .optional()
      .describe(
        'Nested requirement: an artifact counts only when it carries a signature (a referrer of the artifact) verified by one of these verifiers, e.g. `{verifier: sbom, signedBy: [{verifier: notation}]}`. A signature of an SBOM never counts as a signature of the image.',
      ),
  })
  .strict();

export const ruleSchema = z
  .object({
    name: z
      .string()
      .min(1)
      .describe(
        'Name of the rule, shown in reports and metrics (`rule`) so a reader knows which rule decided.',
      ),
    scope: z
      .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
      .describe(
        'Image patterns matched against `registry/repository` (`*` one path segment, `**` any depth, `*` alone every image); one string or a list. The most specific matching rule applies (docs/policy.md).',
      ),
    mode: z
      .enum(['enforce', 'audit'])
      .default('enforce')
      .describe('`enforce` denies what fails; `audit` allows and reports what would have been denied.'),
    match: z
      .enum(['all', 'any'])
      .default('all')
      .describe('`all`: every requirement must hold; `any`: one suffices.'),
    platforms: z
      .union([
        z.literal('index'),
        z.literal('all'),
        z
          .array(
            z.string().regex(/^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/i, 'a platform is os/arch[/variant]'),
          )
          .min(1),
      ])
      .default('index')
      .describe(
        "For a multi-arch image (OCI index / Docker manifest list): `index` verifies the artifacts attached to the index; a list (`[linux/amd64, linux/arm64]`) requires each listed platform's manifest to satisfy `require` (a listed platform the index lacks fails with `platform-missing`); `all` requires every child manifest (attestation manifests excepted). A single-platform image is verified as itself.",
      ),
    verifyIndex: z
      .boolean()
      .default(false)
      .describe(
        "With `platforms` a list or `all`: also require the index's own artifacts to satisfy `require`.",
      ),
    require: z
      .array(requirementSchema)
      .default([])
      .describe('What must verify. Empty means nothing is required (the image is allowed).'),
  })
  .strict();

export const policySchema = z
  .object({
    default: z
      .enum(['deny', 'allow'])
      .default('deny')
      .describe('For images no rule matches: deny (the default) or allow.'),
    rules: z
      .array(ruleSchema)
      .default([])
      .describe('Rules scoped by image pattern; for each image the most specific matching rule decides.'),
  })
  .strict();

export type RequirementConfig = z.infer<typeof requirementSchema>;
export type RuleConfig = z.infer<typeof ruleSchema>;
export type PolicyConfig = z.infer<typeof policySchema>;
