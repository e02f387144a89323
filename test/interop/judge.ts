import type { CaseResult, InteropCase } from './types.js';

/** The expected boolean of a case: `expect.verified`, else `expect.valid`, else `expect.loads`. */
export function expectedOutcome(testCase: InteropCase): boolean | undefined {
  const e = testCase.expect;
  return e.verified ?? e.valid ?? e.loads;
}

/**
 * Default pass rule: the boolean outcome matches, and when the case names a failure class
 * (`expect.reason`, or any of `expect.acceptableReasons`) the result's reason is one of them.
 */
export function defaultJudge(testCase: InteropCase, result: CaseResult): boolean {
  const want = expectedOutcome(testCase);
  if (want === undefined || want !== result.verified) return false;
  const reasons = [testCase.expect.reason, ...(testCase.expect.acceptableReasons ?? [])].filter(
    (r): r is string => typeof r === 'string',
  );
  if (reasons.length === 0) return true;
  return reasons.includes(result.reason);
}
