/**
 * Legacy cosign attestations end to end: in-toto statements signed into DSSE envelopes by
 * vouch's attestation signer (key-based, and keyless through `@sigstore/mock` Fulcio and Rekor on
 * loopback), appended to the image's `sha256-<hex>.att` tag on a real registry, and verified by the
 * cosign verifier with predicate type requirements and predicate conditions.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Report } from '../../../src/engine/types.js';
import { createRegistryClient, type RegistryClient } from '../../../src/registry/client.js';
import { attestCosign } from '../../../src/sign/cosign/attest.js';
import { decryptCosignKey, generateCosignKeyPair } from '../../../src/sign/cosign/index.js';
import type { CosignConfig } from '../../../src/trust/cosign/config.js';
import { loadCosignTrust } from '../../../src/trust/cosign/load.js';
import { createCosignVerifier } from '../../../src/verifiers/cosign/index.js';
import { startRegistry, type TestRegistry } from '../../helpers/registry.js';
import { sarifReport, spdxSbom } from '../../helpers/reports.js';
import { identityToken, type SigstoreMock, startSigstoreMock } from '../../helpers/sigstore-mock.js';
import {
  cosignTagArtifact,
  type PushedImage as Image,
  pushFreshImage,
  verifyArtifact,
} from '../../helpers/verify-artifact.js';

const SLSA = 'https://slsa.dev/provenance/v1';
const SPDX = 'https://spdx.dev/Document';
const BUILDER = 'https://github.com/actions/runner/github-hosted';
const PROVENANCE = {
  buildDefinition: {
    buildType: 'https://actions.github.io/buildtypes/workflow/v1',
    externalParameters: { workflow: { repository: 'https://github.com/acme/app', ref: 'refs/heads/main' } },
  },
  runDetails: { builder: { id: BUILDER } },
};
const ISSUER = 'https://token.actions.githubusercontent.com';
const SUBJECT = 'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main';

describe('cosign .att attestations on a real registry', { timeout: 90_000 }, () => {
  let registry: TestRegistry;
  let sigstore: SigstoreMock;
  let client: RegistryClient;
  let dir: string;
  const keys = { k1: { pub: 'k1.pub', pkcs8: '' }, k2: { pub: 'k2.pub', pkcs8: '' } };

  before(async () => {
    [registry, sigstore] = await Promise.all([startRegistry(), startSigstoreMock()]);
    client = createRegistryClient({ insecureHosts: [registry.host] });
    dir = await mkdtemp(path.join(tmpdir(), 'vouch-attest-e2e-'));
    for (const k of [keys.k1, keys.k2]) {
      const pair = generateCosignKeyPair('pw');
      k.pkcs8 = decryptCosignKey(pair.privateKeyFile, 'pw');
      await writeFile(path.join(dir, k.pub), pair.publicKeyPem);
    }
    await writeFile(path.join(dir, 'trusted_root.json'), sigstore.trustedRootJson());
  });
  after(async () => {
    await client?.close();
    await Promise.all([registry?.stop(), sigstore?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const image = (tag: string) => pushFreshImage(client, `${registry.host}/attested`, tag);

  function attestWithKey(
    img: Image,
    predicateType = SLSA,
    predicate: unknown = PROVENANCE,
    pkcs8 = keys.k1.pkcs8,
  ) {
    return attestCosign({
      repository: img.repository,
      subject: img.subject,
      subjectReference: img.name,
      predicateType,
      predicate,
      signer: { privateKeyPem: pkcs8 },
    });
  }

  async function verify(img: Image, config: CosignConfig): Promise<Report> {
    const verifier = createCosignVerifier(await loadCosignTrust(config, { baseDir: dir }));
    return verifyArtifact(verifier, img, await cosignTagArtifact(img, 'att'));
  }

  describe('signed with a key', () => {
    it('writes a DSSE layer with cosign annotations in the .att tag', async () => {
      const img = await image('layout');
      await attestWithKey(img);
      const att = await img.repository.fetchManifest(`${img.subject.digest.replace(':', '-')}.att`);
      assert.equal(att.manifest.kind, 'manifest');
      const layer = att.manifest.kind === 'manifest' ? att.manifest.layers[0] : undefined;
      assert.equal(layer?.mediaType, 'application/vnd.dsse.envelope.v1+json');
      assert.deepEqual(layer?.annotations, { predicateType: SLSA, 'dev.cosignproject.cosign/signature': '' });
    });

    it('verifies when the required predicate type matches, with the predicate in the details', async () => {
      const img = await image('match');
      await attestWithKey(img);
      const report = await verify(img, { keys: [keys.k1.pub], attestations: [{ predicateType: SLSA }] });
      assert.equal(report.outcome, 'verified', report.message);
      const [first] = report.details.attestations as Array<{ predicateType: string; predicate: unknown }>;
      assert.equal(first?.predicateType, SLSA);
      assert.deepEqual(first?.predicate, PROVENANCE);
    });

    it('fails with predicate-type-mismatch when the policy requires another predicate type', async () => {
      const img = await image('mismatch');
      await attestWithKey(img, SPDX, { spdxVersion: 'SPDX-2.3' });
      const report = await verify(img, { keys: [keys.k1.pub], attestations: [{ predicateType: SLSA }] });
      assert.equal(report.outcome, 'failed');
      assert.equal(report.reason, 'predicate-type-mismatch');
      assert.match(report.message, /spdx\.dev/);
    });

    it('verifies when one of several .att layers has the required type', async () => {
      const img = await image('two-layers');
      await attestWithKey(img, SPDX, { spdxVersion: 'SPDX-2.3' });
      await attestWithKey(img);
      const report = await verify(img, { keys: [keys.k1.pub], attestations: [{ predicateType: SLSA }] });
      assert.equal(report.outcome, 'verified', report.message);
      assert.equal((report.details.attestations as unknown[]).length, 1);
    });

    it('applies predicate conditions (builder id equals, source repository matches)', async () => {
      const img = await image('conditions');
      await attestWithKey(img);
      const conditions = (builder: string) => ({
        keys: [keys.k1.pub],
        attestations: [
          {
            predicateType: SLSA,
            conditions: [
              { path: 'runDetails.builder.id', equals: builder },
              {
                path: 'buildDefinition.externalParameters.workflow.repository',
                matches: 'https://github\\.com/acme/.*',
              },
            ],
          },
        ],
      });
      const ok = await verify(img, conditions(BUILDER));
      assert.equal(ok.outcome, 'verified', ok.message);
      const bad = await verify(img, conditions('https://evil.example/builder'));
      assert.equal(bad.outcome, 'failed');
      assert.equal(bad.reason, 'condition-failed');
    });

    it('applies SLSA provenance conditions with one reason per mismatch (v1 and v0.2 predicates)', async () => {
      const img = await image('provenance');
      await attestWithKey(img);
      const v02 = await image('provenance-v02');
      await attestWithKey(v02, 'https://slsa.dev/provenance/v0.2', {
        builder: { id: BUILDER },
        buildType: 'https://github.com/slsa-framework/slsa-github-generator/generic@v1',
        invocation: {
          configSource: {
            uri: 'git+https://github.com/acme/app@refs/tags/v1.0.0',
            entryPoint: 'release.yml',
          },
        },
      });
      const policy = (predicateType: string, provenance: Record<string, string>) => ({
        keys: [keys.k1.pub],
        attestations: [{ predicateType, provenance }],
      });
      const want = {
        builderId: BUILDER,
        sourceRepository: 'https://github.com/acme/app.git',
        sourceRef: 'refs/heads/main',
      };
      const ok = await verify(img, policy(SLSA, want));
      assert.equal(ok.outcome, 'verified', ok.message);
      const cases: Array<[Record<string, string>, string]> = [
        [{ ...want, builderId: 'https://evil.example/builder' }, 'builder-mismatch'],
        [{ ...want, sourceRepository: 'https://github.com/other/app' }, 'source-mismatch'],
        [{ ...want, sourceRef: 'refs/heads/dev' }, 'ref-mismatch'],
        [{ buildType: 'https://example.com/other' }, 'build-type-mismatch'],
      ];
      for (const [provenance, reason] of cases) {
        const bad = await verify(img, policy(SLSA, provenance));
        assert.deepEqual([bad.outcome, bad.reason], ['failed', reason], bad.message);
      }
      const v02ok = await verify(
        v02,
        policy('https://slsa.dev/provenance/v0.2', {
          builderId: BUILDER,
          sourceRepository: 'https://github.com/acme/app',
          sourceRef: 'refs/tags/v1.0.0',
        }),
      );
      assert.equal(v02ok.outcome, 'verified', v02ok.message);
      const v02bad = await verify(
        v02,
        policy('https://slsa.dev/provenance/v0.2', { sourceRef: 'refs/heads/main' }),
      );
      assert.equal(v02bad.reason, 'ref-mismatch');
      assert.match(v02bad.message, /refs\/tags\/v1\.0\.0, not refs\/heads\/main/);
    });

    it('judges an attested SBOM (SPDX predicate) and an attested vulnerability report (vuln/v1 with SARIF) by the content policies', async () => {
      const img = await image('content-att');
      const spdx = JSON.parse(
        new TextDecoder().decode(
          spdxSbom([{ name: 'readline', version: '8.0', license: 'GPL-3.0-only OR MIT' }]),
        ),
      ) as unknown;
      await attestWithKey(img, SPDX, spdx);
      const sbomPolicy = (disallowedLicenses: string[]) => ({
        keys: [keys.k1.pub],
        attestations: [{ predicateType: SPDX, sbom: { disallowedLicenses, disallowedPackages: [] } }],
      });
      const clean = await verify(img, sbomPolicy(['AGPL-3.0-only']));
      assert.equal(clean.outcome, 'verified', clean.message);
      const gpl = await verify(img, sbomPolicy(['GPL-3.0-only']));
      assert.deepEqual([gpl.outcome, gpl.reason], ['failed', 'disallowed-license'], gpl.message);

      const vimg = await image('vuln-att');
      const VULN = 'https://cosign.sigstore.dev/attestation/vuln/v1';
      const sarif = JSON.parse(
        new TextDecoder().decode(sarifReport([{ cve: 'CVE-2024-6000', severity: 'critical' }])),
      ) as unknown;
      await attestWithKey(vimg, VULN, {
        scanner: { uri: 'pkg:github/aquasecurity/trivy', version: '0.50.0', result: sarif },
      });
      const vulnPolicy = (disallowedSeverities: string[]) => ({
        keys: [keys.k1.pub],
        attestations: [{ predicateType: VULN, vulnerabilities: { disallowedSeverities, denylistCVEs: [] } }],
      });
      assert.equal((await verify(vimg, vulnPolicy(['high']))).outcome, 'verified');
      const critical = await verify(vimg, vulnPolicy(['critical']));
      assert.deepEqual(
        [critical.outcome, critical.reason],
        ['failed', 'disallowed-severity'],
        critical.message,
      );
      assert.match(critical.message, /CVE-2024-6000/);
    });

    it('fails with untrusted-signer for another key', async () => {
      const img = await image('other-key');
      await attestWithKey(img, SLSA, PROVENANCE, keys.k2.pkcs8);
      const report = await verify(img, { keys: [keys.k1.pub], attestations: [{ predicateType: SLSA }] });
      assert.equal(report.reason, 'untrusted-signer');
    });

    it('fails with digest-mismatch when the .att of another image is copied over', async () => {
      const a = await image('att-a');
      const b = await image('att-b');
      await attestWithKey(a);
      const att = await a.repository.fetchManifest(`${a.subject.digest.replace(':', '-')}.att`);
      await b.repository.pushManifest(att.bytes, att.descriptor.mediaType, {
        tag: `${b.subject.digest.replace(':', '-')}.att`,
      });
      const report = await verify(b, { keys: [keys.k1.pub], attestations: [{ predicateType: SLSA }] });
      assert.equal(report.reason, 'digest-mismatch');
    });
  });

  describe('signed keylessly', () => {
    function attestKeyless(img: Image, predicateType: string) {
      return attestCosign({
        repository: img.repository,
        subject: img.subject,
        subjectReference: img.name,
        predicateType,
        predicate: PROVENANCE,
        signer: {
          keyless: {
            identityToken: identityToken({ sub: SUBJECT, iss: ISSUER }),
            fulcioUrl: sigstore.fulcioUrl,
            rekorUrl: sigstore.rekorUrl,
          },
        },
      });
    }
    const keyless = (predicateType: string): CosignConfig => ({
      trustedRoot: 'trusted_root.json',
      identities: [{ subject: SUBJECT, issuer: ISSUER }],
      attestations: [{ predicateType }],
    });

    it('verifies the certificate, the Rekor SET over the intoto entry and the predicate type', async () => {
      const img = await image('keyless');
      await attestKeyless(img, SLSA);
      const report = await verify(img, keyless(SLSA));
      assert.equal(report.outcome, 'verified', report.message);
      const [first] = report.details.attestations as Array<Record<string, unknown>>;
      assert.ok(first?.tlog, 'the Rekor entry is in the details');
    });

    it('fails with predicate-type-mismatch for a keyless attestation of another type', async () => {
      const img = await image('keyless-mismatch');
      await attestKeyless(img, SLSA);
      const report = await verify(img, keyless(SPDX));
      assert.equal(report.outcome, 'failed');
      assert.equal(report.reason, 'predicate-type-mismatch');
    });
  });
});
