/**
 * `vouch import ratify` mapping: Ratify config.json and v1beta1 resources (fixtures written after
 * Ratify v1.4.0's test/bats/tests/config and config/samples) become vouch.yaml sections that the
 * one config loader accepts; every construct vouch cannot express is named.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { validateConfig } from '../../src/config/load.js';
import { importRatifyFiles } from '../../src/import/ratify.js';
import { renderImport, writeImport } from '../../src/import/render.js';
import type { ImportResult } from '../../src/import/result.js';

const FIXTURES = resolve(import.meta.dirname, 'fixtures');
const fixture = (name: string) => join(FIXTURES, name);

// biome-ignore lint/suspicious/noExplicitAny: assertions walk the generated vouch.yaml as loose JSON
type Json = Record<string, any>;
const cfg = (r: ImportResult) => r.config as Json;
const fields = (r: ImportResult) => r.unsupported.map((u) => u.field).join('\n');

describe('vouch import ratify', () => {
  let out: string;
  before(async () => {
    out = await mkdtemp(join(tmpdir(), 'vouch-import-ratify-'));
  });
  after(async () => {
    await rm(out, { recursive: true, force: true });
  });

  describe('when reading a config.json with every built-in verifier', () => {
    let r: ImportResult;
    before(async () => {
      r = await importRatifyFiles([fixture('ratify-full.json')], { outDir: FIXTURES });
    });

    it('carries notation trustPolicyDoc over unchanged and gives verificationCerts to each store the policy names', () => {
      const n = cfg(r).verifiers.notation;
      assert.equal(n.trustPolicy.trustPolicies[0].signatureVerification.verifyTimestamp, 'afterCertExpiry');
      assert.deepEqual(n.trustStores.ca.acme, ['certs/acme-root.crt', join(homedir(), 'tsa-roots')]);
      assert.deepEqual(n.trustStores.tsa.timestamps, n.trustStores.ca.acme);
    });

    it('maps cosign trust policies: "*" to the top level, a prefix scope to prefix**, keyless to identities', () => {
      const c = cfg(r).verifiers.cosign;
      assert.deepEqual(c.keys, ['keys/cosign.pub']);
      assert.equal(c.ignoreTlog, true, 'tLogVerify: false');
      assert.equal(c.policies[0].scope, 'ghcr.io/acme/**');
      assert.deepEqual(c.policies[0].identities, [
        {
          subject: 'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main',
          issuer: 'https://token.actions.githubusercontent.com',
        },
      ]);
      assert.equal(c.policies[0].ignoreTlog, undefined, 'tLogVerify defaults to true');
      assert.equal(c.tuf.mirror, 'https://tuf-repo-cdn.sigstore.dev');
    });

    it('maps sbom and vulnerabilityreport parameters, nestedReferences becoming requireSignature', () => {
      const { sbom, vulnerabilityReport } = cfg(r).verifiers;
      assert.deepEqual(sbom.disallowedLicenses, ['AGPL-3.0-only']);
      // Ratify's PackageInfo reads `version`, not `versionInfo`: log4j-core is disallowed in every version
      assert.deepEqual(sbom.disallowedPackages, [
        { name: 'log4j-core' },
        { name: 'zlib', version: '1.2.13-r0' },
      ]);
      assert.deepEqual(sbom.requireSignature, ['notation']);
      assert.deepEqual(vulnerabilityReport, {
        maximumAge: '24h',
        disallowedSeverities: ['high', 'critical'],
        denylistCVEs: ['CVE-2021-44228'],
        requireSignature: [],
      });
    });

    it('turns artifactVerificationPolicies into one rule requiring each listed type and every content verifier', () => {
      const rule = cfg(r).policy.rules[0];
      assert.equal(rule.match, 'all');
      // cosign (unlisted) runs and is reported; the unlisted vulnerability report is required (fail closed)
      assert.deepEqual(rule.require, [
        { verifier: 'notation', artifacts: 'any' },
        { verifier: 'sbom', artifacts: 'all' },
        { verifier: 'vulnerabilityReport', artifacts: 'all' },
      ]);
      assert.match(
        r.warnings.join(),
        /vulnerabilityReport not listed in artifactVerificationPolicies: required anyway/,
      );
      assert.equal(cfg(r).policy.default, 'deny');
    });

    it('reads the dockerConfig auth provider and lists nothing as unsupported', () => {
      assert.equal(cfg(r).registries.dockerConfig, '/etc/ratify/docker-config.json');
      assert.deepEqual(r.unsupported, []);
    });

    it('renders a vouch.yaml the config loader accepts, with a comment for each mapped item', () => {
      const text = renderImport(r);
      const config = validateConfig(parseYaml(text), 'generated');
      assert.equal(config.verifiers.notation?.trustStores?.tsa?.timestamps?.length, 2);
      assert.match(
        text,
        /# from ratify-full\.json: verifier\.plugins\[0\] \(Ratify verifier "verifier-notation", type notation\)/,
      );
      assert.match(text, /versionInfo is not a field Ratify reads/);
      assert.match(text, /not carried over: ratify-full\.json executor/);
      assert.doesNotMatch(text, /[&*]a1/, 'no YAML aliases');
    });
  });

  describe('when a config.json uses what vouch cannot express', () => {
    it('names each construct: rego policy, other verifiers, k8Secrets, legacy keyless, unknown parameters', async () => {
      const rego = await importRatifyFiles([fixture('ratify-rego.json')], { outDir: out });
      assert.match(fields(rego), /ratify-rego\.json: policy\.plugin: rego policy/);
      assert.equal(cfg(rego).policy, undefined, 'no rule is made from a Rego policy');
      const r = await importRatifyFiles([fixture('ratify-unsupported.json')], { outDir: out });
      const f = fields(r);
      assert.match(f, /store\.plugins\[0\]: authProvider k8Secrets/);
      assert.match(f, /verifier\.plugins\[0\] \(schemavalidator\)/);
      assert.match(f, /verifier\.plugins\[1\]: rekorURL/);
      assert.match(f, /verifier\.plugins\[2\]: crlCache/);
      assert.equal(r.unsupported.length, 4);
    });

    it('lists useHttp hosts it was given, else warns that vouch names them', async () => {
      const none = await importRatifyFiles([fixture('ratify-cosign-key.json')], { outDir: FIXTURES });
      assert.deepEqual(cfg(none).registries.insecure, []);
      assert.match(none.warnings.join(), /useHttp/);
      const some = await importRatifyFiles([fixture('ratify-cosign-key.json')], {
        outDir: FIXTURES,
        insecureHosts: ['localhost:5000'],
      });
      assert.deepEqual(cfg(some).registries.insecure, ['localhost:5000']);
      assert.equal(
        cfg(some).verifiers.cosign.ignoreTlog,
        true,
        'a legacy key without rekorURL checks no tlog',
      );
      assert.deepEqual(cfg(some).policy.rules[0].require, [{ verifier: 'cosign', artifacts: 'all' }]);
    });
  });

  describe('when the config policy has only its default', () => {
    const config = (verifiers: object[]) =>
      JSON.stringify({
        store: { version: '1.0.0', plugins: [{ name: 'oras' }] },
        policy: { version: '1.0.0', plugin: { name: 'configPolicy' } },
        verifier: { version: '1.0.0', plugins: verifiers },
      });
    const notation = {
      name: 'notation',
      artifactTypes: 'application/vnd.cncf.notary.signature',
      verificationCerts: ['certs'],
      trustPolicyDoc: {
        version: '1.0',
        trustPolicies: [
          {
            name: 'default',
            registryScopes: ['*'],
            signatureVerification: { level: 'strict' },
            trustStores: ['ca:certs'],
            trustedIdentities: ['*'],
          },
        ],
      },
    };
    const cosign = {
      name: 'cosign',
      artifactTypes: 'application/vnd.dev.cosign.artifact.sig.v1+json',
      key: 'k.pub',
    };
    const sbom = {
      name: 'sbom',
      artifactTypes: 'application/spdx+json',
      disallowedLicenses: ['GPL-3.0-only'],
    };

    it('lets one verified signature format suffice when only signature verifiers are configured', async () => {
      const { writeFile } = await import('node:fs/promises');
      await writeFile(join(out, 'sig.json'), config([notation, cosign]));
      const r = await importRatifyFiles([join(out, 'sig.json')], { outDir: out });
      assert.equal(cfg(r).policy.rules[0].match, 'any');
      assert.deepEqual(r.warnings, []);
    });

    it('fails closed with a content verifier: every verifier required, and a warning says so', async () => {
      const { writeFile } = await import('node:fs/promises');
      await writeFile(join(out, 'content.json'), config([notation, sbom]));
      const r = await importRatifyFiles([join(out, 'content.json')], { outDir: out });
      assert.equal(cfg(r).policy.rules[0].match, 'all');
      assert.deepEqual(cfg(r).policy.rules[0].require, [
        { verifier: 'notation', artifacts: 'all' },
        { verifier: 'sbom', artifacts: 'all' },
      ]);
      assert.match(r.warnings.join(), /with sbom configured, every verifier is required/);
    });
  });

  describe('when reading v1beta1 resources', () => {
    it('writes an inline KeyManagementProvider certificate beside vouch.yaml as the trust store it serves', async () => {
      const r = await importRatifyFiles([fixture('ratify-crs-notation.yaml')], { outDir: out });
      assert.deepEqual(r.unsupported, []);
      assert.deepEqual(cfg(r).verifiers.notation.trustStores, {
        ca: { 'ca-certs': ['ratify-notation-inline-cert-0.pem'] },
      });
      assert.equal(r.files[0]?.name, 'ratify-notation-inline-cert-0.pem');
      assert.match(r.files[0]?.content ?? '', /__NOTATION_CERTIFICATE__/);
      assert.deepEqual(cfg(r).policy.rules[0].require, [{ verifier: 'notation', artifacts: 'any' }]);
      await writeImport(r, join(out, 'vouch.yaml'));
      assert.match(await readFile(join(out, 'ratify-notation-inline-cert-0.pem'), 'utf8'), /__NOTATION/);
      validateConfig(parseYaml(await readFile(join(out, 'vouch.yaml'), 'utf8')));
    });

    it('writes an inline key as a cosign key file and reads the Store and config-policy resources', async () => {
      const r = await importRatifyFiles([fixture('ratify-crs-cosign.yaml')], {
        outDir: out,
        insecureHosts: ['127.0.0.1:5000'],
      });
      assert.deepEqual(r.unsupported, []);
      assert.deepEqual(cfg(r).verifiers.cosign, {
        keys: ['ratify-cosign-inline-key-0.pub'],
        ignoreTlog: true,
      });
      assert.deepEqual(cfg(r).registries.insecure, ['127.0.0.1:5000']);
      assert.equal(cfg(r).policy.rules[0].match, 'any');
    });

    it('names providers other than inline, rego policies and v1alpha1 resources', async () => {
      const r = await importRatifyFiles([fixture('ratify-crs-unsupported.yaml')], { outDir: out });
      const f = fields(r);
      assert.match(f, /KeyManagementProvider keymanagementprovider-akv\): spec\.type azurekeyvault/);
      assert.match(f, /Policy ratify-policy\): rego policy/);
      assert.match(f, /Verifier verifier-old\): apiVersion config\.ratify\.deislabs\.io\/v1alpha1/);
      assert.equal(cfg(r).verifiers.notation.trustStores, undefined, 'no empty store from a failed provider');
    });

    it('names a provider that is not among the inputs', async () => {
      const { readRatifyFiles } = await import('../../src/import/ratify-read.js');
      const { importRatify } = await import('../../src/import/ratify.js');
      const model = await readRatifyFiles([fixture('ratify-crs-notation.yaml')]);
      model.keyProviders.length = 0;
      const missing = importRatify(model, { outDir: out }, 'test');
      assert.match(fields(missing), /verificationCertStores\.ca\.ca-certs: ratify-notation-inline-cert-0/);
    });
  });
});

describe('when two inputs share a file name', () => {
  it("resolves each one's relative paths against its own folder", async () => {
    const { mkdir, writeFile } = await import('node:fs/promises');
    const root = await mkdtemp(join(tmpdir(), 'vouch-import-same-name-'));
    try {
      for (const d of ['a', 'b']) await mkdir(join(root, d));
      await writeFile(
        join(root, 'a', 'verifier.yaml'),
        'apiVersion: config.ratify.deislabs.io/v1beta1\nkind: Verifier\nmetadata: {name: v}\nspec:\n  name: cosign\n  artifactTypes: application/vnd.dev.cosign.artifact.sig.v1+json\n  parameters: {key: cosign.pub}\n',
      );
      await writeFile(
        join(root, 'b', 'verifier.yaml'),
        'apiVersion: config.ratify.deislabs.io/v1beta1\nkind: Verifier\nmetadata: {name: v}\nspec:\n  name: sbom\n  artifactTypes: application/spdx+json\n  parameters: {}\n',
      );
      const r = await importRatifyFiles(
        [join(root, 'a', 'verifier.yaml'), join(root, 'b', 'verifier.yaml')],
        {
          outDir: root,
        },
      );
      assert.deepEqual(cfg(r).verifiers.cosign.keys, ['a/cosign.pub']);
      assert.ok(cfg(r).verifiers.sbom, 'the second file is read');
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
