/**
 * vouch's own release, end to end on this machine: `npm run release` builds the npm tarball and
 * the linux-x64 single-file executable from a staging copy of the commit, writes a CycloneDX SBOM
 * and a SLSA v1 provenance for each, signs each asset with a release key and attests both, and
 * publishes to a new OCI layout and to a real registry (distribution 2.8). A second build
 * (unsigned, another source repository named) must give byte-identical assets. The shipped
 * release-policy.yaml then allows the genuine release — checked with bin/vouch, with the release's
 * own executable and against the registry copy (skopeo cross-checks the tags) — and denies a
 * replaced asset, a missing SBOM, a provenance from another repository and another key.
 * Nothing is published outside loopback and temp folders.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  appendFileSync,
  cpSync,
  existsSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { openLayoutRepository } from '../../src/registry/layout/index.js';
import { attestCosign } from '../../src/sign/cosign/attest.js';
import { decryptCosignKey, generateCosignKeyPair } from '../../src/sign/cosign/index.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const VOUCH = path.join(ROOT, 'bin', 'vouch');
const run = promisify(execFile);
const version = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string })
  .version;
const TGZ = `vouch-${version}.tgz`;
const EXE = `vouch-${version}-linux-x64`;
const CDX = 'https://cyclonedx.org/bom';
const SLSA = 'https://slsa.dev/provenance/v1';

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function exec(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  cwd = ROOT,
  timeout = 600_000,
): Promise<Result> {
  try {
    const r = await run(cmd, args, { cwd, env, timeout, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/**
 * The release runs in a fresh local clone of this checkout's HEAD (node_modules linked), as a
 * release manager's clean checkout: the suite never depends on, or writes to, this work tree.
 */
let clone = '';
const release = (args: string[], env: NodeJS.ProcessEnv) =>
  exec(process.execPath, ['--import', 'tsx', 'release/main.ts', ...args], env, clone);

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** An OCI layout's index entry by tag, and its manifest JSON. */
function layoutEntry(dir: string, tag: string) {
  const index = JSON.parse(readFileSync(path.join(dir, 'index.json'), 'utf8')) as {
    manifests: Array<{
      digest: string;
      size: number;
      mediaType: string;
      annotations?: Record<string, string>;
    }>;
  };
  const entry = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  assert.ok(entry, `${dir} has no tag ${tag}`);
  const blob = (digest: string) => path.join(dir, 'blobs', ...digest.split(':'));
  const manifest = JSON.parse(readFileSync(blob(entry.digest), 'utf8')) as Record<string, unknown> & {
    layers: Array<{ digest: string; annotations?: Record<string, string> }>;
  };
  return {
    entry,
    manifest,
    /** Writes a new manifest for this tag (as whoever controls the download location could). */
    replace(next: Record<string, unknown>) {
      const bytes = Buffer.from(JSON.stringify(next));
      const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
      writeFileSync(blob(digest), bytes);
      entry.digest = digest;
      entry.size = bytes.length;
      writeFileSync(path.join(dir, 'index.json'), JSON.stringify(index));
    },
  };
}

describe('release: npm run release, verified with the shipped release policy', { timeout: 1_500_000 }, () => {
  let tmp: string;
  let registry: TestRegistry;
  let keyPem: string;
  const env = { ...process.env, COSIGN_PASSWORD: 'release-test' };
  let outA: string;
  let outB: string;
  let layout: string;
  let repo: string;
  let summary: Record<string, unknown>;

  /** The shipped release-policy.yaml beside a public key named vouch-release.pub. */
  function policyWith(pubPem: string, name: string): string {
    const dir = path.join(tmp, name);
    cpSync(path.join(ROOT, 'release-policy.yaml'), path.join(dir, 'release-policy.yaml'));
    writeFileSync(path.join(dir, 'vouch-release.pub'), pubPem);
    return path.join(dir, 'release-policy.yaml');
  }
  let policy: string;
  let otherPolicy: string;

  const verify = (ref: string, policyFile = policy, extra: string[] = []) =>
    exec(VOUCH, ['verify', '--config', policyFile, '-o', 'json', ...extra, ref]);

  before(
    async () => {
      tmp = await mkdtemp(path.join(tmpdir(), 'vouch-release-test-'));
      clone = path.join(tmp, 'clone');
      execFileSync('git', ['clone', '-q', '--local', '--no-hardlinks', ROOT, clone], { timeout: 120_000 });
      symlinkSync(path.join(ROOT, 'node_modules'), path.join(clone, 'node_modules'));
      // .gitignore's `node_modules/` matches directories only; the link is the clone's own business
      appendFileSync(path.join(clone, '.git', 'info', 'exclude'), '/node_modules\n');
      registry = await startRegistry();
      const keys = generateCosignKeyPair('release-test');
      writeFileSync(path.join(tmp, 'cosign.key'), keys.privateKeyFile);
      keyPem = decryptCosignKey(keys.privateKeyFile, 'release-test');
      policy = policyWith(keys.publicKeyPem, 'policy');
      otherPolicy = policyWith(generateCosignKeyPair('x').publicKeyPem, 'other-policy');
      outA = path.join(tmp, 'a');
      outB = path.join(tmp, 'b');
      layout = path.join(tmp, 'layout');
      repo = `${registry.host}/vouch/release`;
      const a = await release(
        [
          '--out',
          outA,
          '--key',
          path.join(tmp, 'cosign.key'),
          '--push',
          `oci:${layout}`,
          '--push',
          repo,
          '--insecure-registry',
          registry.host,
        ],
        env,
      );
      assert.equal(a.code, 0, a.stderr);
      summary = JSON.parse(a.stdout) as Record<string, unknown>;
      // the second build: unsigned, naming another repository (it changes the provenance only)
      const b = await release(
        [
          '--out',
          outB,
          '--unsigned',
          '--repository',
          'https://github.com/evil/vouch',
          // the genuine builder id: only the source repository is wrong
          '--builder-id',
          'https://github.com/vouch-dev/vouch/release',
        ],
        env,
      );
      assert.equal(b.code, 0, b.stderr);
    },
    { timeout: 1_200_000 },
  );
  after(async () => {
    await registry?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('builds the tarball and the executable byte-for-byte reproducibly', () => {
    for (const name of [TGZ, EXE]) {
      assert.ok(existsSync(path.join(outA, name)), name);
      assert.equal(
        sha256(path.join(outA, name)),
        sha256(path.join(outB, name)),
        `${name} differs between builds`,
      );
    }
    const assets = summary.assets as Array<{ name: string; sha256: string }>;
    assert.deepEqual(
      assets.map((a) => [a.name, a.sha256]),
      [TGZ, EXE].map((n) => [n, sha256(path.join(outA, n))]),
    );
    assert.equal(summary.dirty, false);
    assert.match(String(summary.containerImage), /skipped|not built here/);
  });

  it('the executable is the CLI: it runs without Node installed beside it', async () => {
    const r = await exec(path.join(outA, EXE), ['--version'], { PATH: '/usr/bin:/bin' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), version);
  });

  it('writes a CycloneDX 1.5 SBOM from the lockfile and a SLSA v1 provenance for each asset', () => {
    const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { version: string; dev?: boolean }>;
    };
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: clone, encoding: 'utf8' }).trim();
    for (const name of [TGZ, EXE]) {
      const bom = JSON.parse(readFileSync(path.join(outA, `${name}.cdx.json`), 'utf8')) as {
        bomFormat: string;
        specVersion: string;
        components: Array<{ name: string; version: string }>;
      };
      assert.equal(bom.bomFormat, 'CycloneDX');
      assert.equal(bom.specVersion, '1.5');
      const zod = bom.components.find((c) => c.name === 'zod');
      assert.equal(
        zod?.version,
        lock.packages['node_modules/zod']?.version,
        'production dependency at its locked version',
      );
      assert.ok(!bom.components.some((c) => c.name === 'typescript'), 'dev dependencies are not in the SBOM');
      assert.equal(
        bom.components.some((c) => c.name === 'node'),
        name === EXE,
        'the executable embeds Node',
      );
      const st = JSON.parse(readFileSync(path.join(outA, `${name}.provenance.json`), 'utf8')) as {
        subject: Array<{ name: string; digest: { sha256: string } }>;
        predicateType: string;
        predicate: {
          buildDefinition: {
            externalParameters: { source: { commit: string; repository: string } };
            internalParameters: { SOURCE_DATE_EPOCH: number; dirty: boolean };
            resolvedDependencies: Array<{ uri: string; digest: Record<string, string> }>;
          };
          runDetails: { builder: { id: string } };
        };
      };
      assert.equal(st.predicateType, SLSA);
      assert.deepEqual(st.subject, [{ name, digest: { sha256: sha256(path.join(outA, name)) } }]);
      const def = st.predicate.buildDefinition;
      assert.equal(def.externalParameters.source.commit, commit);
      assert.equal(def.externalParameters.source.repository, 'https://github.com/vouch-dev/vouch');
      assert.equal(def.internalParameters.dirty, false);
      assert.equal(typeof def.internalParameters.SOURCE_DATE_EPOCH, 'number');
      assert.deepEqual(def.resolvedDependencies[0]?.digest, { gitCommit: commit });
      const z = def.resolvedDependencies.find((d) => d.uri.startsWith('pkg:npm/zod@'));
      assert.match(z?.digest.sha512 ?? '', /^[0-9a-f]{128}$/);
      assert.equal(st.predicate.runDetails.builder.id, 'https://github.com/vouch-dev/vouch/release');
    }
  });

  it('release-policy.yaml allows the genuine release: layout, registry, and checked by the release executable', async () => {
    for (const tag of [TGZ, EXE]) {
      const r = await verify(`oci:${layout}:${tag}`);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const out = JSON.parse(r.stdout) as { allowed: boolean };
      assert.equal(out.allowed, true);
    }
    const remote = await verify(`${repo}:${TGZ}`, policy, ['--insecure-registry', registry.host]);
    assert.equal(remote.code, 0, remote.stdout + remote.stderr);
    const self = await exec(path.join(outA, EXE), ['verify', '--config', policy, `oci:${layout}:${EXE}`]);
    assert.equal(self.code, 0, self.stdout + self.stderr);
    assert.match(self.stdout, /ALLOWED/);
    // a third-party client sees the same artifact under the asset's tag
    const inspected = JSON.parse(
      execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${repo}:${TGZ}`], {
        encoding: 'utf8',
        timeout: 60_000,
      }),
    ) as { artifactType: string; layers: Array<{ digest: string }> };
    assert.equal(inspected.artifactType, 'application/vnd.vouch.release.asset.v1');
    assert.equal(inspected.layers[0]?.digest, `sha256:${sha256(path.join(outA, TGZ))}`);
  });

  it('denies an asset replaced under its tag (the signatures are of the genuine one)', async () => {
    const dir = path.join(tmp, 'replaced');
    cpSync(layout, dir, { recursive: true });
    const e = layoutEntry(dir, TGZ);
    e.replace({ ...e.manifest, annotations: { 'org.opencontainers.image.title': 'evil.tgz' } });
    const r = await verify(`oci:${dir}:${TGZ}`);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.equal((JSON.parse(r.stdout) as { allowed: boolean }).allowed, false);
  });

  it('denies a release whose SBOM attestation is missing, naming the predicate type', async () => {
    const dir = path.join(tmp, 'no-sbom');
    cpSync(layout, dir, { recursive: true });
    const subject = layoutEntry(dir, TGZ).entry.digest;
    const att = layoutEntry(dir, `${subject.replace(':', '-')}.att`);
    const layers = att.manifest.layers.filter((l) => l.annotations?.predicateType !== CDX);
    assert.equal(layers.length, att.manifest.layers.length - 1, 'the SBOM layer was there');
    att.replace({ ...att.manifest, layers });
    const r = await verify(`oci:${dir}:${TGZ}`);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /cyclonedx\.org\/bom: no attestation of this predicate type verified/);
  });

  it('denies a provenance that names another source repository (signed with the genuine key)', async () => {
    const dir = path.join(tmp, 'evil-provenance');
    cpSync(layout, dir, { recursive: true });
    const subject = layoutEntry(dir, TGZ);
    const att = layoutEntry(dir, `${subject.entry.digest.replace(':', '-')}.att`);
    att.replace({
      ...att.manifest,
      layers: att.manifest.layers.filter((l) => l.annotations?.predicateType !== SLSA),
    });
    const evil = JSON.parse(readFileSync(path.join(outB, `${TGZ}.provenance.json`), 'utf8')) as {
      predicate: unknown;
    };
    await attestCosign({
      repository: openLayoutRepository({ kind: 'layout', dir }),
      subject: { mediaType: subject.entry.mediaType, digest: subject.entry.digest, size: subject.entry.size },
      subjectReference: `vouch-release/${TGZ}`,
      predicateType: SLSA,
      predicate: evil.predicate,
      signer: { privateKeyPem: keyPem },
    });
    const r = await verify(`oci:${dir}:${TGZ}`);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /provenance\/v1: source-mismatch: /);
  });

  it('denies a release checked against another key', async () => {
    const r = await verify(`oci:${layout}:${TGZ}`, otherPolicy);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.equal((JSON.parse(r.stdout) as { allowed: boolean }).allowed, false);
  });

  it('bad input: no key, a used output folder, a layout that exists, a registry that does not answer — refused before building', async () => {
    const fresh = (n: string) => path.join(tmp, n);
    const noKey = await release(['--out', fresh('x1')], {
      ...process.env,
      VOUCH_RELEASE_KEY: '',
    });
    assert.equal(noKey.code, 2);
    assert.match(noKey.stderr, /no release key/);
    assert.ok(!existsSync(fresh('x1')), 'nothing written');
    const used = await release(['--out', outA, '--unsigned'], env);
    assert.equal(used.code, 2);
    assert.match(used.stderr, /is not empty/);
    const key = ['--key', path.join(tmp, 'cosign.key')];
    const existing = await release(['--out', fresh('x2'), ...key, '--push', `oci:${layout}`], env);
    assert.equal(existing.code, 2);
    assert.match(existing.stderr, /is not empty: a release is written to a new layout directory/);
    const down = await release(
      [
        '--out',
        fresh('x3'),
        ...key,
        '--push',
        '127.0.0.1:1/vouch/release',
        '--insecure-registry',
        '127.0.0.1:1',
      ],
      env,
    );
    assert.equal(down.code, 2);
    assert.match(down.stderr, /does not answer/);
    assert.ok(!existsSync(path.join(fresh('x3'), TGZ)), 'nothing built for an unreachable destination');
  });

  it('refuses a dirty work tree without --allow-dirty, and marks it with', async () => {
    writeFileSync(path.join(clone, 'uncommitted.txt'), 'x');
    try {
      const r = await release(['--out', path.join(tmp, 'x4'), '--unsigned'], env);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /1 uncommitted change\(s\) \(first: \?\? uncommitted\.txt\).*--allow-dirty/);
      assert.ok(!existsSync(path.join(tmp, 'x4')), 'nothing written');
      const { readSourceState } = await import('../../release/stage.js');
      const state = readSourceState(clone, true);
      assert.deepEqual(state.dirty, ['?? uncommitted.txt']);
    } finally {
      rmSync(path.join(clone, 'uncommitted.txt'));
    }
  });
});
