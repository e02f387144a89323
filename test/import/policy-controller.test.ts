/**
 * `vouch import policy-controller`: ClusterImagePolicy globs, authorities and modes as vouch
 * rules and cosign scopes; what vouch cannot express (KMS keys, CUE/Rego bodies, selectors,
 * tag-specific globs, custom CAs) is named, one entry each.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { validateConfig } from '../../src/config/load.js';
import { importPolicyControllerFiles, scopeFromGlob } from '../../src/import/policy-controller.js';
import { renderImport } from '../../src/import/render.js';
import type { ImportResult } from '../../src/import/result.js';
import { compileScope, scopeMatches } from '../../src/policy/scope.js';
import { parseTrustedRoot } from '../../src/trust/cosign/trusted-root.js';
import { writeSelfSignedCert } from '../helpers/self-signed.js';

const FIXTURES = resolve(import.meta.dirname, 'fixtures');
// biome-ignore lint/suspicious/noExplicitAny: assertions walk the generated vouch.yaml as loose JSON
type Json = Record<string, any>;
const cfg = (r: ImportResult) => r.config as Json;

describe('vouch import policy-controller', () => {
  let out: string;
  before(async () => {
    out = await mkdtemp(join(tmpdir(), 'vouch-import-pc-'));
  });
  after(async () => {
    await rm(out, { recursive: true, force: true });
  });

  describe('when translating image globs (pkg/apis/glob semantics)', () => {
    const cases: Array<[string, string | undefined, string[], string[]]> = [
      // glob, scope, images it must match, images it must not
      ['**', '**', ['ghcr.io/a/b', 'docker.io/library/nginx'], []],
      ['*', 'docker.io/library/*', ['docker.io/library/nginx'], ['docker.io/acme/app']],
      ['*/*', 'docker.io/*/*', ['docker.io/acme/app'], ['ghcr.io/acme/app']],
      ['index.docker.io/acme/*', 'docker.io/acme/*', ['docker.io/acme/app'], ['docker.io/acme/a/b']],
      [
        'ghcr.io/acme/*',
        'ghcr.io/acme/*',
        ['ghcr.io/acme/app'],
        ['ghcr.io/acme/app/sub', 'ghcr.io/other/app'],
      ],
      ['ghcr.io/acme/app:**', 'ghcr.io/acme/app', ['ghcr.io/acme/app'], ['ghcr.io/acme/app2']],
      ['localhost:5000/team/**', 'localhost:5000/team/**', ['localhost:5000/team/a/b'], ['localhost:5000/x']],
      ['busybox', 'docker.io/library/busybox', ['docker.io/library/busybox'], []],
      ['ghcr.io/acme/app:v1', undefined, [], []],
      ['ghcr.io/acme/app@sha256:abc', undefined, [], []],
    ];
    for (const [glob, scope, yes, no] of cases) {
      it(`${glob} → ${scope ?? 'unsupported'}`, () => {
        const r = scopeFromGlob(glob);
        assert.equal(r.scope, scope);
        if (!scope) return assert.ok(r.reason);
        const compiled = compileScope(scope);
        for (const image of yes) assert.ok(scopeMatches(compiled, image), `${scope} matches ${image}`);
        for (const image of no) assert.ok(!scopeMatches(compiled, image), `${scope} does not match ${image}`);
      });
    }
  });

  describe('when reading keyless, static and warn policies', () => {
    let r: ImportResult;
    before(async () => {
      r = await importPolicyControllerFiles([join(FIXTURES, 'cip-keyless.yaml')], { outDir: out });
    });

    it('makes one rule per policy, warn becoming audit and static pass requiring nothing', () => {
      assert.deepEqual(r.unsupported, []);
      assert.deepEqual(cfg(r).policy.rules, [
        {
          name: 'image-is-signed-by-github-actions',
          scope: ['ghcr.io/acme/*', 'docker.io/acme/app'],
          mode: 'audit',
          require: [{ verifier: 'cosign' }],
        },
        { name: 'allow-internal', scope: 'registry.acme.internal/**', mode: 'enforce', require: [] },
      ]);
      assert.equal(cfg(r).policy.default, 'deny');
    });

    it('gives each glob the identities (exact and regexp), the public trust root and the predicate types', () => {
      const policies = cfg(r).verifiers.cosign.policies;
      assert.deepEqual(
        policies.map((p: Json) => p.scope),
        ['ghcr.io/acme/*', 'docker.io/acme/app'],
      );
      assert.deepEqual(policies[0].identities, [
        {
          issuer: 'https://token.actions.githubusercontent.com',
          subject: 'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main',
        },
        {
          issuerRegExp: 'https://token\\.actions\\.githubusercontent\\.com',
          subjectRegExp: 'https://github\\.com/acme/.*/\\.github/workflows/.*',
        },
      ]);
      assert.equal(policies[0].ignoreTlog, undefined, 'ctlog given: the transparency log is required');
      assert.deepEqual(policies[0].attestations, [
        { predicateType: 'https://spdx.dev/Document' },
        { predicateType: 'https://slsa.dev/provenance/v1' },
      ]);
      assert.equal(cfg(r).verifiers.cosign.tuf.mirror, 'https://tuf-repo-cdn.sigstore.dev');
      assert.match(r.warnings.join(), /a verified cosign signature also satisfies the rule/);
    });

    it('renders a vouch.yaml the config loader accepts', () => {
      const config = validateConfig(parseYaml(renderImport(r)), 'generated');
      assert.equal(config.policy.rules[0]?.mode, 'audit');
      assert.match(renderImport(r), /mode warn → audit/);
    });
  });

  describe('when a key authority carries its key inline', () => {
    it('writes the key beside vouch.yaml and, without ctlog, checks no transparency log', async () => {
      const r = await importPolicyControllerFiles([join(FIXTURES, 'cip-key.yaml')], { outDir: out });
      assert.deepEqual(r.unsupported, []);
      const p = cfg(r).verifiers.cosign.policies[0];
      // the placeholder has no dot or port, so it reads as a Docker Hub namespace, as in policy-controller
      assert.deepEqual(p, {
        scope: 'docker.io/__REGISTRY__/import/**',
        keys: ['signed-by-release-key-release-key.pub'],
        ignoreTlog: true,
      });
      assert.match(r.files[0]?.content ?? '', /__COSIGN_PUBLIC_KEY__/);
      assert.equal(cfg(r).verifiers.cosign.tuf, undefined);
    });
  });

  describe('when a keyless authority names a private CA (ca-cert.data)', () => {
    const cip = (pem: string, extra: string) =>
      `apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata:
  name: private-fulcio
spec:
  images:
    - glob: "registry.acme.internal/**"
  authorities:
    - keyless:
        url: https://fulcio.acme.internal
${extra}        identities:
          - issuer: https://dex.acme.internal
            subject: ci@acme.internal
        ca-cert:
          data: |
${pem
  .trim()
  .split('\n')
  .map((l) => `            ${l}`)
  .join('\n')}
`;
    let pem: string;
    before(() => {
      writeSelfSignedCert(join(out, 'ca.key'), join(out, 'ca.crt'), 'acme fulcio');
    });

    it('writes a trusted_root.json with that CA, which the cosign trust loader accepts', async () => {
      pem = await readFile(join(out, 'ca.crt'), 'utf8');
      await writeFile(join(out, 'private.yaml'), cip(pem, '        insecureIgnoreSCT: true\n'));
      const r = await importPolicyControllerFiles([join(out, 'private.yaml')], { outDir: out });
      assert.deepEqual(r.unsupported, []);
      const c = cfg(r).verifiers.cosign;
      assert.equal(c.trustedRoot, 'private-fulcio-trusted_root.json');
      assert.equal(c.tuf, undefined, 'no public root beside the private CA');
      assert.equal(c.policies[0].ignoreTlog, true, 'no ctlog');
      assert.equal(c.policies[0].ignoreSct, true);
      const root = r.files.find((f) => f.name === c.trustedRoot)?.content ?? '';
      const material = parseTrustedRoot(root, 'generated trusted root');
      assert.equal(material.certificateAuthorities.length, 1);
      assert.equal(material.rekorKeys.length, 0);
      validateConfig(parseYaml(renderImport(r)), 'generated');
    });

    it('refuses it without insecureIgnoreSCT (no CT log keys to check SCTs against)', async () => {
      await writeFile(join(out, 'private-sct.yaml'), cip(pem, ''));
      const r = await importPolicyControllerFiles([join(out, 'private-sct.yaml')], { outDir: out });
      assert.match(
        r.unsupported.map((u) => `${u.field}: ${u.reason}`).join(),
        /keyless\.ca-cert: a private CA without CT log keys/,
      );
    });
  });

  describe('when a policy uses what vouch cannot express', () => {
    it('names each: tag glob, KMS key, custom CA, CUE attestation policy, Rego policy, match selector', async () => {
      const r = await importPolicyControllerFiles([join(FIXTURES, 'cip-unsupported.yaml')], { outDir: out });
      const f = r.unsupported.map((u) => u.field);
      const expect = [
        /images\[0\] glob gcr\.io\/acme\/app:v1/,
        /spec\.policy \(rego\)/,
        /spec\.match/,
        /authorities\[0\]: key\.kms gcpkms:/,
        /authorities\[1\]: keyless\.ca-cert/,
        /authorities\[1\]: attestations\[0\] \(vuln\) policy cue/,
      ];
      for (const re of expect)
        assert.ok(
          f.some((x) => re.test(x)),
          `${re} in\n${f.join('\n')}`,
        );
      assert.equal(cfg(r).policy.rules.length, 0, 'no rule from a policy that cannot be carried over');
    });

    it('refuses two policies on one glob, and a static fail that a broader rule would override', async () => {
      const file = join(out, 'overlap.yaml');
      const cip = (name: string, glob: string, authority: string) =>
        `apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata:\n  name: ${name}\nspec:\n  images:\n    - glob: "${glob}"\n  authorities:\n    - ${authority}\n`;
      await writeFile(
        file,
        [
          cip('a', 'ghcr.io/acme/**', 'static: {action: pass}'),
          cip('b', 'ghcr.io/acme/**', 'static: {action: pass}'),
          cip('c', 'ghcr.io/acme/bad/*', 'static: {action: fail}'),
        ].join('---\n'),
      );
      const r = await importPolicyControllerFiles([file], { outDir: out });
      const f = r.unsupported.map((u) => `${u.field}: ${u.reason}`).join('\n');
      assert.match(f, /overlap\.yaml\[1\] \(b\): images\[0\].*also in overlap\.yaml\[0\] \(a\)/);
      assert.match(f, /overlap\.yaml\[2\] \(c\): static fail: images it denies also match rule "a"/);
    });
  });
});
