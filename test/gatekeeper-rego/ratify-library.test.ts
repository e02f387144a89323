/**
 * Ratify's library ConstraintTemplates that read per-verifier reports (notation-validation,
 * notation-issuer-validation, notation-nested-validation, sbom-validation,
 * vulnerability-report-validation) under the real Rego engine against a live `vouch serve`
 * (HTTPS + mTLS) on Ratify's path, with Notary Project signatures, SBOMs and vulnerability reports
 * on a real registry (library-world.ts). The upstream files are not in ../shared, which is all a
 * test may read, so fixtures/ratify-library/ re-states each: the same fields, read the same way
 * (each file's header names the template it mirrors). StrictBuiltinErrors off and on. Skipped,
 * saying so, without ../shared.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type LibraryWorld, NOTARY_SIGNATURE, SIGNER_ISSUER, startLibraryWorld } from './library-world.js';
import { type ServedVouch, serveVouch } from './live.js';
import { type PodImages, review } from './reviews.js';
import { assertViolations, evaluateBoth, type TemplateFile, type World } from './suite.js';
import { createRegoEngine, skipReason } from './vouchrego.js';

const skip = skipReason();
if (skip) process.stderr.write(`SKIPPED: ${skip}\n`);

const fixture = (name: string, kind: string): TemplateFile => ({
  file: path.join(import.meta.dirname, 'fixtures', 'ratify-library', `${name}.yaml`),
  label: `fixtures/ratify-library/${name}.yaml`,
  kind,
});
const NOTATION = fixture('notation-validation', 'NotationValidation');
const ISSUER = fixture('notation-issuer-validation', 'NotationIssuerValidation');
const NESTED = fixture('notation-nested-validation', 'NotationNestedValidation');
const SBOM = fixture('sbom-validation', 'SbomValidation');
const VULN = fixture('vulnerability-report-validation', 'VulnerabilityReportValidation');

interface Report {
  type: string;
  isSuccess: boolean;
  artifactType?: string;
  extensions: Record<string, unknown>;
  nestedResults?: Report[];
}

describe("Ratify's library templates (re-stated in fixtures/) against vouch serve on Ratify's path", {
  skip,
  concurrency: true,
}, () => {
  const world = {} as World;
  let lib: LibraryWorld;
  let vouch: ServedVouch;
  const pod = (images: PodImages) => review('Pod', images, { namespace: 'production' });
  const run = (template: TemplateFile, images: PodImages, parameters: unknown = {}) =>
    evaluateBoth(world, template, {
      review: pod(images),
      parameters,
      providers: [{ name: 'ratify-provider', url: `${vouch.url}/ratify/gatekeeper/v1/verify` }],
    });

  before(async () => {
    const engine = createRegoEngine();
    lib = await startLibraryWorld();
    vouch = await serveVouch(lib.config, lib.files);
    world.engine = await engine;
    world.live = vouch;
  });
  after(async () => {
    await world.engine?.close();
    await vouch?.stop();
    await lib?.close();
  });

  it("the value a template sees: Ratify's types, extensions and nestedResults", async () => {
    const r = await run(NOTATION, { containers: [lib.image.signed] });
    const value = r.calls[0]?.rego_response?.responses[0]?.[1] as {
      isSuccess: boolean;
      succeeded: boolean;
      verifierReports: Report[];
    };
    assert.equal(value.isSuccess, true);
    assert.equal(value.succeeded, true);
    const byType = (t: string) => value.verifierReports.filter((x) => x.type === t);
    const [signature] = byType('notation');
    assert.equal(byType('notation').length, 1, JSON.stringify(value.verifierReports));
    assert.equal(signature?.artifactType, NOTARY_SIGNATURE);
    assert.equal(signature?.extensions.Issuer, SIGNER_ISSUER);
    assert.equal(signature?.nestedResults, undefined);
    for (const t of ['sbom', 'vulnerabilityreport']) {
      const [content] = byType(t);
      assert.equal(content?.isSuccess, true, t);
      assert.deepEqual(
        content?.nestedResults?.map((n) => [n.type, n.artifactType, n.isSuccess]),
        [['notation', NOTARY_SIGNATURE, true]],
        t,
      );
    }
    assert.match(String(byType('vulnerabilityreport')[0]?.extensions.createdAt), /^\d{4}-\d\d-\d\dT/);
  });

  describe(`${NOTATION.label} (Ratify v1.4.0 library/notation-validation)`, { concurrency: true }, () => {
    it('signed (also with a failing report): no violation; unsigned: denied', async () => {
      assertViolations(
        await run(NOTATION, { containers: [lib.image.signed, lib.image.critical] }),
        [],
        'signed',
      );
      assertViolations(
        await run(NOTATION, { containers: [lib.image.signed], initContainers: [lib.image.unsigned] }),
        [`no verified notation signature: ${lib.image.unsigned}`],
        'unsigned',
      );
    });

    it("Ratify's caveat, kept: an image vouch cannot decide passes (no rule for per-key errors)", async () => {
      const bad = `${lib.host}/lib//bad`;
      const r = await run(NOTATION, { containers: [bad] });
      assertViolations(r, [], 'undecidable');
      assert.match(r.calls[0]?.rego_response?.errors[0]?.[1] ?? '', /^REFERENCE_INVALID/);
    });
  });

  describe(`${ISSUER.label} (Ratify library/notation-issuer-validation)`, { concurrency: true }, () => {
    it("the signing certificate's issuer in extensions.Issuer: signed passes; another issuer denies", async () => {
      const ok = await run(ISSUER, { containers: [lib.image.signed] }, { issuer: SIGNER_ISSUER });
      assertViolations(ok, [], 'right issuer');
      const other = await run(ISSUER, { containers: [lib.image.signed] }, { issuer: 'CN=someone else' });
      assertViolations(
        other,
        [`no notation signature with Issuer CN=someone else: ${lib.image.signed}`],
        'other issuer',
      );
    });

    it('unsigned: not verified and no signature by the issuer; critical: not verified', async () => {
      const r = await run(
        ISSUER,
        { containers: [lib.image.unsigned, lib.image.critical] },
        { issuer: SIGNER_ISSUER },
      );
      assertViolations(
        r,
        [
          `not verified: ${lib.image.unsigned}`,
          `no notation signature with Issuer ${SIGNER_ISSUER}: ${lib.image.unsigned}`,
          `not verified: ${lib.image.critical}`,
        ],
        'denied',
      );
    });
  });

  describe(`${NESTED.label} (Ratify library/notation-nested-validation)`, { concurrency: true }, () => {
    it('signed image with signed SBOM and report: no violation (regression: vouch sent empty nestedResults)', async () => {
      assertViolations(
        await run(NESTED, { containers: [lib.image.signed, lib.image.critical] }),
        [],
        'signed',
      );
    });

    it('unsigned: denied', async () => {
      assertViolations(
        await run(NESTED, { containers: [lib.image.unsigned] }),
        [`not every level has a verified notary signature: ${lib.image.unsigned}`],
        'unsigned',
      );
    });
  });

  describe(`${SBOM.label} (Ratify library/sbom-validation)`, { concurrency: true }, () => {
    for (const requireSignature of [false, true]) {
      it(`requireSignature ${requireSignature}: a verified SBOM passes; no SBOM denies`, async () => {
        const r = await run(
          SBOM,
          { containers: [lib.image.signed, lib.image.critical, lib.image.unsigned] },
          { requireSignature },
        );
        assertViolations(r, [`SBOM check failed: ${lib.image.unsigned}`], `require ${requireSignature}`);
      });
    }
  });

  describe(`${VULN.label} (Ratify library/vulnerability-report-validation)`, { concurrency: true }, () => {
    for (const requireSignature of [false, true]) {
      it(`requireSignature ${requireSignature}: a clean report passes; a critical CVE or no report denies`, async () => {
        const r = await run(
          VULN,
          { containers: [lib.image.signed, lib.image.critical, lib.image.unsigned] },
          { requireSignature },
        );
        assertViolations(
          r,
          [
            `vulnerability report check failed: ${lib.image.critical}`,
            `vulnerability report check failed: ${lib.image.unsigned}`,
          ],
          `require ${requireSignature}`,
        );
      });
    }
  });
});
