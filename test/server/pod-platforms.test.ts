/**
 * Multi-arch rules in admission: the pod's nodeSelector / required node affinity picks the
 * platforms verified, else `server.platforms`; on the real registry with a two-platform index
 * whose linux/amd64 manifest alone is signed, through the validating webhook route.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import type { VouchConfigInput } from '../../src/config/schema.js';
import { parseReference } from '../../src/reference/parse.js';
import { createRegistryClient, type RegistryClient } from '../../src/registry/client.js';
import { type Descriptor, MediaType } from '../../src/registry/types.js';
import { podPlatforms } from '../../src/server/pod-platforms.js';
import { signNotation } from '../../src/sign/notation/index.js';
import { generateTestCertificate } from '../../src/sign/notation/testcert.js';
import { pushTestImage } from '../helpers/images.js';
import { trustAllNotationConfig } from '../helpers/notation-dir.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { type RunningServer, startServer } from './harness.js';

const affinity = (key: string, values: string[]) => ({
  nodeAffinity: {
    requiredDuringSchedulingIgnoredDuringExecution: {
      nodeSelectorTerms: [{ matchExpressions: [{ key, operator: 'In', values }] }],
    },
  },
});

describe('podPlatforms', () => {
  it('reads nodeSelector, then required node affinity; nothing said is undefined', () => {
    assert.deepEqual(podPlatforms('Pod', { spec: { nodeSelector: { 'kubernetes.io/arch': 'arm64' } } }), [
      'linux/arm64',
    ]);
    assert.deepEqual(
      podPlatforms('Pod', { spec: { affinity: affinity('kubernetes.io/arch', ['amd64', 'arm64']) } }),
      ['linux/amd64', 'linux/arm64'],
    );
    assert.deepEqual(
      podPlatforms('Deployment', {
        spec: {
          template: {
            spec: { nodeSelector: { 'kubernetes.io/os': 'windows', 'kubernetes.io/arch': 'amd64' } },
          },
        },
      }),
      ['windows/amd64'],
    );
    assert.equal(podPlatforms('Pod', { spec: { containers: [] } }), undefined);
    assert.equal(podPlatforms('Pod', { spec: { affinity: affinity('kubernetes.io/arch', []) } }), undefined);
    assert.equal(podPlatforms('ConfigMap', {}), undefined);
  });
});

describe('multi-arch rules in the admission webhook', { timeout: 120_000 }, () => {
  let registry: TestRegistry;
  let client: RegistryClient;
  let dir: string;
  let vouch: RunningServer;
  let image: string;

  before(async () => {
    registry = await startRegistry();
    client = createRegistryClient({ insecureHosts: [registry.host] });
    dir = await mkdtemp(path.join(tmpdir(), 'vouch-pod-platforms-'));
    const cert = await generateTestCertificate({ name: 'pods.test', keyAlgorithm: 'ec-p256' });
    await writeFile(path.join(dir, 'ca.crt'), cert.certPem);
    image = `${registry.host}/pods/app:v1`;
    const repository = client.repository(parseReference(image));
    const amd64 = await pushTestImage(repository, 'amd64', 'pods-amd64');
    const arm64 = await pushTestImage(repository, 'arm64', 'pods-arm64');
    const child = (d: Descriptor, architecture: string) => ({
      mediaType: d.mediaType,
      digest: d.digest,
      size: d.size,
      platform: { os: 'linux', architecture },
    });
    const index = {
      schemaVersion: 2,
      mediaType: MediaType.OciIndex,
      manifests: [child(amd64, 'amd64'), child(arm64, 'arm64')],
    };
    await repository.pushManifest(new TextEncoder().encode(JSON.stringify(index)), MediaType.OciIndex, {
      tag: 'v1',
    });
    await signNotation({
      repository,
      subject: amd64,
      keyPem: cert.keyPem,
      certChainPem: cert.certPem,
      envelope: 'jws',
    });
    const config: VouchConfigInput = {
      registries: { insecure: [registry.host], dockerConfig: false },
      verifiers: {
        notation: trustAllNotationConfig('pods'),
      },
      policy: {
        rules: [
          {
            name: 'multi',
            scope: `${registry.host}/pods/*`,
            platforms: ['linux/amd64'],
            require: [{ verifier: 'notation' }],
          },
        ],
      },
    };
    vouch = await startServer(config, { tls: { insecureHttp: true } }, { baseDir: dir });
  });

  after(async () => {
    await vouch?.stop();
    await client?.close();
    await registry?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function admit(spec: Record<string, unknown>): Promise<{ allowed: boolean; message: string }> {
    const review = {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid: `uid-${Math.random().toString(36).slice(2)}`,
        kind: { group: '', version: 'v1', kind: 'Pod' },
        resource: { group: '', version: 'v1', resource: 'pods' },
        namespace: 'apps',
        operation: 'CREATE',
        object: {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'p' },
          spec: { containers: [{ name: 'app', image }], ...spec },
        },
      },
    };
    const res = await request(`${vouch.url}/admission/validate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(review),
    });
    const body = (await res.body.json()) as { response: { allowed: boolean; status?: { message?: string } } };
    return { allowed: body.response.allowed, message: body.response.status?.message ?? '' };
  }

  it('a pod that names no platform is verified for server.platforms (linux/amd64): allowed', async () => {
    const r = await admit({});
    assert.equal(r.allowed, true, r.message);
  });

  it('a pod pinned to arm64 by nodeSelector is denied: its platform is unsigned', async () => {
    const r = await admit({ nodeSelector: { 'kubernetes.io/arch': 'arm64' } });
    assert.equal(r.allowed, false);
    assert.match(r.message, /linux\/arm64/);
  });

  it('node affinity allowing amd64 or arm64 needs both signed; s390x is platform-missing', async () => {
    assert.equal(
      (await admit({ affinity: affinity('kubernetes.io/arch', ['amd64', 'arm64']) })).allowed,
      false,
    );
    assert.equal((await admit({ affinity: affinity('kubernetes.io/arch', ['amd64']) })).allowed, true);
    const missing = await admit({ nodeSelector: { 'kubernetes.io/arch': 's390x' } });
    assert.equal(missing.allowed, false);
    assert.match(missing.message, /platform-missing/);
  });
});
