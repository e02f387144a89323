/** The rule that content (an SBOM, a vulnerability report) counts only when it is signed itself. */
import type { Report, Verifier } from './types.js';

/**
 * A content verifier's verdict stands only when the content itself carries a verified signature
 * by one of `v.signedBy` (a referrer of the report, verified against the report's digest).
 */
export function requireSignature(v: Verifier, report: Report): Report {
  const wanted = v.signedBy ?? [];
  if (wanted.length === 0 || report.outcome !== 'verified') return report;
  const signers = report.nested.filter((r) => r.outcome === 'verified' && wanted.includes(r.verifier));
  if (signers.length > 0)
    return {
      ...report,
      details: { ...report.details, signedBy: [...new Set(signers.map((r) => r.verifier))] },
    };
  const tried = report.nested.filter((r) => wanted.includes(r.verifier));
  return {
    ...report,
    outcome: 'failed',
    reason: 'unsigned-report',
    message:
      tried.length === 0
        ? `${v.name}: the artifact carries no signature by ${wanted.join(' or ')}; unsigned content does not count`
        : `${v.name}: no signature on the artifact verified (${tried.map((r) => `${r.verifier}: ${r.reason}`).join(', ')})`,
  };
}
