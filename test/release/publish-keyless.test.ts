/**
 * The release's signing and publishing step with keyless signing (an OIDC identity token, a Fulcio
 * certificate, Rekor entries: @sigstore/mock served over HTTP on loopback), on small stand-in
 * asset files so no build runs: every asset signed and both attestations made in the staging
 * layout, then published to a real registry (distribution 2.8); `vouch verify` with the release
 * policy's requirements and a keyless identity allows the release there and denies it for another
 * identity. (The key-based path, with real builds, is test/release/release.test.ts.)
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { describeFile } from '../../release/assets.js';
import { provenanceStatement } from '../../release/provenance.js';
import { publish, signIntoLayout } from '../../release/publish.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { identityToken, type SigstoreMock, startSigstoreMock } from '../helpers/sigstore-mock.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);
const ISSUER = 'https://token.actions.githubusercontent.com';
const IDENTITY = 'https://github.com/vouch-dev/vouch/.github/workflows/release.yml@refs/tags/v0.1.0';

describe('release publishing, keyless', { timeout: 300_000 }, () => {
  let tmp: string;
  let sigstore: SigstoreMock;
  let registry: TestRegistry;
  let repo: string;

  /** The shipped policy's requirements, with a keyless identity instead of the release key. */
  async function policy(subject: string): Promise<string> {
    const file = path.join(tmp, `policy-${subject.length}.yaml`);
    await writeFile(
      file,
      stringify({
        registries: { dockerConfig: false, insecure: [registry.host] },
        verifiers: {
          cosign: {
            trustedRoot: path.join(tmp, 'trusted_root.json'),
            identities: [{ issuer: ISSUER, subject }],
            attestations: [
              { predicateType: 'https://cyclonedx.org/bom', sbom: { disallowedLicenses: ['AGPL-3.0-only'] } },
              {
                predicateType: 'https://slsa.dev/provenance/v1',
                provenance: { sourceRepository: 'https://github.com/vouch-dev/vouch' },
              },
            ],
          },
        },
        policy: {
          rules: [
            {
              name: 'vouch-release',
              scope: '**',
              require: [
                { verifier: 'cosign' },
                { verifier: 'cosign', predicateType: 'https://cyclonedx.org/bom' },
                { verifier: 'cosign', predicateType: 'https://slsa.dev/provenance/v1' },
              ],
            },
          ],
        },
      }),
    );
    return file;
  }

  before(async () => {
    tmp = await mkdtemp(path.join(tmpdir(), 'vouch-release-keyless-'));
    [sigstore, registry] = await Promise.all([startSigstoreMock(), startRegistry()]);
    await writeFile(path.join(tmp, 'trusted_root.json'), sigstore.trustedRootJson());
    repo = `${registry.host}/vouch/release`;
    const files = ['vouch-9.9.9.tgz', 'vouch-9.9.9-linux-x64'];
    for (const f of files) await writeFile(path.join(tmp, f), randomBytes(4096));
    const assets = files.map((f, i) =>
      describeFile(path.join(tmp, f), 'application/octet-stream', i === 0 ? 'npm-package' : 'executable'),
    );
    const state = {
      root: ROOT,
      commit: 'a'.repeat(40),
      ref: 'refs/tags/v9.9.9',
      sourceDateEpoch: 1_800_000_000,
      dirty: [],
    };
    const bom = {
      bomFormat: 'CycloneDX',
      specVersion: '1.5',
      components: [
        { type: 'library', name: 'zod', version: '4.0.0', licenses: [{ license: { id: 'MIT' } }] },
      ],
    };
    const input = {
      assets,
      sboms: new Map(assets.map((a) => [a.name, bom])),
      provenance: new Map(
        assets.map((a) => [
          a.name,
          provenanceStatement(
            {
              state,
              stage: ROOT,
              repository: 'https://github.com/vouch-dev/vouch',
              builderId: 'https://github.com/vouch-dev/vouch/release',
              command: 'npm run release',
              version: '9.9.9',
            },
            a,
          ),
        ]),
      ),
      signer: {
        keyless: {
          identityToken: identityToken({ sub: IDENTITY, iss: ISSUER }),
          fulcioUrl: sigstore.fulcioUrl,
          rekorUrl: sigstore.rekorUrl,
        },
      },
      version: '9.9.9',
      repository: 'https://github.com/vouch-dev/vouch',
      commit: state.commit,
      sourceDateEpoch: state.sourceDateEpoch,
      staging: path.join(tmp, 'staging'),
    };
    const signed = await signIntoLayout(input);
    assert.deepEqual(
      signed.map((s) => s.tag),
      files,
    );
    assert.equal(await publish(input, repo, [registry.host]), repo);
  });
  after(async () => {
    await Promise.allSettled([sigstore?.stop(), registry?.stop()]);
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  const verify = async (ref: string, policyFile: string) => {
    try {
      const r = await run(path.join(ROOT, 'bin', 'vouch'), [
        'verify',
        '--config',
        policyFile,
        '-o',
        'json',
        ref,
      ]);
      return { code: 0, out: JSON.parse(r.stdout) as { allowed: boolean; why: string[] } };
    } catch (err) {
      const e = err as { code: number; stdout: string };
      return { code: e.code, out: JSON.parse(e.stdout) as { allowed: boolean; why: string[] } };
    }
  };

  it('the published release verifies for the signing identity: signature, SBOM and provenance', async () => {
    for (const tag of ['vouch-9.9.9.tgz', 'vouch-9.9.9-linux-x64']) {
      const r = await verify(`${repo}:${tag}`, await policy(IDENTITY));
      assert.equal(r.code, 0, JSON.stringify(r.out.why));
      assert.equal(r.out.allowed, true);
      assert.equal(r.out.why.length, 3);
    }
    // two Fulcio certificates per asset would be one per signature: the mock saw the signing calls
    assert.ok(sigstore.requests.filter((p) => p.includes('signingCert')).length >= 2);
  });

  it('is denied for another identity', async () => {
    const r = await verify(`${repo}:vouch-9.9.9.tgz`, await policy(`${IDENTITY}-other`));
    assert.equal(r.code, 1);
    assert.equal(r.out.allowed, false);
  });

  it('refuses to publish into a layout that exists', async () => {
    await assert.rejects(
      publish(
        {
          assets: [],
          sboms: new Map(),
          provenance: new Map(),
          signer: { privateKeyPem: '' },
          version: '9.9.9',
          repository: 'x',
          commit: 'x',
          sourceDateEpoch: 0,
          staging: path.join(tmp, 'staging'),
        },
        `oci:${path.join(tmp, 'staging')}`,
        [],
      ),
      /is not empty: a release is written to a new layout directory/,
    );
  });
});
