/**
 * The demo's content policy (examples/vouch.yaml over the embedded layout, as scripts/demo.sh runs
 * it) through bin/vouch: `app` (signed, a signed clean Trivy report, a signed SBOM) is allowed;
 * `web` (signed, but its signed report lists a critical CVE) is denied for that CVE; `base`
 * (nothing attached) is denied. Guards the committed layout and signatures as much as the CLI.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { before, describe, it } from 'node:test';
import { promisify } from 'node:util';

const ROOT = resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

interface ReportJson {
  verifier: string;
  outcome: string;
  reason: string;
  details: { violations?: Array<{ id?: string; severity?: string }> };
  nested: ReportJson[];
}
interface DecisionJson {
  allowed: boolean;
  rule: string;
  why: string[];
  reports: ReportJson[];
}

async function verify(tag: string): Promise<{ code: number; decision: DecisionJson }> {
  const args = ['verify', '--config', 'examples/vouch.yaml', `oci:examples/layout:${tag}`, '-o', 'json'];
  try {
    const { stdout } = await run(join(ROOT, 'bin', 'vouch'), args, { cwd: ROOT, timeout: 60_000 });
    return { code: 0, decision: JSON.parse(stdout) as DecisionJson };
  } catch (err) {
    const e = err as { code?: unknown; stdout?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, decision: JSON.parse(e.stdout ?? '') as DecisionJson };
  }
}

describe('the demo content policy on the example layout', { timeout: 120_000 }, () => {
  before(async () => {
    if (!existsSync(join(ROOT, 'dist', 'src', 'cli', 'main.js'))) {
      await run('npm', ['run', '-s', 'build'], { cwd: ROOT, timeout: 120_000 });
    }
  });

  it('allows app: the image, its report and its SBOM are each signed, nothing is disallowed', async () => {
    const { code, decision } = await verify('app');
    assert.equal(code, 0, decision.why.join('\n'));
    assert.equal(decision.allowed, true);
    const byVerifier = new Map(decision.reports.map((r) => [r.verifier, r]));
    for (const name of ['notation', 'vulnerabilityReport', 'sbom']) {
      assert.equal(byVerifier.get(name)?.outcome, 'verified', name);
    }
    for (const name of ['vulnerabilityReport', 'sbom']) {
      const signatures = byVerifier.get(name)?.nested ?? [];
      assert.deepEqual(
        signatures.map((n) => [n.verifier, n.outcome]),
        [['notation', 'verified']],
        `${name} is signed`,
      );
    }
  });

  it('denies web for the critical CVE in its signed report', async () => {
    const { code, decision } = await verify('web');
    assert.equal(code, 1);
    assert.equal(decision.allowed, false);
    const report = decision.reports.find((r) => r.verifier === 'vulnerabilityReport');
    assert.equal(report?.outcome, 'failed');
    assert.equal(report?.reason, 'disallowed-severity');
    assert.deepEqual(
      report?.nested.map((n) => n.outcome),
      ['verified'],
    );
    assert.match(JSON.stringify(report?.details.violations), /CVE-2021-44228/);
    assert.equal(decision.reports.find((r) => r.verifier === 'notation')?.outcome, 'verified');
    assert.match(decision.why.join('\n'), /vulnerabilityReport: .*CVE-2021-44228.*\[disallowed-severity\]/);
  });

  it('denies base, which has nothing attached, naming what is missing', async () => {
    const { code, decision } = await verify('base');
    assert.equal(code, 1);
    assert.deepEqual(decision.why, [
      'notation: no signature found',
      'vulnerabilityReport: no vulnerability report found',
      'sbom: no SBOM found',
    ]);
  });
});
