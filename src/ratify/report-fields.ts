/**
 * The parts of Ratify's VerifierResult that say what a vouch Report means in Ratify's words, shared
 * by the two places vouch speaks Ratify: the verifier plugin's stdout (`./result.ts`) and the
 * Gatekeeper value on Ratify's provider paths (`server/values.ts`).
 *
 * - `ratifyType`: the verifier `type` Ratify's library ConstraintTemplates match on
 *   (library/notation-validation `type == "notation"`, library/sbom-validation `"sbom"`,
 *   library/vulnerability-report-validation `"vulnerabilityreport"`: the built-in and plugin type
 *   names of Ratify v1.4.0, pkg/verifier/notation/notation.go, plugins/verifier/sbom,
 *   plugins/verifier/vulnerabilityreport).
 * - `ratifyExtensions`: the `extensions` keys Ratify's own verifiers write, from vouch's details:
 *   notation `Issuer` and `SN` (the signing certificate's issuer and subject, notation.go);
 *   vulnerability report `createdAt` (the artifact's `org.opencontainers.image.created`, RFC 3339)
 *   and `scanner`, and `severityViolations` / `denylistViolations` (vulnerability_report.go); SBOM
 *   `licenseViolations` / `packageViolations` (sbom.go); the ATCR seed's `did`, `handle`,
 *   `signedAt`, `commitCid`, `pdsEndpoint`, `error` (atcr-ratify-verifier-plugin.md).
 */
import type { Report } from '../engine/types.js';

type Details = Readonly<Record<string, unknown>>;

/** vouch verifier name → Ratify's verifier type name, where they differ. */
const RATIFY_TYPE: Readonly<Record<string, string>> = {
  vulnerabilityReport: 'vulnerabilityreport',
};

/** Ratify's type name for a vouch verifier (`notation`, `cosign`, `sbom`, `vulnerabilityreport`, …). */
export function ratifyType(verifier: string): string {
  return RATIFY_TYPE[verifier] ?? verifier;
}

const text = (v: unknown): v is string => typeof v === 'string' && v !== '';

/** The extensions Ratify's verifier of the same kind would write, from `report`'s details. */
export function ratifyExtensions(verifier: string, report: Report): Record<string, unknown> {
  const d: Details = report.details;
  const failed = report.outcome !== 'verified';
  switch (verifier) {
    case 'notation':
      return {
        ...(text(d.issuer) ? { Issuer: d.issuer } : {}),
        ...(text(d.signer) ? { SN: d.signer } : {}),
      };
    case 'atproto':
      return {
        ...(text(d.did) ? { did: d.did } : {}),
        ...(text(d.handle) ? { handle: d.handle } : {}),
        ...(text(d.signedAt) ? { signedAt: d.signedAt } : {}),
        ...(text(d.commitCid) ? { commitCid: d.commitCid } : {}),
        ...(text(d.pds) ? { pdsEndpoint: d.pds } : {}),
        ...(failed ? { error: `${report.reason}: ${report.message}` } : {}),
      };
    case 'vulnerabilityReport':
      return {
        ...(text(d.scanner) ? { scanner: d.scanner } : {}),
        ...(text(d.created) ? { createdAt: d.created } : {}),
        ...(report.reason === 'disallowed-severity' ? { severityViolations: d.violations } : {}),
        ...(report.reason === 'denylisted-cve' ? { denylistViolations: d.violations } : {}),
      };
    case 'sbom':
      return report.reason === 'disallowed-license'
        ? { licenseViolations: d.violations }
        : report.reason === 'disallowed-package'
          ? { packageViolations: d.violations }
          : {};
    default:
      return {};
  }
}
