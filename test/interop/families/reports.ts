/**
 * Interop handlers for the `reports` family (../shared/interop/reports/README.md): kinds
 * `vulnerability-report` (SARIF 2.1.0 from Trivy and Grype) and `sbom` (SPDX and CycloneDX JSON).
 * Each runs the file through vouch's own parsers and policy evaluation; the judge also compares
 * `expect.violations` with what vouch reports (as sets: each violation once).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ContentFailure } from '../../../src/verifiers/content/failure.js';
import { parseSbom } from '../../../src/verifiers/sbom/document.js';
import { type DisallowedPackage, evaluateSbom } from '../../../src/verifiers/sbom/evaluate.js';
import { evaluateVulnerabilityReport } from '../../../src/verifiers/vulnerability-report/evaluate.js';
import { parseSarif } from '../../../src/verifiers/vulnerability-report/sarif.js';
import { defaultJudge } from '../judge.js';
import type { CaseEnv, CaseResult, FamilyHandlers, InteropCase } from '../types.js';

/** The violations a handler found, carried to the judge in `detail` as JSON. */
interface ReportsResult extends CaseResult {
  readonly violations?: readonly unknown[];
}

const strings = (v: unknown): string[] | undefined =>
  Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : undefined;

async function run(fn: () => Promise<ReportsResult>): Promise<ReportsResult> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ContentFailure) return { verified: false, reason: err.reason, detail: err.message };
    throw err;
  }
}

const read = (env: CaseEnv, testCase: InteropCase) => readFile(path.join(env.dir, String(testCase.file)));
const policyOf = (testCase: InteropCase) => (testCase.policy ?? {}) as Record<string, unknown>;

async function vulnerabilityReport(testCase: InteropCase, env: CaseEnv): Promise<ReportsResult> {
  return run(async () => {
    const policy = policyOf(testCase);
    const report = parseSarif(await read(env, testCase));
    const verdict = evaluateVulnerabilityReport(report, {
      ...(strings(policy.disallowedSeverities)
        ? { disallowedSeverities: strings(policy.disallowedSeverities) }
        : {}),
      ...(strings(policy.denylistCVEs) ? { denylistCVEs: strings(policy.denylistCVEs) } : {}),
    });
    return {
      verified: verdict.reason === 'ok',
      reason: verdict.reason,
      detail: `${verdict.message}; violations ${JSON.stringify(verdict.violations)}`,
      violations: verdict.violations,
    };
  });
}

async function sbom(testCase: InteropCase, env: CaseEnv): Promise<ReportsResult> {
  return run(async () => {
    const policy = policyOf(testCase);
    const doc = parseSbom(await read(env, testCase), String(testCase.mediaType));
    const verdict = evaluateSbom(doc, {
      ...(strings(policy.disallowedLicenses)
        ? { disallowedLicenses: strings(policy.disallowedLicenses) }
        : {}),
      ...(Array.isArray(policy.disallowedPackages)
        ? { disallowedPackages: policy.disallowedPackages as DisallowedPackage[] }
        : {}),
    });
    const violations = [...verdict.licenseViolations, ...verdict.packageViolations];
    return {
      verified: verdict.reason === 'ok',
      reason: verdict.reason,
      detail: `${verdict.message}; violations ${JSON.stringify(violations)}`,
      violations,
    };
  });
}

/** Canonical JSON of one violation (sorted keys) so sets compare by value. */
function canonical(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
    .join(',')}}`;
}

function judge(testCase: InteropCase, result: CaseResult): boolean {
  if (!defaultJudge(testCase, result)) return false;
  const want = testCase.expect.violations;
  if (!Array.isArray(want)) return true;
  const got = (result as ReportsResult).violations ?? [];
  const a = got.map(canonical).sort();
  const b = want.map(canonical).sort();
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export const reportsFamily: FamilyHandlers = {
  family: 'reports',
  handlers: { 'vulnerability-report': vulnerabilityReport, sbom },
  judge,
};
