/**
 * Keyless verification details end to end: images signed through mock Fulcio and Rekor (real
 * HTTP) with two GitHub workflow identities, a cluster policy that trusts every workflow of the
 * organisation (an anchored regexp), and pods whose annotations name the one release workflow.
 * The webhook (HTTPS, mTLS) admits only the image that workflow signed; the published list and
 * the page carry the identity; `vouch verify URL` under the reader's exact identity agrees.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { VouchConfigInput } from '../../src/config/schema.js';
import { parseReference } from '../../src/reference/parse.js';
import type { Descriptor } from '../../src/registry/types.js';
import { signCosignKeyless } from '../../src/sign/cosign/keyless.js';
import { identityToken, type SigstoreMock, startSigstoreMock } from '../helpers/sigstore-mock.js';
import { podReview } from './public-review.js';
import { type PublicSetup, startPublicSetup } from './public-setup.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const VOUCH = path.join(ROOT, 'bin', 'vouch');
const execFileAsync = promisify(execFile);
const ISSUER = 'https://token.actions.githubusercontent.com';
const RELEASE = 'https://github.com/acme/web/.github/workflows/release.yml@refs/heads/main';
const NIGHTLY = 'https://github.com/acme/web/.github/workflows/nightly.yml@refs/heads/main';

describe('keyless verification details (mock Fulcio + Rekor, real registry, live webhook)', {
  timeout: 180_000,
}, () => {
  let sigstore: SigstoreMock;
  let s: PublicSetup;
  let rootDir: string;
  let trustedRoot: string;
  const img: Record<string, Descriptor> = {};
  const ref = (repo: string) => `${s.registry.host}/${repo}@${(img[repo] as Descriptor).digest}`;
  const release = { 'vouch.dev/verify.web.identity': RELEASE, 'vouch.dev/verify.web.issuer': ISSUER };

  const pushKeyless = async (repo: string, subject: string): Promise<Descriptor> => {
    const pushed = await s.images.push(repo, 'v1', false);
    await signCosignKeyless({
      repository: s.images.client.repository(parseReference(`${s.registry.host}/${repo}:v1`)),
      subject: pushed,
      subjectReference: `${s.registry.host}/${repo}`,
      identityToken: identityToken({ sub: subject, iss: ISSUER }),
      fulcioUrl: sigstore.fulcioUrl,
      rekorUrl: sigstore.rekorUrl,
      mode: 'tag',
    });
    return pushed;
  };

  before(async () => {
    // bin/vouch runs the bundle (dist/cli); build it when it or this feature's module is missing
    if (
      !existsSync(path.join(ROOT, 'dist', 'cli', 'main.js')) ||
      !existsSync(path.join(ROOT, 'dist', 'src', 'cli', 'verify-remote.js'))
    )
      await execFileAsync('npm', ['run', '-s', 'build'], { cwd: ROOT, timeout: 180_000 });
    sigstore = await startSigstoreMock();
    const cluster = (host: string): VouchConfigInput =>
      ({
        registries: { insecure: [host], dockerConfig: false },
        verifiers: {
          cosign: {
            trustedRoot,
            identities: [{ issuer: ISSUER, subjectRegExp: '^https://github\\.com/acme/.*' }],
          },
        },
        policy: { default: 'deny', rules: [{ name: 'acme', scope: '*', require: [{ verifier: 'cosign' }] }] },
      }) as VouchConfigInput;
    // the trusted root is written before the server loads its config
    rootDir = await mkdtemp(path.join(tmpdir(), 'vouch-keyless-details-'));
    trustedRoot = path.join(rootDir, 'trusted_root.json');
    await writeFile(trustedRoot, sigstore.trustedRootJson());
    s = await startPublicSetup(
      { namespaces: ['prod'] },
      { verificationDetails: { enforceNamespaces: ['prod'] } },
      cluster,
    );
    img.web = await pushKeyless('web', RELEASE);
    img.nightly = await pushKeyless('nightly', NIGHTLY);
  });
  after(async () => {
    await s?.close();
    await sigstore?.stop();
    if (rootDir) await rm(rootDir, { recursive: true, force: true });
  });

  it('admits the image the named workflow signed, and lists it with that identity', async () => {
    const res = await s.admit(
      await podReview({ namespace: 'prod', containers: [['web', ref('web')]], annotations: release }),
    );
    assert.equal(res.allowed, true, res.status?.message);
    const env = JSON.parse((await s.get(`${s.publicUrl}/v1/applications/prod`)).body.toString()) as {
      payload: string;
    };
    const payload = JSON.parse(Buffer.from(env.payload, 'base64').toString()) as {
      images: Array<{
        container: string;
        details: unknown;
        signatures: Array<{ signers: Array<{ identity?: string[]; issuer?: string }> }>;
      }>;
    };
    const web = payload.images.find((i) => i.container === 'web');
    assert.deepEqual(web?.details, { identity: RELEASE, issuer: ISSUER });
    assert.deepEqual(web?.signatures[0]?.signers[0], { identity: [RELEASE], issuer: ISSUER });
    const page = (
      await s.get(`${s.publicUrl}/v1/applications/prod`, { accept: 'text/html' })
    ).body.toString();
    assert.ok(page.includes(`${RELEASE} (${ISSUER})`), 'the page names the signer');
  });

  it('denies an image another workflow of the organisation signed, which the cluster policy alone allows', async () => {
    const relaxed = await s.admit(
      await podReview({ namespace: 'dev', containers: [['web', ref('nightly')]] }),
    );
    assert.equal(relaxed.allowed, true, 'the cluster trusts every acme workflow');
    const res = await s.admit(
      await podReview({ namespace: 'prod', containers: [['web', ref('nightly')]], annotations: release }),
    );
    assert.equal(res.allowed, false);
    assert.match(
      res.status?.message ?? '',
      /verification-details-mismatch: no verified signature by https:\/\/github\.com\/acme\/web\/\.github\/workflows\/release\.yml/,
    );
    const otherIssuer = await s.admit(
      await podReview({
        namespace: 'prod',
        containers: [['web', ref('web')]],
        annotations: { ...release, 'vouch.dev/verify.web.issuer': 'https://accounts.google.com' },
      }),
    );
    assert.equal(otherIssuer.allowed, false, 'identity and issuer must hold together');
  });

  it('is re-verified by vouch verify URL under the reader’s exact identity', async () => {
    const run = await execFileAsync(
      VOUCH,
      [
        'verify',
        `${s.publicUrl}/v1/applications/prod`,
        '--public-key',
        s.vouchPub,
        '--insecure-registry',
        s.registry.host,
        '--trusted-root',
        trustedRoot,
        '--certificate-identity',
        RELEASE,
        '--certificate-oidc-issuer',
        ISSUER,
      ],
      { cwd: ROOT, timeout: 60_000 },
    );
    assert.match(run.stdout, /VERIFIED +web /);
    assert.match(run.stdout, /1 of 1 image\(s\) verified/);
  });
});
