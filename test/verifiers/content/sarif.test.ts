/**
 * SARIF reading and the vulnerability policy, on documents built here for the cases the shared
 * vectors do not hold: bad input of each kind gets its own reason, never a pass.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ContentFailure } from '../../../src/verifiers/content/failure.js';
import { evaluateVulnerabilityReport } from '../../../src/verifiers/vulnerability-report/evaluate.js';
import { parseSarif, vulnerabilityId } from '../../../src/verifiers/vulnerability-report/sarif.js';

const enc = (v: unknown) => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));

function sarif(
  rules: Array<{ id: string; help?: string }>,
  results: Array<{ ruleId: string; message?: string }>,
) {
  return {
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'Scanner',
            version: '1.2.3',
            rules: rules.map((r) => ({ id: r.id, help: r.help ? { text: r.help } : undefined })),
          },
        },
        results: results.map((r) => ({ ruleId: r.ruleId, message: { text: r.message ?? '' } })),
      },
    ],
  };
}

function reasonOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof ContentFailure) return err.reason;
    throw err;
  }
  return 'ok';
}

test('not JSON, not an object, wrong version and no runs are malformed with a message naming it', () => {
  assert.throws(() => parseSarif(enc('{ nope')), /not JSON/);
  assert.throws(() => parseSarif(enc('[1]')), /not a JSON object/);
  assert.throws(() => parseSarif(enc({ version: '2.0.0', runs: [] })), /version "2.0.0", not 2.1.0/);
  assert.throws(() => parseSarif(enc({ version: '2.1.0' })), /has no runs/);
  assert.throws(() => parseSarif(enc({ version: '2.1.0', runs: [] })), /has no runs/);
  assert.throws(() => parseSarif(enc({ version: '2.1.0', runs: [{ tool: {} }] })), /tool.driver.name/);
  assert.throws(() => parseSarif(new Uint8Array([0xff, 0xfe, 0x00])), /not UTF-8/);
  assert.equal(
    reasonOf(() => parseSarif(enc({ version: '2.1.0', runs: [] }))),
    'malformed',
  );
});

test('a result without a ruleId is malformed; a run without results has no findings', () => {
  const doc = sarif([], []);
  (doc.runs[0] as { results: unknown[] }).results = [{ message: { text: 'x' } }];
  assert.throws(() => parseSarif(enc(doc)), /result 0 has no ruleId/);
  const empty = sarif([], []);
  delete (empty.runs[0] as { results?: unknown }).results;
  assert.deepEqual(parseSarif(enc(empty)).findings, []);
});

test('severity comes from the rule help label, then the result message; CVSS properties are ignored', () => {
  const report = parseSarif(
    enc(
      sarif(
        [
          { id: 'CVE-2024-0001', help: 'Vulnerability CVE-2024-0001\nSeverity: HIGH\n' },
          { id: 'CVE-2024-0002' },
        ],
        [{ ruleId: 'CVE-2024-0001' }, { ruleId: 'CVE-2024-0002', message: 'Severity: Low' }],
      ),
    ),
  );
  assert.deepEqual(
    report.findings.map((f) => [f.id, f.severity]),
    [
      ['CVE-2024-0001', 'high'],
      ['CVE-2024-0002', 'low'],
    ],
  );
  assert.deepEqual(report.scanner, { name: 'Scanner', version: '1.2.3' });
});

test('an unreadable severity fails disallowedSeverities but not a denylist-only policy', () => {
  const report = parseSarif(enc(sarif([{ id: 'GHSA-abcd-efgh-ijkl' }], [{ ruleId: 'GHSA-abcd-efgh-ijkl' }])));
  const bySeverity = evaluateVulnerabilityReport(report, { disallowedSeverities: ['critical'] });
  assert.equal(bySeverity.reason, 'unreadable-severity');
  assert.match(bySeverity.message, /GHSA-abcd-efgh-ijkl/);
  assert.equal(evaluateVulnerabilityReport(report, { denylistCVEs: ['CVE-1-1'] }).reason, 'ok');
  assert.equal(
    evaluateVulnerabilityReport(report, { denylistCVEs: ['GHSA-abcd-efgh-ijkl'] }).reason,
    'denylisted-cve',
  );
});

test('Grype rule ids name the CVE; counts are by label; each CVE once', () => {
  assert.equal(vulnerabilityId('CVE-1999-0001-package-1'), 'CVE-1999-0001');
  assert.equal(vulnerabilityId('cve-2020-12345-libssl'), 'CVE-2020-12345');
  assert.equal(vulnerabilityId('ALPINE-123'), 'ALPINE-123');
  const report = parseSarif(
    enc(
      sarif(
        [
          { id: 'CVE-2020-0001-a', help: 'Severity: critical' },
          { id: 'CVE-2020-0001-b', help: 'Severity: critical' },
          { id: 'CVE-2020-0002-a', help: 'Severity: medium' },
        ],
        [{ ruleId: 'CVE-2020-0001-a' }, { ruleId: 'CVE-2020-0001-b' }, { ruleId: 'CVE-2020-0002-a' }],
      ),
    ),
  );
  const v = evaluateVulnerabilityReport(report, { disallowedSeverities: ['CRITICAL'] });
  assert.equal(v.reason, 'disallowed-severity');
  assert.deepEqual(v.violations, ['CVE-2020-0001']);
  assert.deepEqual(v.counts, { critical: 2, medium: 1 });
});
