/** SBOM reading (SPDX, CycloneDX), licence expressions, package rules and report age. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkAge, parseMaximumAge } from '../../../src/verifiers/content/age.js';
import { ContentFailure } from '../../../src/verifiers/content/failure.js';
import { parseSbom } from '../../../src/verifiers/sbom/document.js';
import { evaluateSbom } from '../../../src/verifiers/sbom/evaluate.js';
import { licenseIds } from '../../../src/verifiers/sbom/license-expression.js';

const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const SPDX = 'application/spdx+json';
const CDX = 'application/vnd.cyclonedx+json';

const spdxDoc = (packages: unknown[]) => ({
  spdxVersion: 'SPDX-2.3',
  SPDXID: 'SPDXRef-DOCUMENT',
  name: 'doc',
  packages,
});
const cdxDoc = (components: unknown[]) => ({ bomFormat: 'CycloneDX', specVersion: '1.5', components });

function reason(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (err) {
    if (err instanceof ContentFailure) return err.reason;
    throw err;
  }
}

test('licence expressions yield their ids, not operators, exceptions or NOASSERTION', () => {
  assert.deepEqual(licenseIds('(MIT OR Apache-2.0) AND GPL-2.0-only WITH Classpath-exception-2.0'), [
    'MIT',
    'Apache-2.0',
    'GPL-2.0-only',
  ]);
  assert.deepEqual(licenseIds('NOASSERTION'), []);
  assert.deepEqual(licenseIds('LGPL-2.1+'), ['LGPL-2.1']);
  assert.deepEqual(licenseIds('MPL-2.0 AND LicenseRef-AND AND MIT'), ['MPL-2.0', 'LicenseRef-AND', 'MIT']);
});

test('a format that contradicts its media type is media-type-mismatch; non-SBOMs are malformed', () => {
  assert.equal(
    reason(() => parseSbom(enc(cdxDoc([])), SPDX)),
    'media-type-mismatch',
  );
  assert.equal(
    reason(() => parseSbom(enc(spdxDoc([])), CDX)),
    'media-type-mismatch',
  );
  assert.equal(
    reason(() => parseSbom(enc({ hello: 1 }), SPDX)),
    'malformed',
  );
  assert.equal(
    reason(() => parseSbom(enc({ ...spdxDoc([]), spdxVersion: 'SPDX-1.2' }), SPDX)),
    'malformed',
  );
  assert.equal(
    reason(() => parseSbom(enc({ ...cdxDoc([]), specVersion: '1.1' }), CDX)),
    'malformed',
  );
  assert.equal(
    reason(() => parseSbom(enc(spdxDoc([{ versionInfo: '1' }])), SPDX)),
    'malformed',
  );
  assert.equal(
    reason(() => parseSbom(enc(spdxDoc([])), 'text/plain')),
    'malformed',
  );
  assert.equal(
    reason(() => parseSbom(new TextEncoder().encode('not json'), SPDX)),
    'malformed',
  );
});

test('licence ids compare case-insensitively; packages by name, version and purl', () => {
  const sbom = parseSbom(
    enc(
      spdxDoc([
        {
          name: 'a',
          versionInfo: '1.0',
          licenseConcluded: 'gpl-3.0-only',
          externalRefs: [{ referenceType: 'purl', referenceLocator: 'pkg:npm/a@1.0?x=1' }],
        },
        { name: 'b', versionInfo: '2.0', licenseDeclared: 'MIT' },
      ]),
    ),
    `${SPDX};version=2.3`,
  );
  const byLicence = evaluateSbom(sbom, { disallowedLicenses: ['GPL-3.0-only'] });
  assert.equal(byLicence.reason, 'disallowed-license');
  assert.deepEqual(byLicence.licenseViolations, [{ name: 'a', version: '1.0', license: 'gpl-3.0-only' }]);
  assert.equal(
    evaluateSbom(sbom, { disallowedPackages: [{ name: 'x', purl: 'pkg:npm/a' }] }).reason,
    'disallowed-package',
  );
  assert.equal(
    evaluateSbom(sbom, { disallowedPackages: [{ name: 'x', purl: 'pkg:npm/a@2.0' }] }).reason,
    'ok',
  );
  assert.equal(evaluateSbom(sbom, { disallowedPackages: [{ name: 'b' }] }).reason, 'disallowed-package');
  assert.equal(evaluateSbom(sbom, { disallowedPackages: [{ name: 'b', version: '3' }] }).reason, 'ok');
});

test('CycloneDX nested components and licence expressions count', () => {
  const sbom = parseSbom(
    enc(
      cdxDoc([
        {
          name: 'outer',
          version: '1',
          components: [
            { name: 'inner', version: '2', licenses: [{ expression: 'BSD-3-Clause OR AGPL-3.0-only' }] },
          ],
        },
      ]),
    ),
    CDX,
  );
  assert.equal(sbom.packages.length, 2);
  const v = evaluateSbom(sbom, { disallowedLicenses: ['AGPL-3.0-only'] });
  assert.deepEqual(v.licenseViolations, [{ name: 'inner', version: '2', license: 'AGPL-3.0-only' }]);
});

test('maximumAge: durations parse, missing or old creation times fail, fresh ones pass', () => {
  assert.equal(parseMaximumAge('24h'), 86_400_000);
  assert.equal(parseMaximumAge('1h30m'), 5_400_000);
  assert.equal(parseMaximumAge('7d'), 604_800_000);
  assert.throws(() => parseMaximumAge('soon'), /not a duration/);
  const now = new Date('2026-01-02T00:00:00Z');
  const created = { 'org.opencontainers.image.created': '2026-01-01T12:00:00Z' };
  assert.equal(checkAge(created, parseMaximumAge('24h'), now), '2026-01-01T12:00:00.000Z');
  assert.equal(
    reason(() => checkAge(created, parseMaximumAge('6h'), now)),
    'too-old',
  );
  assert.equal(
    reason(() => checkAge({}, parseMaximumAge('6h'), now)),
    'missing-created',
  );
  assert.equal(
    reason(() => checkAge({ 'org.opencontainers.image.created': 'yesterday' }, 1000, now)),
    'missing-created',
  );
  assert.equal(checkAge(undefined, undefined, now), undefined);
});
