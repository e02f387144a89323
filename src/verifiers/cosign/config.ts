/**
 * `verifiers.cosign` in vouch.yaml: keys, identities, trusted root, attestations, per-scope
 * overrides. Mirrors `cosign verify` flags (`--key`, `--certificate-identity[-regexp]`,
 * `--certificate-oidc-issuer[-regexp]`, `--certificate-github-workflow-*`, `--trusted-root`,
 * `--insecure-ignore-tlog`, `--insecure-ignore-sct`, `--type`).
 *
 * Secure by default (STYLE habit 8): identities match exactly unless a `…RegExp` field is used;
 * regexps are anchored and compiled here, when the config loads; a keyless identity must
 * constrain both the subject and the issuer (as cosign requires), never be empty.
 */
import { z } from 'zod';
import type { IdentityMatcher } from './identity.js';
import type { PredicateCondition } from './model.js';
import { parseConditionPath } from './statement.js';

/** Compiles `source` anchored (`^(?:…)$`); throws a zod-friendly Error on a bad pattern. */
export function compileAnchored(source: string): RegExp {
  return new RegExp(`^(?:${source})$`);
}

const regexpString = z
  .string()
  .min(1)
  .refine(
    (s) => {
      try {
        compileAnchored(s);
        return true;
      } catch {
        return false;
      }
    },
    { message: 'not a valid regular expression' },
  );

const identitySchema = z
  .object({
    issuer: z.string().min(1).optional(),
    issuerRegExp: regexpString.optional(),
    subject: z.string().min(1).optional(),
    subjectRegExp: regexpString.optional(),
    githubWorkflowTrigger: z.string().min(1).optional(),
    githubWorkflowSha: z.string().min(1).optional(),
    githubWorkflowName: z.string().min(1).optional(),
    githubWorkflowRepository: z.string().min(1).optional(),
    githubWorkflowRef: z.string().min(1).optional(),
  })
  .strict()
  .refine((i) => i.subject !== undefined || i.subjectRegExp !== undefined, {
    message: 'a keyless identity needs subject or subjectRegExp (an empty identity would trust every signer)',
  })
  .refine((i) => i.issuer !== undefined || i.issuerRegExp !== undefined, {
    message: 'a keyless identity needs issuer or issuerRegExp (an empty identity would trust every issuer)',
  });

const conditionSchema = z
  .object({
    path: z
      .string()
      .min(1)
      .refine(
        (p) => {
          try {
            parseConditionPath(p);
            return true;
          } catch {
            return false;
          }
        },
        { message: 'not a path like a.b[0].c' },
      ),
    equals: z.union([z.string(), z.number(), z.boolean()]).optional(),
    matches: regexpString.optional(),
  })
  .strict()
  .refine((c) => c.equals !== undefined || c.matches !== undefined, {
    message: 'a condition needs equals or matches',
  });

const attestationSchema = z
  .object({ predicateType: z.string().min(1), conditions: z.array(conditionSchema).optional() })
  .strict();

const requirementFields = {
  keys: z.array(z.string().min(1)).optional(),
  threshold: z.number().int().min(1).optional(),
  identities: z.array(identitySchema).optional(),
  ignoreTlog: z.boolean().optional(),
  ignoreSct: z.boolean().optional(),
  attestations: z.array(attestationSchema).optional(),
  /** When set, the simple-signing payload's docker-reference must equal it. */
  dockerReference: z
    .string()
    .min(1)
    .optional()
    .describe("When set, the simple-signing payload's docker-reference must equal it."),
};

const scopeSchema = z
  .object({ scope: z.string().min(1), ...requirementFields })
  .strict()
  .refine((s) => !(s.keys?.length && s.identities?.length), {
    message: 'use keys or identities in one scope, not both',
  });

/** The `verifiers.cosign` section. */
export const cosignConfigSchema = z
  .object({
    ...requirementFields,
    trustedRoot: z.string().min(1).optional(),
    policies: z.array(scopeSchema).optional(),
    tuf: z
      .object({
        mirror: z.string().url(),
        cacheDir: z.string().min(1),
        /** The mirror's initial TUF root.json (not needed for the public sigstore mirrors). */
        initialRoot: z
          .string()
          .min(1)
          .optional()
          .describe("The mirror's initial TUF root.json (not needed for the public sigstore mirrors)."),
      })
      .strict()
      .optional(),
  })
  .strict()
  .refine((c) => !(c.keys?.length && c.identities?.length), {
    message: 'use keys or identities, not both (put them in separate policies scopes)',
  });

export type CosignConfig = z.infer<typeof cosignConfigSchema>;
export type CosignIdentityConfig = z.infer<typeof identitySchema>;
export type CosignAttestationConfig = z.infer<typeof attestationSchema>;

/** Compiles one configured identity into a matcher (regexps anchored). */
export function compileIdentity(i: CosignIdentityConfig): IdentityMatcher {
  const github: NonNullable<IdentityMatcher['github']> = {};
  if (i.githubWorkflowTrigger) github.githubWorkflowTrigger = i.githubWorkflowTrigger;
  if (i.githubWorkflowSha) github.githubWorkflowSha = i.githubWorkflowSha;
  if (i.githubWorkflowName) github.githubWorkflowName = i.githubWorkflowName;
  if (i.githubWorkflowRepository) github.githubWorkflowRepository = i.githubWorkflowRepository;
  if (i.githubWorkflowRef) github.githubWorkflowRef = i.githubWorkflowRef;
  return {
    ...(i.issuer !== undefined ? { issuer: i.issuer } : {}),
    ...(i.issuerRegExp !== undefined ? { issuerRegExp: compileAnchored(i.issuerRegExp) } : {}),
    ...(i.subject !== undefined ? { subject: i.subject } : {}),
    ...(i.subjectRegExp !== undefined ? { subjectRegExp: compileAnchored(i.subjectRegExp) } : {}),
    github,
  };
}

/** Compiles the predicate conditions of one attestation requirement. */
export function compileConditions(a: CosignAttestationConfig): PredicateCondition[] {
  return (a.conditions ?? []).map((c) => ({
    path: c.path,
    segments: parseConditionPath(c.path),
    ...(c.equals !== undefined ? { equals: c.equals } : {}),
    ...(c.matches !== undefined ? { matches: compileAnchored(c.matches) } : {}),
  }));
}
