/**
 * A vouch Report as Ratify's VerifierResult, as the verifier plugin prints it. `isSuccess` is
 * `verified`; `type` is the Verifier's `type` (else its `name`), which Ratify's library Rego matches
 * on (`type == "sbom"`, `"vulnerabilityreport"`); `extensions` carry the fields Ratify's own
 * verifiers put there (`ratifyExtensions`, shared with the Gatekeeper value), beside vouch's own
 * `outcome`, `reason` and details.
 */
import type { Report } from '../engine/types.js';
import type { VerifierResult } from './protocol.js';
import { ratifyExtensions } from './report-fields.js';

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
