/**
 * Multi-arch rules end to end on the real registry: a two-platform OCI index (plus a BuildKit
 * attestation manifest) whose linux/amd64 manifest alone is signed, decided with `platforms:`
 * index, a list, all, and `verifyIndex`.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { composeConfig } from '../../src/config/compose.js';
import { buildRuntime } from '../../src/config/runtime.js';
import type { VouchConfigInput } from '../../src/config/schema.js';
import { parseReference } from '../../src/reference/parse.js';
import { createRegistryClient, type RegistryClient } from '../../src/registry/client.js';
import { type Descriptor, MediaType, type Repository } from '../../src/registry/types.js';
import { signNotation } from '../../src/sign/notation/index.js';
import { generateTestCertificate } from '../../src/sign/notation/testcert.js';
import { pushTestImage } from '../helpers/images.js';
import { trustAllNotationConfig } from '../helpers/notation-dir.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

let registry: TestRegistry;
let client: RegistryClient;
let dir: string;
let repository: Repository;
let sign: (subject: Descriptor) => Promise<void>;
let ref: string;
let amd64: Descriptor;
let certKey: string;
let certPem: string;

before(async () => {
  registry = await startRegistry();
  client = createRegistryClient({ insecureHosts: [registry.host] });
  dir = await mkdtemp(path.join(tmpdir(), 'vouch-multi-'));
  const cert = await generateTestCertificate({ name: 'multi.test', keyAlgorithm: 'ec-p256' });
  await writeFile(path.join(dir, 'ca.crt'), cert.certPem);
  certKey = cert.keyPem;
  certPem = cert.certPem;
  ref = `${registry.host}/multi/app:v1`;
  repository = client.repository(parseReference(ref));
  sign = async (subject) => {
    await signNotation({
      repository,
      subject,
      keyPem: cert.keyPem,
      certChainPem: cert.certPem,
      envelope: 'jws',
    });
  };
  amd64 = await pushTestImage(repository, 'amd64', 'multi-amd64');
  const arm64 = await pushTestImage(repository, 'arm64', 'multi-arm64');
  const attestation = await pushTestImage(repository, 'att', 'multi-attestation');
  const child = (d: Descriptor, platform: Record<string, string>, annotations?: Record<string, string>) => ({
    mediaType: d.mediaType,
    digest: d.digest,
    size: d.size,
    platform,
    ...(annotations ? { annotations } : {}),
  });
  const index = {
    schemaVersion: 2,
    mediaType: MediaType.OciIndex,
    manifests: [
      child(amd64, { os: 'linux', architecture: 'amd64' }),
      child(arm64, { os: 'linux', architecture: 'arm64', variant: 'v8' }),
      child(
        attestation,
        { os: 'unknown', architecture: 'unknown' },
        { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': amd64.digest },
      ),
    ],
  };
  await repository.pushManifest(new TextEncoder().encode(JSON.stringify(index)), MediaType.OciIndex, {
    tag: 'v1',
  });
  await sign(amd64);
});

after(async () => {
  await client.close();
  await registry.stop();
  await rm(dir, { recursive: true, force: true });
});

async function decide(platforms: unknown, verifyIndex = false, target = ref) {
  const config: VouchConfigInput = {
    registries: { insecure: [registry.host], dockerConfig: false },
    verifiers: {
      notation: trustAllNotationConfig('multi'),
    },
    policy: {
      rules: [
        {
          name: 'multi',
          scope: `${registry.host}/multi/*`,
          platforms: platforms as 'index',
          verifyIndex,
          require: [{ verifier: 'notation' }],
        },
      ],
    },
  };
  const file = path.join(dir, `vouch-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(file, JSON.stringify(config));
  const loaded = await composeConfig({ configFile: file });
  const runtime = await buildRuntime(loaded.config, { baseDir: loaded.baseDir });
  try {
    return await runtime.engine.decide(target, { signal: AbortSignal.timeout(20_000) });
  } finally {
    await runtime.close();
  }
}

describe('multi-arch rules on a two-platform index', () => {
  it('platforms [linux/amd64] allows: the amd64 manifest is signed; the decision lists the platform', async () => {
    const d = await decide(['linux/amd64']);
    assert.equal(d.allowed, true, d.why.join('; '));
    assert.equal(d.platforms?.length, 1);
    assert.equal(d.platforms?.[0]?.digest, amd64.digest);
    assert.equal(d.platforms?.[0]?.reports[0]?.outcome, 'verified');
  });

  it('platforms [linux/arm64] and all deny (arm64 unsigned); the attestation manifest is not a platform', async () => {
    assert.equal((await decide(['linux/arm64'])).allowed, false);
    const all = await decide('all');
    assert.equal(all.allowed, false);
    assert.deepEqual(
      all.platforms?.map((p) => `${p.platform}:${p.verified}`),
      ['linux/amd64:true', 'linux/arm64/v8:false'],
    );
    assert.match(all.why.join(), /linux\/arm64\/v8: notation: no signature found/);
  });

  it('a listed platform the index lacks is platform-missing', async () => {
    const d = await decide(['linux/amd64', 'linux/s390x']);
    assert.equal(d.allowed, false);
    assert.equal(d.platforms?.find((p) => p.platform === 'linux/s390x')?.reason, 'platform-missing');
  });

  it('platforms index (the default) and verifyIndex need the index itself signed', async () => {
    assert.equal((await decide('index')).allowed, false);
    assert.equal((await decide(['linux/amd64'], true)).allowed, false);
    await sign(await repository.resolve('v1'));
    assert.equal((await decide('index')).allowed, true);
    const both = await decide(['linux/amd64'], true);
    assert.equal(both.allowed, true, both.why.join('; '));
    assert.equal(both.reports[0]?.outcome, 'verified', 'the index reports are the top-level reports');
  });
});

describe('a Docker manifest list with only arm64 and Windows manifests', () => {
  let listRef: string;
  let arm64: Descriptor;
  let windows: Descriptor;
  before(async () => {
    listRef = `${registry.host}/multi/list:v1`;
    const repo = client.repository(parseReference(listRef));
    arm64 = await pushTestImage(repo, 'arm64', 'list-arm64');
    windows = await pushTestImage(repo, 'windows', 'list-windows');
    const list = {
      schemaVersion: 2,
      mediaType: MediaType.DockerManifestList,
      manifests: [
        {
          mediaType: arm64.mediaType,
          digest: arm64.digest,
          size: arm64.size,
          platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
        },
        {
          mediaType: windows.mediaType,
          digest: windows.digest,
          size: windows.size,
          platform: { os: 'windows', architecture: 'amd64', 'os.version': '10.0.20348.2227' },
        },
      ],
    };
    await repo.pushManifest(new TextEncoder().encode(JSON.stringify(list)), MediaType.DockerManifestList, {
      tag: 'v1',
    });
    await signNotation({
      repository: repo,
      subject: arm64,
      keyPem: certKey,
      certChainPem: certPem,
      envelope: 'jws',
    });
  });

  it('decides per platform like an OCI index: linux/arm64 allows, the signed manifest is listed', async () => {
    const d = await decide(['linux/arm64'], false, listRef);
    assert.equal(d.allowed, true, d.why.join('; '));
    assert.equal(d.platforms?.[0]?.digest, arm64.digest);
  });

  it('linux/amd64 is platform-missing: windows/amd64 is never taken for it, nor arm64', async () => {
    const d = await decide(['linux/amd64'], false, listRef);
    assert.equal(d.allowed, false);
    assert.equal(d.platforms?.[0]?.reason, 'platform-missing');
    assert.equal(d.platforms?.[0]?.digest, undefined);
  });

  it('windows/amd64 is its own platform (unsigned here), and all lists both', async () => {
    const win = await decide(['windows/amd64'], false, listRef);
    assert.equal(win.allowed, false);
    assert.equal(win.platforms?.[0]?.digest, windows.digest);
    assert.match(win.why.join(), /windows\/amd64: notation: no signature found/);
    const all = await decide('all', false, listRef);
    assert.deepEqual(
      all.platforms?.map((p) => `${p.platform}:${p.verified}`),
      ['linux/arm64/v8:true', 'windows/amd64:false'],
    );
  });
});
