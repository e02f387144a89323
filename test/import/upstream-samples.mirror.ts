/**
 * Ratify v1.4.0's own sample configs and CRs (config/samples, test/bats/tests/config) and
 * policy-controller's example and valid test policies, read in place from fetched mirrors (nothing
 * of them is committed; not part of the test command, which runs where no mirror exists:
 * `npm run test:mirrors` after fetching them; the suite is skipped without them, VOUCH_RATIFY_MIRROR and
 * VOUCH_POLICY_CONTROLLER_MIRROR name other git dirs). Every file imports without throwing, every
 * result renders a vouch.yaml the config loader accepts, and the samples whose meaning vouch can
 * carry decide as they say.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { validateConfig } from '../../src/config/load.js';
import { importPolicyControllerFiles } from '../../src/import/policy-controller.js';
import { importRatifyFiles } from '../../src/import/ratify.js';
import { renderImport } from '../../src/import/render.js';
import type { ImportResult } from '../../src/import/result.js';

const RATIFY = process.env.VOUCH_RATIFY_MIRROR ?? '/work/.mirror/ratify-project+ratify/repo';
const PC = process.env.VOUCH_POLICY_CONTROLLER_MIRROR ?? '/work/.mirror/sigstore+policy-controller/repo';
const RATIFY_TAG = 'v1.4.0';

const git = (dir: string, ...args: string[]) =>
  execFileSync('git', ['--git-dir', dir, ...args], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });

// biome-ignore lint/suspicious/noExplicitAny: assertions walk the generated vouch.yaml as loose JSON
type Json = Record<string, any>;

/** Copies the mirror's files matching `pattern` at `rev` into `dir`; returns name → path. */
async function extract(
  mirror: string,
  rev: string,
  pattern: RegExp,
  dir: string,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const name of git(mirror, 'ls-tree', '-r', '--name-only', rev).split('\n')) {
    if (!pattern.test(name)) continue;
    const file = join(dir, name.replace(/\//g, '_'));
    await writeFile(file, git(mirror, 'show', `${rev}:${name}`));
    out.set(name, file);
  }
  return out;
}

function assertLoads(r: ImportResult, name: string): Json {
  const config = validateConfig(parseYaml(renderImport(r)), name);
  return config as unknown as Json;
}

describe('upstream samples import', {
  skip: !existsSync(RATIFY) && !existsSync(PC) ? 'no mirrors' : false,
}, () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vouch-import-samples-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  describe(`Ratify ${RATIFY_TAG} config/samples and test/bats/tests/config`, {
    skip: !existsSync(RATIFY),
  }, () => {
    let files: Map<string, string>;
    const imported = new Map<string, ImportResult>();
    before(async () => {
      files = await extract(
        RATIFY,
        RATIFY_TAG,
        /^(config\/samples\/.*\.yaml|test\/bats\/tests\/config\/.*\.(json|yaml))$/,
        dir,
      );
      for (const [name, file] of files) {
        if (/kustomization|zot-config|akvpolicy/.test(name)) continue;
        imported.set(name, await importRatifyFiles([file], { outDir: dir }));
      }
    });

    it('imports every sample into a vouch.yaml the loader accepts (unsupported parts named, never thrown)', () => {
      assert.ok(imported.size > 60, `${imported.size} samples`);
      for (const [name, r] of imported) {
        assertLoads(r, name);
        for (const u of r.unsupported) assert.ok(u.field && u.reason, `${name}: ${JSON.stringify(u)}`);
      }
    });

    it('carries the notation and sbom bats configs over completely', () => {
      for (const name of [
        'test/bats/tests/config/config_notation_root_cert.json',
        'test/bats/tests/config/config_notation_verifier_with_type.json',
        'test/bats/tests/config/sbom_denylist_config_packagematch.json',
        'test/bats/tests/config/vulnerabilityreport_config.json',
      ]) {
        const r = imported.get(name);
        assert.ok(r, name);
        assert.deepEqual(r.unsupported, [], name);
      }
      const sbom = assertLoads(
        imported.get('test/bats/tests/config/sbom_denylist_config_packagematch.json') as ImportResult,
        'sbom',
      );
      assert.deepEqual(sbom.verifiers.sbom.disallowedPackages, [{ name: 'zlib', version: '1.2.13-r0' }]);
      assert.deepEqual(sbom.policy.rules[0].require, [{ verifier: 'sbom', artifacts: 'all' }]);
    });

    it('reads the keyless cosign Verifier CR identity', () => {
      const keyless = imported.get(
        'test/bats/tests/config/config_v1beta1_verifier_cosign_keyless.yaml',
      ) as ImportResult;
      assert.deepEqual((keyless.config as Json).verifiers.cosign.identities, [
        { subject: 'sozercan@gmail.com', issuer: 'https://github.com/login/oauth' },
      ]);
    });

    it('resolves a notation verifier against its inline KeyManagementProvider given as a second file', async () => {
      const r = await importRatifyFiles(
        [
          files.get('test/bats/tests/config/config_v1beta1_verifier_notation_kmprovider.yaml') as string,
          files.get(
            'config/samples/clustered/kmp/config_v1beta1_keymanagementprovider_inline.yaml',
          ) as string,
        ],
        { outDir: dir },
      );
      assert.deepEqual(r.unsupported, []);
      assert.deepEqual((r.config as Json).verifiers.notation.trustStores.ca, {
        'ca-certs': ['keymanagementprovider-inline.pem'],
      });
      assert.match(r.files[0]?.content ?? '', /^-----BEGIN CERTIFICATE-----\nMIID/);
      // alone, the verifier names the provider it misses
      const alone = imported.get('test/bats/tests/config/config_v1beta1_verifier_notation_kmprovider.yaml');
      assert.match((alone?.unsupported ?? []).map((u) => u.field).join(), /keymanagementprovider-inline/);
    });

    it('reads a deprecated inline CertificateStore as the notation trust store it names', async () => {
      const r = await importRatifyFiles(
        [
          files.get('test/bats/tests/config/config_v1beta1_verifier_notation.yaml') as string,
          files.get('config/samples/config_v1beta1_certstore_inline.yaml') as string,
        ],
        { outDir: dir },
      );
      assert.deepEqual(r.unsupported, []);
      assert.deepEqual((r.config as Json).verifiers.notation.trustStores.ca, {
        'ca-certs': ['certstore-inline.pem'],
      });
      assert.match(r.files[0]?.content ?? '', /^-----BEGIN CERTIFICATE-----\nMIIDWDCC/);
    });

    it('names the Rego policies, licensechecker, schemavalidator, dynamic plugins and a second notation verifier', () => {
      const f = (name: string) => (imported.get(name)?.unsupported ?? []).map((u) => u.field).join('\n');
      assert.match(f('config/samples/clustered/policy/config_v1beta1_policy_rego.yaml'), /rego policy/);
      assert.match(f('test/bats/tests/config/config_rego_policy_notation_root_cert.json'), /rego policy/);
      assert.match(f('test/bats/tests/config/config.json'), /\(licensechecker\)/);
      assert.match(f('test/bats/tests/config/config.json'), /\(schemavalidator\)/);
      assert.match(f('test/bats/tests/config/dynamic_plugins_config.json'), /dynamicstore/);
      assert.match(
        f('test/bats/tests/config/config_multiple_notation_verifiers.json'),
        /verifier-notation-leaf/,
      );
    });
  });

  describe('policy-controller examples and valid test policies', { skip: !existsSync(PC) }, () => {
    const imported = new Map<string, ImportResult>();
    before(async () => {
      const files = await extract(
        PC,
        'HEAD',
        /^(examples\/policies|test\/testdata\/policy-controller\/valid)\/.*\.yaml$/,
        dir,
      );
      for (const [name, file] of files)
        imported.set(name, await importPolicyControllerFiles([file], { outDir: dir }));
    });

    it('imports every policy into a vouch.yaml the loader accepts, naming what it leaves out', () => {
      assert.ok(imported.size > 10);
      for (const [name, r] of imported) assertLoads(r, name);
    });

    it('carries the GitHub Actions keyless example over: identity, public trust root, Rekor required', () => {
      const r = imported.get('examples/policies/signed-by-github-actions.yaml') as ImportResult;
      assert.deepEqual(r.unsupported, []);
      const c = (r.config as Json).verifiers.cosign;
      assert.equal(c.policies[0].scope, '**');
      assert.deepEqual(c.policies[0].identities, [
        {
          issuer: 'https://token.actions.githubusercontent.com',
          subject:
            'https://github.com/sigstore/policy-controller/.github/workflows/policy-tester-examples.yml@refs/heads/main',
        },
      ]);
      assert.equal(c.policies[0].ignoreTlog, undefined);
      assert.equal(c.tuf.mirror, 'https://tuf-repo-cdn.sigstore.dev');
    });

    it('names KMS keys, CUE policies, digest globs and label selectors', () => {
      const f = (name: string) => (imported.get(name)?.unsupported ?? []).map((u) => u.field).join('\n');
      assert.match(f('examples/policies/signed-by-aws-kms-key.yaml'), /key\.kms awskms:/);
      assert.match(f('examples/policies/allow-only-pods.yaml'), /spec\.policy \(cue\)/);
      assert.match(
        f('examples/policies/release-signed-by-github-actions.yaml'),
        /glob gcr\.io\/projectsigstore\/policy-webhook@sha256/,
      );
      assert.match(
        f('test/testdata/policy-controller/valid/valid-policy-match-resource-label.yaml'),
        /spec\.match/,
      );
    });
  });
});
