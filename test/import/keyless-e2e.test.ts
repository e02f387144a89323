/**
 * Keyless imports end to end through bin/vouch: a Ratify cosign trust policy with a keyless
 * identity (`--ratify-config`) and a ClusterImagePolicy keyless authority with ctlog (`vouch import
 * policy-controller`), and one naming the mock Fulcio as a private CA (`ca-cert.data`), verify
 * images signed through mock Fulcio and Rekor on the real registry.
 * The sigstore trusted root stands where `vouch trust-refresh` would put it (the TUF cacheDir):
 * the signer the identity names is allowed; another identity and an unsigned image are denied.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { createRegistryClient, type RegistryClient } from '../../src/registry/client.js';
import { signCosignKeyless } from '../../src/sign/cosign/keyless.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { identityToken, type SigstoreMock, startSigstoreMock } from '../helpers/sigstore-mock.js';
import { type PushedImage, pushFreshImage } from '../helpers/verify-artifact.js';

const ROOT = resolve(import.meta.dirname, '../..');
const VOUCH = join(ROOT, 'bin', 'vouch');
const execFileAsync = promisify(execFile);
const ISSUER = 'https://token.actions.githubusercontent.com';
const SUBJECT = 'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main';
const OTHER = 'https://github.com/mallory/app/.github/workflows/release.yml@refs/heads/main';

async function vouch(env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(VOUCH, args, { cwd: ROOT, timeout: 60_000, env });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, out: (e.stdout ?? '') + (e.stderr ?? '') };
  }
}

describe('keyless imports decide like the original (mock Fulcio and Rekor, real registry)', {
  timeout: 180_000,
}, () => {
  let registry: TestRegistry;
  let sigstore: SigstoreMock;
  let client: RegistryClient;
  let work: string;
  const images: Record<string, PushedImage> = {};
  const ref = (name: string) => `${images[name]?.name}:v1`;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'vouch-import-keyless-'));
    if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js')))
      await execFileAsync('npm', ['run', '-s', 'build'], { cwd: ROOT, timeout: 120_000 });
    [registry, sigstore] = await Promise.all([startRegistry(), startSigstoreMock()]);
    client = createRegistryClient({ insecureHosts: [registry.host] });
    for (const name of ['release', 'mallory', 'unsigned'])
      images[name] = await pushFreshImage(client, `${registry.host}/keyless/${name}`, 'v1');
    for (const [name, sub] of [
      ['release', SUBJECT],
      ['mallory', OTHER],
    ] as const) {
      const img = images[name] as PushedImage;
      await signCosignKeyless({
        repository: img.repository,
        subject: img.subject,
        subjectReference: img.name,
        identityToken: identityToken({ sub, iss: ISSUER }),
        fulcioUrl: sigstore.fulcioUrl,
        rekorUrl: sigstore.rekorUrl,
        mode: 'tag',
      });
    }
  });
  after(async () => {
    await client?.close();
    await Promise.all([registry?.stop(), sigstore?.stop()]);
    await rm(work, { recursive: true, force: true });
  });

  it('vouch verify --ratify-config: a keyless cosign trust policy allows its identity only', async () => {
    const cache = join(work, 'xdg');
    await mkdir(join(cache, 'vouch', 'sigstore-tuf'), { recursive: true });
    await writeFile(join(cache, 'vouch', 'sigstore-tuf', 'trusted_root.json'), sigstore.trustedRootJson());
    await writeFile(
      join(work, 'ratify.yaml'),
      `apiVersion: config.ratify.deislabs.io/v1beta1
kind: Verifier
metadata:
  name: verifier-cosign
spec:
  name: cosign
  artifactTypes: application/vnd.dev.cosign.artifact.sig.v1+json
  parameters:
    trustPolicies:
      - name: default
        scopes: ["*"]
        keyless:
          certificateIdentity: ${SUBJECT}
          certificateOIDCIssuer: ${ISSUER}
---
apiVersion: config.ratify.deislabs.io/v1beta1
kind: Store
metadata:
  name: store-oras
spec:
  name: oras
  parameters:
    useHttp: true
`,
    );
    const env = { ...process.env, XDG_CACHE_HOME: cache };
    const args = ['--ratify-config', join(work, 'ratify.yaml')];
    const ok = await vouch(env, 'verify', ref('release'), ...args);
    assert.equal(ok.code, 0, ok.out);
    const other = await vouch(env, 'verify', ref('mallory'), ...args);
    assert.equal(other.code, 1, other.out);
    assert.match(other.out, /identity|untrusted/i);
    assert.equal((await vouch(env, 'verify', ref('unsigned'), ...args)).code, 1);
  });

  it('vouch import policy-controller: a keyless authority with ctlog allows its identity only', async () => {
    const cip = join(work, 'cip.yaml');
    await writeFile(
      cip,
      `apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata:
  name: release-workflow
spec:
  images:
    - glob: "${registry.host}/keyless/**"
  authorities:
    - keyless:
        url: https://fulcio.sigstore.dev
        identities:
          - issuer: ${ISSUER}
            subjectRegExp: https://github\\.com/acme/.*
      ctlog:
        url: https://rekor.sigstore.dev
`,
    );
    const out = join(work, 'pc', 'vouch.yaml');
    const run = await vouch(process.env, 'import', 'policy-controller', cip, '-o', out);
    assert.equal(run.code, 0, run.out);
    // where `vouch trust-refresh --config pc/vouch.yaml` would write the public root
    await mkdir(join(work, 'pc', 'sigstore-tuf'), { recursive: true });
    await writeFile(join(work, 'pc', 'sigstore-tuf', 'trusted_root.json'), sigstore.trustedRootJson());
    const flags = ['--config', out, '--insecure-registry', registry.host];
    assert.equal((await vouch(process.env, 'verify', ref('release'), ...flags)).code, 0);
    assert.equal((await vouch(process.env, 'verify', ref('mallory'), ...flags)).code, 1);
    assert.equal((await vouch(process.env, 'verify', ref('unsigned'), ...flags)).code, 1);
  });
  it('vouch import policy-controller: a private CA (ca-cert.data) becomes a trusted root that allows its identity only', async () => {
    // the mock Fulcio's CA chain, as a policy-controller user would paste it into ca-cert.data
    const root = JSON.parse(sigstore.trustedRootJson()) as {
      certificateAuthorities: Array<{ certChain: { certificates: Array<{ rawBytes: string }> } }>;
    };
    const pem = (root.certificateAuthorities[0]?.certChain.certificates ?? [])
      .map(
        (c) =>
          `-----BEGIN CERTIFICATE-----\n${c.rawBytes.match(/.{1,64}/g)?.join('\n')}\n-----END CERTIFICATE-----`,
      )
      .join('\n');
    const cip = join(work, 'private-ca.yaml');
    await writeFile(
      cip,
      `apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata:
  name: private-fulcio
spec:
  images:
    - glob: "${registry.host}/keyless/**"
  authorities:
    - keyless:
        url: ${sigstore.fulcioUrl}
        insecureIgnoreSCT: true
        identities:
          - issuer: ${ISSUER}
            subject: ${SUBJECT}
        ca-cert:
          data: |
${pem
  .split('\n')
  .map((l) => `            ${l}`)
  .join('\n')}
`,
    );
    const out = join(work, 'private', 'vouch.yaml');
    const run = await vouch(process.env, 'import', 'policy-controller', cip, '-o', out);
    assert.equal(run.code, 0, run.out);
    const flags = ['--config', out, '--insecure-registry', registry.host];
    const ok = await vouch(process.env, 'verify', ref('release'), ...flags);
    assert.equal(ok.code, 0, ok.out);
    assert.equal((await vouch(process.env, 'verify', ref('mallory'), ...flags)).code, 1);
    assert.equal((await vouch(process.env, 'verify', ref('unsigned'), ...flags)).code, 1);
  });
});
