/**
 * The pure parts of ATCR scan support: the `io.atcr.hold.scan` record checks and Grype's JSON
 * report. Every malformed input names the field at fault; nothing passes unread.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { CID } from 'multiformats/cid';
import { create as createDigest } from 'multiformats/hashes/digest';
import { parseScanRecord, scanRecordKey } from '../../../src/verifiers/atproto/scan/record.js';
import { ContentFailure } from '../../../src/verifiers/content/failure.js';
import { evaluateVulnerabilityReport } from '../../../src/verifiers/vulnerability-report/evaluate.js';
import { parseGrypeJson } from '../../../src/verifiers/vulnerability-report/grype.js';

const blobCid = (bytes: string) =>
  CID.createV1(0x55, createDigest(0x12, createHash('sha256').update(bytes).digest()));

const RECORD = {
  $type: 'io.atcr.hold.scan',
  manifest: 'at://did:plc:aaaaaaaaaaaaaaaaaaaaaaaa/io.atcr.manifest/3kabc',
  repository: 'app',
  userDid: 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa',
  critical: 1,
  high: 0,
  medium: 2,
  low: 3,
  total: 6,
  scannedAt: '2026-12-01T00:00:00Z',
  scannerVersion: 'atcr-scanner-v1.0.0',
  vulnReportBlob: { $type: 'blob', ref: blobCid('{}'), mimeType: 'application/json', size: 2 },
};

describe('io.atcr.hold.scan records', () => {
  it('reads the lexicon fields and blob references', () => {
    const scan = parseScanRecord(RECORD);
    assert.deepEqual(scan.counts, { critical: 1, high: 0, medium: 2, low: 3, total: 6 });
    assert.equal(scan.vulnReportBlob?.cid.toString(), blobCid('{}').toString());
    assert.equal(scan.sbomBlob, undefined);
    assert.equal(scan.scannedAt, '2026-12-01T00:00:00.000Z');
  });

  it('names the field at fault', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ ...RECORD, manifest: 'https://example.com' }, /manifest .* is not an AT-URI/],
      [{ ...RECORD, userDid: 'alice' }, /userDid "alice" is not a DID/],
      [{ ...RECORD, critical: -1 }, /"critical" is not a non-negative integer/],
      [{ ...RECORD, total: '6' }, /"total" is not a non-negative integer/],
      [{ ...RECORD, scannedAt: 'yesterday' }, /scannedAt "yesterday" is not a date-time/],
      [{ ...RECORD, scannerVersion: undefined }, /no "scannerVersion" string/],
      [
        { ...RECORD, sbomBlob: { $type: 'blob', ref: 'bafy…', size: 1 } },
        /"sbomBlob" is not a blob reference/,
      ],
      [{ ...RECORD, vulnReportBlob: { $type: 'blob', ref: blobCid('x') } }, /"vulnReportBlob" has no size/],
    ];
    for (const [record, message] of cases) {
      assert.throws(
        () => parseScanRecord(record),
        (err: Error) => message.test(err.message),
        String(message),
      );
    }
  });

  it('keys records by the sha256 digest hex, and refuses other digests', () => {
    assert.equal(scanRecordKey(`sha256:${'ab'.repeat(32)}`), 'ab'.repeat(32));
    assert.throws(() => scanRecordKey(`sha512:${'ab'.repeat(64)}`), /keyed by sha256 digests/);
  });
});

describe('Grype JSON reports', () => {
  const grype = (doc: unknown) => new TextEncoder().encode(JSON.stringify(doc));

  it("reads Grype's labels and ids; a CVE in two packages is one violation", () => {
    const report = parseGrypeJson(
      grype({
        matches: [
          { vulnerability: { id: 'CVE-2021-44228', severity: 'Critical' }, artifact: { name: 'log4j-core' } },
          { vulnerability: { id: 'CVE-2021-44228', severity: 'Critical' }, artifact: { name: 'log4j-api' } },
          { vulnerability: { id: 'GHSA-abcd-efgh-ijkl', severity: 'Negligible' } },
        ],
        descriptor: { name: 'grype', version: '0.74.0' },
      }),
    );
    assert.deepEqual(report.scanner, { name: 'grype', version: '0.74.0' });
    const verdict = evaluateVulnerabilityReport(report, { disallowedSeverities: ['critical'] });
    assert.equal(verdict.reason, 'disallowed-severity');
    assert.deepEqual(verdict.violations, ['CVE-2021-44228']);
    assert.deepEqual(verdict.counts, { critical: 2, negligible: 1 });
  });

  it('refuses what is not Grype JSON, naming why', () => {
    const cases: Array<[Uint8Array, RegExp]> = [
      [new TextEncoder().encode('not json'), /is not JSON/],
      [grype([]), /is not a JSON object/],
      [grype({ version: '2.1.0', runs: [] }), /no "matches" array/],
      [grype({ matches: [{ vulnerability: { severity: 'High' } }] }), /match 0 has no vulnerability\.id/],
    ];
    for (const [bytes, message] of cases) {
      assert.throws(
        () => parseGrypeJson(bytes),
        (err: Error) =>
          err instanceof ContentFailure && err.reason === 'malformed' && message.test(err.message),
        String(message),
      );
    }
  });

  it('a match without a severity label is unreadable when severities are disallowed', () => {
    const report = parseGrypeJson(grype({ matches: [{ vulnerability: { id: 'CVE-2024-1' } }] }));
    assert.equal(
      evaluateVulnerabilityReport(report, { disallowedSeverities: ['high'] }).reason,
      'unreadable-severity',
    );
  });
});
