/**
 * Generic interop runner: `npm run interop -- <dir> [<dir> …]`.
 * Reads `<dir>/cases.json`, runs every case through the family's handler for its kind, prints
 * one JSON line per case (`id`, `verified`, `reason`, `pass`) and a last line `N passed, N failed`.
 * Exits 0 only when every case meets its expectation. A case with no handler fails; nothing is skipped.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { families } from './families/index.js';
import { defaultJudge, expectedOutcome } from './judge.js';
import type { CaseResult, InteropSuite } from './types.js';

/** Runs one folder; returns the counts. Exported for the runner's own test. */
export async function runSuite(
  dir: string,
  print: (line: string) => void,
): Promise<{ passed: number; failed: number }> {
  let suite: InteropSuite;
  try {
    suite = JSON.parse(await readFile(path.join(dir, 'cases.json'), 'utf8')) as InteropSuite;
  } catch (err) {
    print(
      JSON.stringify({
        id: `${dir}/cases.json`,
        verified: false,
        reason: 'unreadable',
        pass: false,
        detail: String(err),
      }),
    );
    return { passed: 0, failed: 1 };
  }
  if (!Array.isArray(suite.cases)) {
    print(
      JSON.stringify({
        id: `${dir}/cases.json`,
        verified: false,
        reason: 'malformed',
        pass: false,
        detail: 'no cases array',
      }),
    );
    return { passed: 0, failed: 1 };
  }
  const family = families.find((f) => f.family === suite.family);
  let passed = 0;
  let failed = 0;
  for (const testCase of suite.cases) {
    const handler = family?.handlers[testCase.kind];
    let result: CaseResult;
    if (!handler) {
      result = {
        verified: false,
        reason: 'unsupported-case',
        detail: `no handler for family ${suite.family} kind ${testCase.kind}`,
      };
    } else {
      try {
        result = await handler(testCase, { dir, suite });
      } catch (err) {
        result = {
          verified: false,
          reason: 'runner-error',
          detail: err instanceof Error ? err.message : String(err),
        };
      }
    }
    const pass = handler !== undefined && (family?.judge ?? defaultJudge)(testCase, result);
    if (pass) passed++;
    else failed++;
    const line: Record<string, unknown> = {
      id: testCase.id,
      verified: result.verified,
      reason: result.reason,
      pass,
    };
    if (!pass) {
      line.expected = { verified: expectedOutcome(testCase), reason: testCase.expect.reason };
      if (result.detail) line.detail = result.detail;
    }
    print(JSON.stringify(line));
  }
  return { passed, failed };
}

async function main(): Promise<void> {
  const dirs = process.argv.slice(2).filter((a) => a !== '--');
  if (dirs.length === 0) {
    console.error('usage: npm run interop -- <dir-with-cases.json> [<dir> …]');
    process.exit(2);
  }
  let passed = 0;
  let failed = 0;
  for (const dir of dirs) {
    const r = await runSuite(path.resolve(dir), (l) => console.log(l));
    passed += r.passed;
    failed += r.failed;
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('run.ts')) {
  await main();
}
