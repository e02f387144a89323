/**
 * Fuzzing the content documents: SARIF and Grype vulnerability reports, SPDX and CycloneDX SBOMs,
 * and the license expressions inside them. Seeds come from the test report builders
 * (test/helpers/reports.ts) and small documents written here. Properties: the parsers throw only
 * ContentFailure; what parses can be judged by the policies without throwing; the evaluation of
 * a parsed document is a pure function of it (the same verdict twice).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseSbom } from '../../src/verifiers/sbom/document.js';
import { evaluateSbom } from '../../src/verifiers/sbom/evaluate.js';
import { licenseIds } from '../../src/verifiers/sbom/license-expression.js';
import { CYCLONEDX_MEDIA_TYPE, SPDX_MEDIA_TYPE } from '../../src/verifiers/sbom/model.js';
import { evaluateVulnerabilityReport } from '../../src/verifiers/vulnerability-report/evaluate.js';
import { parseGrypeJson } from '../../src/verifiers/vulnerability-report/grype.js';
import { parseSarif } from '../../src/verifiers/vulnerability-report/sarif.js';
import { sarifReport, spdxSbom } from '../helpers/reports.js';
import { arbitraryBytes, check, mutatedBytes, mutatedJsonBytes, outcome } from './harness.js';

const CONTENT = ['ContentFailure'];
const json = (bytes: Uint8Array) => JSON.parse(Buffer.from(bytes).toString('utf8'));

const SARIF = sarifReport([
  { cve: 'CVE-2024-0001', severity: 'critical', pkg: 'openssl' },
  { cve: 'CVE-2024-0002', severity: 'low' },
]);
const SPDX = spdxSbom([
  { name: 'openssl', version: '3.0.0', license: 'Apache-2.0 OR (MIT AND BSD-3-Clause)' },
  { name: 'zlib', version: '1.3', license: 'Zlib' },
]);
const CYCLONEDX = Buffer.from(
  JSON.stringify({
    bomFormat: 'CycloneDX',
    specVersion: '1.5',
    metadata: { component: { name: 'app' } },
    components: [
      {
        name: 'lodash',
        version: '4.17.21',
        purl: 'pkg:npm/lodash@4.17.21',
        licenses: [{ license: { id: 'MIT' } }],
      },
      {
        name: 'left-pad',
        version: '1.0.0',
        licenses: [{ expression: 'WTFPL OR GPL-2.0-only WITH Classpath-exception-2.0' }],
        components: [{ name: 'inner' }],
      },
    ],
  }),
);
const GRYPE = Buffer.from(
  JSON.stringify({
    matches: [
      {
        vulnerability: { id: 'CVE-2024-0003', severity: 'High' },
        artifact: { name: 'busybox', version: '1.36' },
      },
      { vulnerability: { id: 'GHSA-xxxx-yyyy-zzzz', severity: 'Negligible' }, artifact: { name: 'x' } },
    ],
    descriptor: { name: 'grype', version: '0.80.0' },
  }),
);

const judgeReport = (report: ReturnType<typeof parseSarif>) => {
  const policy = { disallowedSeverities: ['critical', 'high'], denylistCVEs: ['CVE-2024-0002'] };
  assert.deepEqual(evaluateVulnerabilityReport(report, policy), evaluateVulnerabilityReport(report, policy));
};
const judgeSbom = (sbom: ReturnType<typeof parseSbom>) => {
  const policy = {
    disallowedLicenses: ['GPL-2.0-only', 'WTFPL'],
    disallowedPackages: [{ name: 'left-pad' }, { name: 'openssl', version: '3.0.0' }],
  };
  assert.deepEqual(evaluateSbom(sbom, policy), evaluateSbom(sbom, policy));
};

function documents(valid: Uint8Array): fc.Arbitrary<Uint8Array> {
  return fc.oneof(arbitraryBytes(), mutatedJsonBytes(json(valid)), mutatedBytes(valid));
}

describe('when vulnerability reports are fuzzed', () => {
  it('the seeds parse', () => {
    assert.equal(parseSarif(SARIF).findings.length, 2);
    assert.equal(parseGrypeJson(GRYPE).findings.length, 2);
  });

  it('SARIF: arbitrary and edited documents throw only ContentFailure; parsed ones are judged', () => {
    check(
      'sarif: arbitrary and mutated',
      [documents(SARIF)],
      (bytes) => {
        if (outcome(() => parseSarif(bytes), CONTENT) === 'ok') judgeReport(parseSarif(bytes));
      },
      3,
    );
  });

  it('Grype JSON: arbitrary and edited documents throw only ContentFailure; parsed ones are judged', () => {
    check(
      'grype: arbitrary and mutated',
      [documents(GRYPE)],
      (bytes) => {
        if (outcome(() => parseGrypeJson(bytes), CONTENT) === 'ok') judgeReport(parseGrypeJson(bytes));
      },
      2,
    );
  });
});

describe('when SBOMs are fuzzed', () => {
  it('the seeds parse', () => {
    assert.equal(parseSbom(SPDX, SPDX_MEDIA_TYPE).packages.length, 2);
    assert.ok(parseSbom(CYCLONEDX, CYCLONEDX_MEDIA_TYPE).packages.length >= 2);
  });

  for (const [name, valid, mediaType] of [
    ['spdx', SPDX, SPDX_MEDIA_TYPE],
    ['cyclonedx', CYCLONEDX, CYCLONEDX_MEDIA_TYPE],
  ] as const) {
    it(`${name}: arbitrary and edited documents, under either media type, throw only ContentFailure`, () => {
      check(
        `${name}: arbitrary and mutated`,
        [
          documents(valid),
          fc.constantFrom(SPDX_MEDIA_TYPE, CYCLONEDX_MEDIA_TYPE, `${mediaType}; charset=utf-8`, 'text/plain'),
        ],
        (bytes, mt) => {
          if (outcome(() => parseSbom(bytes, mt), CONTENT) === 'ok') judgeSbom(parseSbom(bytes, mt));
        },
        3,
      );
    });
  }

  it('license expressions of any text never throw', () => {
    const token = fc.constantFrom(
      'MIT',
      'Apache-2.0',
      'AND',
      'OR',
      'WITH',
      '(',
      ')',
      '+',
      'LicenseRef-x',
      ' ',
      'GPL-2.0-only',
    );
    check(
      'license expression: arbitrary',
      [
        fc.oneof(
          fc.string({ maxLength: 60 }),
          fc.array(token, { maxLength: 20 }).map((t) => t.join(' ')),
        ),
      ],
      (s) => {
        outcome(() => licenseIds(s), []);
      },
    );
  });
});
