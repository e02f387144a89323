/**
 * The content policies of Ratify's SBOM and vulnerability-report verifiers, as settings: which
 * licences, packages, severities and CVEs deny. One declaration serves both places a content
 * policy is written: `verifiers.sbom` / `verifiers.vulnerabilityReport` (attached documents) and
 * a cosign attestation requirement's `sbom` / `vulnerabilities` (attested documents). Pure: the
 * readers and the evaluation live with the content verifiers.
 */
import { z } from 'zod';

/** The fields of an SBOM policy (Ratify's `disallowedLicenses`, `disallowedPackages`). */
export const sbomPolicyShape = {
  disallowedLicenses: z
    .array(z.string().min(1))
    .default([])
    .describe('SPDX licence ids that deny, also inside licence expressions.'),
  disallowedPackages: z
    .array(
      z
        .object({
          name: z
            .string()
            .min(1)
            .describe('Package name as the SBOM writes it (SPDX `name`, CycloneDX `name`).'),
          version: z
            .string()
            .min(1)
            .optional()
            .describe('Exact version; without one, every version of the name is disallowed.'),
          purl: z
            .string()
            .min(1)
            .optional()
            .describe(
              'Package URL to match instead of the name (qualifiers ignored; without `@version` every version).',
            ),
        })
        .strict(),
    )
    .default([])
    .describe('Packages that deny: `name`, optional `version` (without: every version), optional `purl`.'),
};

/** The fields of a vulnerability policy (Ratify's `disallowedSeverities`, `denylistCVEs`). */
export const vulnerabilityPolicyShape = {
  disallowedSeverities: z
    .array(z.string().min(1))
    .default([])
    .describe('Scanner severity labels that deny (case-insensitive), e.g. `[critical, high]`.'),
  denylistCVEs: z
    .array(z.string().min(1))
    .default([])
    .describe('Vulnerability ids that deny wherever they appear.'),
};

export interface DisallowedPackage {
  readonly name: string;
  readonly version?: string;
  readonly purl?: string;
}

/** An SBOM policy as the evaluation reads it. */
export interface SbomPolicy {
  readonly disallowedLicenses?: readonly string[];
  readonly disallowedPackages?: readonly DisallowedPackage[];
}

/** A vulnerability policy as the evaluation reads it. */
export interface VulnerabilityPolicy {
  readonly disallowedSeverities?: readonly string[];
  readonly denylistCVEs?: readonly string[];
}
