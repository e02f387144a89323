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
import { sbomPolicyShape, vulnerabilityPolicyShape } from '../../policy/content.js';
import type { IdentityMatcher, PredicateCondition } from './types.js';

/** Compiles `source` anchored (`^(?:…)$`); throws a zod-friendly Error on a bad pattern. */
export function compileAnchored(source: string): RegExp {
  return new RegExp(`^(?:${source})$`);
}

/** Parses a condition path: `a.b[0].c` or `$.a.b`. Throws on an empty segment. */
export function parseConditionPath(path: string): (string | number)[] {
  const segments: (string | number)[] = [];
  const body = path.startsWith('$.') ? path.slice(2) : path;
  for (const part of body.split('.')) {
    const m = /^([^[\]]+)((?:\[\d+\])*)$/.exec(part);
    if (!m?.[1]) throw new Error(`bad path segment ${JSON.stringify(part)} in ${path}`);
    segments.push(m[1]);
    for (const idx of (m[2] ?? '').matchAll(/\[(\d+)\]/g)) segments.push(Number(idx[1]));
  }
  return segments;
}

/** A zod refinement: true when `parse` accepts the value (the parser stays the one source of truth). */
function parsesWith(parse: (value: string) => unknown): (value: string) => boolean {
  return (value) => {
    try {
      parse(value);
      return true;
    } catch {
      return false;
    }
  };
}

const regexpString = z
  .string()
  .min(1)
  .refine(parsesWith(compileAnchored), { message: 'not a valid regular expression' });

/** An optional non-empty string (an empty one would match nothing or everything). */
const optionalText = z.string().min(1).optional();

const identitySchema = z
  .object({
    issuer: optionalText.describe(
      'OIDC issuer the certificate must name, exactly (`--certificate-oidc-issuer`), e.g. `https://token.actions.githubusercontent.com`. This or issuerRegExp is required.',
    ),
    issuerRegExp: regexpString
      .optional()
      .describe(
        'Regular expression the whole OIDC issuer must match (anchored; `--certificate-oidc-issuer-regexp`).',
      ),
    subject: optionalText.describe(
      'Certificate identity (a SAN: email, URI such as a workflow URL@ref) that must match exactly (`--certificate-identity`). This or subjectRegExp is required.',
    ),
    subjectRegExp: regexpString
      .optional()
      .describe(
        'Regular expression the whole certificate identity must match (anchored; `--certificate-identity-regexp`).',
      ),
    githubWorkflowTrigger: optionalText.describe(
      'Exact GitHub Actions event that ran the workflow, e.g. `push` (Fulcio extension 1.3.6.1.4.1.57264.1.2).',
    ),
    githubWorkflowSha: optionalText.describe(
      'Exact commit SHA the workflow ran on (Fulcio extension 1.3.6.1.4.1.57264.1.3).',
    ),
    githubWorkflowName: optionalText.describe(
      'Exact workflow name (Fulcio extension 1.3.6.1.4.1.57264.1.4).',
    ),
    githubWorkflowRepository: optionalText.describe(
      'Exact `owner/repo` the workflow ran in, e.g. `acme/api` (Fulcio extension 1.3.6.1.4.1.57264.1.5).',
    ),
    githubWorkflowRef: optionalText.describe(
      'Exact git ref the workflow ran on, e.g. `refs/tags/v1.4` (Fulcio extension 1.3.6.1.4.1.57264.1.6).',
    ),
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
      .refine(parsesWith(parseConditionPath), { message: 'not a path like a.b[0].c' })
      .describe(
        'Where in the predicate to look, e.g. `buildDefinition.buildType` or `materials[0].uri` (a leading `$.` is allowed).',
      ),
    equals: z
      .union([z.string(), z.number(), z.boolean()])
      .optional()
      .describe('The value at path must equal this (same type: string, number or boolean).'),
    matches: regexpString
      .optional()
      .describe('The value at path must be a string matching this regular expression as a whole (anchored).'),
  })
  .strict()
  .refine((c) => c.equals !== undefined || c.matches !== undefined, {
    message: 'a condition needs equals or matches',
  });

const attestationSchema = z
  .object({
    predicateType: z
      .string()
      .min(1)
      .describe('in-toto predicate type that is accepted, e.g. `https://slsa.dev/provenance/v1` (`--type`).'),
    conditions: z
      .array(conditionSchema)
      .optional()
      .describe('Conditions on the predicate; all must hold. Each needs equals or matches (or both).'),
    provenance: z
      .object({
        builderId: z
          .string()
          .min(1)
          .optional()
          .describe('SLSA builder id (v1 `runDetails.builder.id`, v0.2 `builder.id`).'),
        sourceRepository: z
          .string()
          .min(1)
          .optional()
          .describe(
            'Source repository URL (GitHub workflow repository, or the git material); `git+` and `.git` ignored.',
          ),
        sourceRef: z
          .string()
          .min(1)
          .optional()
          .describe('Source ref, e.g. `refs/heads/main` or `refs/tags/v1.2.0`.'),
        buildType: z.string().min(1).optional().describe('SLSA build type URI.'),
      })
      .strict()
      .optional()
      .describe(
        'SLSA provenance (v1 and v0.2) conditions, each with its own reason: builder-mismatch, source-mismatch, ref-mismatch, build-type-mismatch.',
      ),
    sbom: z
      .object(sbomPolicyShape)
      .strict()
      .optional()
      .describe(
        'For SPDX / CycloneDX predicates: the SBOM policy of `verifiers.sbom` (disallowedLicenses, disallowedPackages), applied to the attested SBOM.',
      ),
    vulnerabilities: z
      .object(vulnerabilityPolicyShape)
      .strict()
      .optional()
      .describe(
        'For SARIF and cosign vuln/v1 predicates (scanner.result a SARIF log): the policy of `verifiers.vulnerabilityReport`.',
      ),
  })
  .strict();

const requirementFields = {
  keys: z
    .array(z.string().min(1))
    .optional()
    .describe(
      "Trusted public key files (PEM: ECDSA P-256/P-384, RSA, Ed25519; `--key`), relative to vouch.yaml's folder. Use keys or identities, not both.",
    ),
  threshold: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe(
      'Distinct signers (distinct keys, or verifying certificates) that must have signed; default 1, at most the number of keys.',
    ),
  identities: z
    .array(identitySchema)
    .optional()
    .describe(
      'Accepted keyless signer identities; a signature verifies when any one matches. Needs trustedRoot (or tuf).',
    ),
  ignoreTlog: z
    .boolean()
    .optional()
    .describe(
      'Accept signatures without a verified Rekor transparency-log entry (`--insecure-ignore-tlog`). Weakens verification; by default an entry is required for keyless signatures and whenever the trusted root has Rekor keys.',
    ),
  ignoreSct: z
    .boolean()
    .optional()
    .describe(
      'Accept keyless certificates without a verified certificate-transparency SCT (`--insecure-ignore-sct`). Weakens verification; off by default.',
    ),
  attestations: z
    .array(attestationSchema)
    .optional()
    .describe(
      "Accepted attestations: when set, an attestation verifies only if its predicate type is listed here and meets that entry's conditions.",
    ),
  /** When set, the simple-signing payload's docker-reference must equal it. */
  dockerReference: optionalText.describe(
    "When set, the simple-signing payload's docker-reference must equal it, e.g. `ghcr.io/acme/api` (guards against a signature copied from another repository).",
  ),
};

const scopeSchema = z
  .object({
    scope: z
      .string()
      .min(1)
      .describe(
        'Image pattern (`registry/repository`, `*` one path segment, `**` any depth) this override applies to.',
      ),
    ...requirementFields,
  })
  .strict()
  .refine((s) => !(s.keys?.length && s.identities?.length), {
    message: 'use keys or identities in one scope, not both',
  });

/** The `verifiers.cosign` section. */
export const cosignConfigSchema = z
  .object({
    ...requirementFields,
    trustedRoot: optionalText.describe(
      "sigstore trusted_root.json (Fulcio CAs, Rekor and CT log keys, TSAs; `--trusted-root`), relative to vouch.yaml's folder. Needed for keyless identities and Rekor checks; read once at start, no network.",
    ),
    policies: z
      .array(scopeSchema)
      .optional()
      .describe(
        'Per-image overrides: the most specific matching scope applies, overriding the top-level fields it sets (keys and identities replace each other).',
      ),
    tuf: z
      .object({
        mirror: z
          .string()
          .url()
          .describe(
            'TUF repository URL that `vouch trust-refresh` reads, e.g. `https://tuf-repo-cdn.sigstore.dev`.',
          ),
        cacheDir: z
          .string()
          .min(1)
          .describe(
            "Folder of the TUF cache; its trusted_root.json is used when trustedRoot is not set. Relative to vouch.yaml's folder.",
          ),
        /** The mirror's initial TUF root.json (not needed for the public sigstore mirrors). */
        initialRoot: optionalText.describe(
          "The mirror's initial TUF root.json, the trust anchor of the first refresh (not needed for the public sigstore mirrors).",
        ),
      })
      .strict()
      .optional()
      .describe(
        'Opt-in trusted-root updates over TUF: `vouch trust-refresh` fills cacheDir; verification itself stays offline.',
      ),
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
