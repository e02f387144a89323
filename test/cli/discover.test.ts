/**
 * `vouch discover` and `vouch resolve` end to end through bin/vouch (the compiled CLI; built here
 * when dist/ is missing): on the embedded example layout, on a real registry (tag-schema
 * fallback), and every error exit.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parseReference } from '../../src/reference/parse.js';
import { attachArtifact } from '../../src/referrers/attach.js';
import { cosignTag } from '../../src/referrers/cosign-tags.js';
import { StaticCredentialStore } from '../../src/registry/auth/static.js';
import { createRegistryClient, type RegistryClient } from '../../src/registry/client.js';
import type { Descriptor } from '../../src/registry/types.js';
import { pushTestImage } from '../helpers/images.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

const ROOT = resolve(import.meta.dirname, '../..');
const VOUCH = join(ROOT, 'bin', 'vouch');
const execFileAsync = promisify(execFile);

/** The example layout's digests (examples/make-layout.ts writes deterministic content). */
const APP = 'sha256:5a694471cabd3426bf3dd934ef249224a7a9a39f1d59714600aba45548dfece8';
const SBOM = 'sha256:d57f04e153cce1bf665fe623904afd17fb98d08f1336aa75b6401de78319fefc';
const REPORT = 'sha256:de7a94da430a4718dafaba743fd67e8c10fb17ce598cf603b25de71a835b0d31';
/** The Notary Project signatures examples/sign-layout.ts attached to `app`, its SBOM and report. */
const NOTATION_SIGNATURE = 'sha256:2a67cd30b1cdb2ccbbe52f0146da4fc0dbf019c4d00746678c44d6b382adfa98';
const SBOM_SIGNATURE = 'sha256:13d3844bcf6fdf5d7f600815e4d072fcf3e48f86f5f965116288c46f4f699c1a';
const REPORT_SIGNATURE = 'sha256:69548ce365b71342d1e6554b67f161d036f12a02da24173e37d099dc5d3c6c59';

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

let dockerConfigDir = '';

async function vouch(...args: string[]): Promise<RunResult> {
  try {
    const { stdout, stderr } = await execFileAsync(VOUCH, args, {
      cwd: ROOT,
      timeout: 60_000,
      env: { ...process.env, DOCKER_CONFIG: dockerConfigDir },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

interface ReferrerJson {
  digest: string;
  artifactType?: string;
  mediaType: string;
  size: number;
  kind: string;
  source: string;
  annotations?: Record<string, string>;
  referrers: ReferrerJson[];
}

describe('vouch discover and vouch resolve', { timeout: 150_000 }, () => {
  let work: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'vouch-cli-discover-'));
    dockerConfigDir = join(work, 'docker');
    await execFileAsync('mkdir', ['-p', dockerConfigDir]);
    if (!existsSync(join(ROOT, 'dist', 'src', 'cli', 'main.js'))) {
      await execFileAsync('npm', ['run', '-s', 'build'], { cwd: ROOT, timeout: 120_000 }).catch(
        () => undefined,
      );
    }
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  describe('on the example OCI layout', () => {
    it('prints the referrer tree like oras discover', async () => {
      const { code, stdout } = await vouch('discover', 'oci:examples/layout:app');
      assert.equal(code, 0);
      assert.equal(
        stdout,
        [
          `oci:examples/layout@${APP}`,
          '├── application/spdx+json',
          `│   └── ${SBOM}`,
          '│       └── application/vnd.cncf.notary.signature',
          `│           └── ${SBOM_SIGNATURE}`,
          '├── application/sarif+json',
          `│   └── ${REPORT}`,
          '│       └── application/vnd.cncf.notary.signature',
          `│           └── ${REPORT_SIGNATURE}`,
          '└── application/vnd.cncf.notary.signature',
          `    └── ${NOTATION_SIGNATURE}`,
          '',
        ].join('\n'),
      );
    });

    it('prints JSON with the subject descriptor and nested referrers', async () => {
      const { code, stdout } = await vouch('discover', 'oci:examples/layout:app', '-o', 'json');
      assert.equal(code, 0);
      const out = JSON.parse(stdout) as {
        digest: string;
        mediaType: string;
        size: number;
        referrers: ReferrerJson[];
      };
      assert.equal(out.digest, APP);
      assert.equal(out.mediaType, 'application/vnd.oci.image.manifest.v1+json');
      assert.equal(out.size, 510);
      assert.deepEqual(
        out.referrers.map((r) => [r.digest, r.artifactType, r.referrers.map((n) => n.digest)]),
        [
          [SBOM, 'application/spdx+json', [SBOM_SIGNATURE]],
          [REPORT, 'application/sarif+json', [REPORT_SIGNATURE]],
          [NOTATION_SIGNATURE, 'application/vnd.cncf.notary.signature', []],
        ],
      );
      assert.equal(
        out.referrers[0]?.annotations?.['org.opencontainers.image.created'],
        '2024-01-01T00:00:00Z',
      );
    });

    it('filters by artifact type and limits the depth', async () => {
      const filtered = await vouch(
        'discover',
        'oci:examples/layout:app',
        '--artifact-type',
        'application/sarif+json',
      );
      assert.equal(filtered.code, 0);
      assert.ok(filtered.stdout.includes(REPORT) && !filtered.stdout.includes(SBOM));
      const shallow = await vouch('discover', 'oci:examples/layout:app', '--depth', '1');
      assert.ok(shallow.stdout.includes(SBOM) && !shallow.stdout.includes(SBOM_SIGNATURE));
    });

    it('resolves a tag to the digest-pinned reference', async () => {
      const { code, stdout } = await vouch('resolve', 'oci:examples/layout:app');
      assert.equal(code, 0);
      assert.equal(stdout, `oci:examples/layout@${APP}\n`);
    });
  });

  describe('on a registry without the Referrers API', () => {
    let registry: TestRegistry;
    let client: RegistryClient;
    let subject: Descriptor;
    let one: Descriptor;
    let nested: Descriptor;
    let signature: Descriptor;

    before(async () => {
      registry = await startRegistry();
      client = createRegistryClient({ insecureHosts: [registry.host] });
      const repo = client.repository(parseReference(`${registry.host}/cli/app`));
      subject = await pushTestImage(repo, 'v1', 'cli-subject');
      const layer = { bytes: new TextEncoder().encode('{}'), mediaType: 'application/json' };
      one = await attachArtifact(repo, {
        subject,
        artifactType: 'application/vnd.example.one',
        layers: [layer],
      });
      nested = await attachArtifact(repo, {
        subject: one,
        artifactType: 'application/vnd.example.nested',
        layers: [],
      });
      signature = await pushTestImage(repo, cosignTag(subject.digest, 'sig'), 'cli-cosign-sig');
    });
    after(async () => {
      await client?.close();
      await registry?.stop();
    });

    it('prints the tree with nested referrers and the cosign signature', async () => {
      const { code, stdout, stderr } = await vouch(
        'discover',
        '--insecure-registry',
        registry.host,
        `${registry.host}/cli/app:v1`,
      );
      assert.equal(code, 0, stderr);
      assert.equal(
        stdout,
        [
          `${registry.host}/cli/app@${subject.digest}`,
          '├── application/vnd.example.one',
          `│   └── ${one.digest}`,
          '│       └── application/vnd.example.nested',
          `│           └── ${nested.digest}`,
          '└── cosign-signature',
          `    └── ${signature.digest}`,
          '',
        ].join('\n'),
      );
    });

    it('prints JSON and resolves to the pinned reference', async () => {
      const json = await vouch(
        'discover',
        '--insecure-registry',
        registry.host,
        `${registry.host}/cli/app:v1`,
        '-o',
        'json',
      );
      assert.equal(json.code, 0, json.stderr);
      const out = JSON.parse(json.stdout) as { digest: string; referrers: ReferrerJson[] };
      assert.equal(out.digest, subject.digest);
      assert.deepEqual(
        out.referrers.map((r) => [r.digest, r.kind, r.source, r.referrers.map((n) => n.digest)]),
        [
          // distribution 2.8 has no Referrers API: the referrers came from the tag schema
          [one.digest, 'referrer', 'referrers-tag', [nested.digest]],
          [signature.digest, 'cosign-signature', 'cosign-tag', []],
        ],
      );
      assert.equal(out.referrers[0]?.referrers[0]?.source, 'referrers-tag');
      const resolved = await vouch(
        'resolve',
        '--insecure-registry',
        registry.host,
        `${registry.host}/cli/app:v1`,
      );
      assert.equal(resolved.code, 0, resolved.stderr);
      assert.equal(resolved.stdout, `${registry.host}/cli/app@${subject.digest}\n`);
    });

    it('exits 3 naming the tag when the tag does not exist', async () => {
      const { code, stdout, stderr } = await vouch(
        'discover',
        '--insecure-registry',
        registry.host,
        `${registry.host}/cli/app:nope`,
      );
      assert.equal(code, 3);
      assert.equal(stdout, '');
      assert.match(stderr, /nope/);
      assert.match(stderr, /\[REGISTRY_NOT_FOUND\]/);
    });
  });

  describe('when it cannot complete', () => {
    it('exits 2 for a malformed reference', async () => {
      const { code, stderr } = await vouch('discover', 'Registry.Example/UPPER:tag');
      assert.equal(code, 2);
      assert.match(stderr, /\[REFERENCE_INVALID\]/);
    });

    it('exits 2 for an unknown output format and a bad depth', async () => {
      assert.equal((await vouch('discover', 'oci:examples/layout:app', '-o', 'xml')).code, 2);
      assert.equal((await vouch('discover', 'oci:examples/layout:app', '--depth', 'deep')).code, 2);
    });

    it('exits 3 when the registry is unreachable', async () => {
      const gone = await startRegistry();
      await gone.stop();
      const { code, stderr } = await vouch(
        'resolve',
        '--insecure-registry',
        gone.host,
        `${gone.host}/cli/app:v1`,
      );
      assert.equal(code, 3);
      assert.match(stderr, /\[REGISTRY_UNREACHABLE\]/);
    });

    it('exits 2 for a directory that is not an OCI layout', async () => {
      const { code, stderr } = await vouch('discover', `oci:${join(work, 'missing')}:v1`);
      assert.equal(code, 2);
      assert.match(stderr, /not a valid OCI image layout: the directory does not exist \[LAYOUT_INVALID\]/);
    });

    it('exits 3 when the registry refuses the credentials, and uses docker config.json ones', async () => {
      const user = 'vouch';
      const password = 'correct horse';
      const registry = await startRegistry({ auth: { htpasswd: { user, password } } });
      const client = createRegistryClient({
        insecureHosts: [registry.host],
        credentials: new StaticCredentialStore({ [registry.host]: { username: user, password } }),
      });
      try {
        const subject = await pushTestImage(
          client.repository(parseReference(`${registry.host}/auth/app`)),
          'v1',
          'auth',
        );
        const ref = `${registry.host}/auth/app:v1`;
        const anonymous = await vouch('resolve', '--insecure-registry', registry.host, ref);
        assert.equal(anonymous.code, 3);
        assert.match(anonymous.stderr, /\[REGISTRY_AUTH_FAILED\]/);

        const auth = (p: string) => Buffer.from(`${user}:${p}`).toString('base64');
        await writeFile(
          join(dockerConfigDir, 'config.json'),
          JSON.stringify({ auths: { [registry.host]: { auth: auth('wrong') } } }),
        );
        const wrong = await vouch('resolve', '--insecure-registry', registry.host, ref);
        assert.equal(wrong.code, 3);
        assert.match(wrong.stderr, /\[REGISTRY_AUTH_FAILED\]/);

        await writeFile(
          join(dockerConfigDir, 'config.json'),
          JSON.stringify({ auths: { [registry.host]: { auth: auth(password) } } }),
        );
        const ok = await vouch('resolve', '--insecure-registry', registry.host, ref);
        assert.equal(ok.code, 0, ok.stderr);
        assert.equal(ok.stdout, `${registry.host}/auth/app@${subject.digest}\n`);
      } finally {
        await rm(join(dockerConfigDir, 'config.json'), { force: true });
        await client.close();
        await registry.stop();
      }
    });
  });
});
