/**
 * SBOMs and vulnerability reports carried as in-toto attestations (cosign `.att`, sigstore
 * bundles): the attestation's signature is the report's signature, and the predicate is judged by
 * the same readers and policies as an attached document (src/verifiers/sbom,
 * src/verifiers/vulnerability-report). Predicate types: `https://spdx.dev/Document`,
 * `https://cyclonedx.org/bom`, `https://cosign.sigstore.dev/attestation/vuln/v1` (whose
 * `scanner.result` must be a SARIF log) and SARIF (`…sarif…`).
 */
import type { ContentPredicatePolicy } from '../../trust/cosign/types.js';
import { asObject, ContentFailure } from '../content/failure.js';
import { readCycloneDx } from '../sbom/cyclonedx.js';
import { evaluateSbom } from '../sbom/evaluate.js';
import { readSpdx } from '../sbom/spdx.js';
import { evaluateVulnerabilityReport } from '../vulnerability-report/evaluate.js';
import { readSarif } from '../vulnerability-report/sarif.js';
import { CosignCheckFailure } from './failure.js';

export const SPDX_PREDICATE = 'https://spdx.dev/Document';
export const CYCLONEDX_PREDICATE = 'https://cyclonedx.org/bom';
export const COSIGN_VULN_PREDICATE = 'https://cosign.sigstore.dev/attestation/vuln/v1';

const startsWith = (type: string, base: string) => type === base || type.startsWith(`${base}/`);

function object(predicate: unknown, what: string): Record<string, unknown> {
  const o = asObject(predicate);
  if (!o) throw new ContentFailure('malformed', `the ${what} predicate is not a JSON object`);
  return o;
}

function judge(predicateType: string, predicate: unknown, policy: ContentPredicatePolicy): void {
  if (
    policy.sbom &&
    (startsWith(predicateType, SPDX_PREDICATE) || startsWith(predicateType, CYCLONEDX_PREDICATE))
  ) {
    const doc = startsWith(predicateType, SPDX_PREDICATE)
      ? readSpdx(object(predicate, 'SPDX'))
      : readCycloneDx(object(predicate, 'CycloneDX'));
    const v = evaluateSbom(doc, policy.sbom);
    if (v.reason !== 'ok')
      throw new CosignCheckFailure(v.reason, v.message, {
        violations: [...v.licenseViolations, ...v.packageViolations],
      });
    return;
  }
  if (policy.vulnerabilities) {
    let sarif: unknown;
    if (predicateType === COSIGN_VULN_PREDICATE) {
      sarif = asObject(asObject(object(predicate, 'vuln').scanner)?.result);
      if (!sarif) throw new ContentFailure('malformed', 'the vuln/v1 predicate has no scanner.result');
    } else if (/sarif/i.test(predicateType)) sarif = predicate;
    if (sarif !== undefined) {
      const v = evaluateVulnerabilityReport(readSarif(sarif), policy.vulnerabilities);
      if (v.reason !== 'ok') throw new CosignCheckFailure(v.reason, v.message, { violations: v.violations });
      return;
    }
  }
  throw new CosignCheckFailure(
    'predicate-type-mismatch',
    `predicate type ${predicateType} carries no ${policy.sbom ? 'SBOM' : 'vulnerability report'} vouch reads`,
  );
}

/** Throws a CosignCheckFailure naming the violation; a predicate that is not its format is malformed. */
export function checkContentPredicate(
  predicateType: string,
  predicate: unknown,
  policy: ContentPredicatePolicy,
): void {
  try {
    judge(predicateType, predicate, policy);
  } catch (err) {
    if (err instanceof ContentFailure) throw new CosignCheckFailure('malformed', err.message);
    throw err;
  }
}
