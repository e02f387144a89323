/**
 * A vouch Report as Ratify's VerifierResult. `isSuccess` is `verified`; `type` is the Verifier's
 * `type` (else its `name`), which Ratify's library Rego matches on (`type == "sbom"`,
 * `"vulnerabilityreport"`); `extensions` carry the fields Ratify's own verifiers put there
 * (notation `Issuer`/`SN`; vulnerability report `scanner`/`createdAt`/violations; SBOM licence and
 * package violations; the ATCR seed's `did`, `handle`, `signedAt`, `commitCid`, `pdsEndpoint`,
 * `error`), beside vouch's own `outcome`, `reason` and details.
 */
import type { Report } from '../engine/types.js';
import type { VerifierResult } from './protocol.js';

type Details = Readonly<Record<string, unknown>>;

function ratifyExtensions(verifier: string, report: Report): Record<string, unknown> {
  const d: Details = report.details;
  const failed = report.outcome !== 'verified';
  switch (verifier) {
    case 'notation':
      return {
        ...(typeof d.issuer === 'string' ? { Issuer: d.issuer } : {}),
        ...(typeof d.signer === 'string' ? { SN: d.signer } : {}),
      };
    case 'atproto':
      return {
        ...(typeof d.did === 'string' ? { did: d.did } : {}),
        ...(typeof d.handle === 'string' ? { handle: d.handle } : {}),
        ...(typeof d.signedAt === 'string' ? { signedAt: d.signedAt } : {}),
        ...(typeof d.commitCid === 'string' ? { commitCid: d.commitCid } : {}),
        ...(typeof d.pds === 'string' ? { pdsEndpoint: d.pds } : {}),
        ...(failed ? { error: `${report.reason}: ${report.message}` } : {}),
      };
    case 'vulnerabilityReport':
      return {
        ...(typeof d.scanner === 'string' ? { scanner: d.scanner } : {}),
        ...(typeof d.created === 'string' ? { createdAt: d.created } : {}),
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

export function toVerifierResult(
  config: Readonly<Record<string, unknown>>,
  verifier: string,
  report: Report,
): VerifierResult {
  const name = String(config.name);
  const type = typeof config.type === 'string' && config.type !== '' ? config.type : name;
  const ok = report.outcome === 'verified';
  return {
    isSuccess: ok,
    name,
    type,
    message: report.message,
    ...(ok ? {} : { errorReason: report.reason }),
    extensions: {
      ...report.details,
      ...ratifyExtensions(verifier, report),
      vouch: { verifier, outcome: report.outcome, reason: report.reason, digest: report.artifact.digest },
      ...(report.nested.length > 0
        ? {
            nested: report.nested.map((n) => ({
              verifier: n.verifier,
              outcome: n.outcome,
              reason: n.reason,
              digest: n.artifact.digest,
            })),
          }
        : {}),
    },
  };
}
