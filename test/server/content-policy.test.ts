/**
 * The content policy through the server (Gatekeeper external data provider path and /provide),
 * on the real registry: an image whose signed Trivy-shaped report has a critical CVE is denied, a
 * clean signed report allows, an unsigned report denies, and the server keeps serving after a
 * malformed report.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import type { VouchConfigInput } from '../../src/config/schema.js';
import { parseReference } from '../../src/reference/parse.js';
import { attachArtifact } from '../../src/referrers/attach.js';
import { createRegistryClient, type RegistryClient } from '../../src/registry/client.js';
import type { Descriptor, Repository } from '../../src/registry/types.js';
import { signNotation } from '../../src/sign/notation/index.js';
import { generateTestCertificate } from '../../src/sign/notation/testcert.js';
import { pushTestImage } from '../helpers/images.js';
import { trustAllNotationConfig } from '../helpers/notation-dir.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { sarifReport } from '../helpers/reports.js';
import { type RunningServer, startServer } from './harness.js';

describe('content policy in the server', { timeout: 120_000 }, () => {
  let registry: TestRegistry;
  let client: RegistryClient;
  let dir: string;
  let vouch: RunningServer;

  before(async () => {
    registry = await startRegistry();
    client = createRegistryClient({ insecureHosts: [registry.host] });
    dir = await mkdtemp(path.join(tmpdir(), 'vouch-server-content-'));
    const cert = await generateTestCertificate({ name: 'server-content.test', keyAlgorithm: 'ec-p256' });
    await writeFile(path.join(dir, 'ca.crt'), cert.certPem);
    const sign = (repository: Repository, subject: Descriptor) =>
      signNotation({ repository, subject, keyPem: cert.keyPem, certChainPem: cert.certPem, envelope: 'jws' });
    const reports: Record<string, Uint8Array | undefined> = {
      clean: sarifReport([{ cve: 'CVE-2024-3000', severity: 'medium' }]),
      critical: sarifReport([{ cve: 'CVE-2024-4000', severity: 'critical' }]),
      unsigned: sarifReport([{ cve: 'CVE-2024-3000', severity: 'medium' }]),
      garbage: new TextEncoder().encode('not json at all'),
    };
    for (const [name, bytes] of Object.entries(reports)) {
      const repository = client.repository(parseReference(`${registry.host}/srv/${name}:v1`));
      const image = await pushTestImage(repository, 'v1', `srv-${name}`);
      await sign(repository, image);
      const report = await attachArtifact(repository, {
        subject: image,
        artifactType: 'application/sarif+json',
        layers: [{ bytes: bytes as Uint8Array, mediaType: 'application/sarif+json' }],
        annotations: { 'org.opencontainers.image.created': new Date().toISOString() },
      });
      if (name !== 'unsigned') await sign(repository, report);
    }
    const config: VouchConfigInput = {
      registries: { insecure: [registry.host], dockerConfig: false },
      verifiers: {
        notation: trustAllNotationConfig('srv'),
        vulnerabilityReport: { disallowedSeverities: ['critical', 'high'], maximumAge: '1h' },
      },
      policy: {
        default: 'deny',
        rules: [
          {
            name: 'scanned',
            scope: `${registry.host}/srv/*`,
            require: [{ verifier: 'notation' }, { verifier: 'vulnerabilityReport' }],
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

  const post = async (p: string, body: unknown) => {
    const res = await request(`${vouch.url}${p}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.statusCode, json: (await res.body.json()) as Record<string, unknown> };
  };

  it('/provide: clean allows; critical, unsigned and malformed reports deny, each for its reason', async () => {
    const names = ['clean', 'critical', 'unsigned', 'garbage'];
    const res = await post('/provide', {
      keys: ['image'],
      values: names.map((n) => `${registry.host}/srv/${n}:v1`),
    });
    assert.equal(res.status, 200);
    const responses = res.json.responses as Array<{ verified: boolean; error?: string }>;
    assert.deepEqual(
      responses.map((r) => r.verified),
      [true, false, false, false],
      JSON.stringify(responses),
    );
  });

  it('Gatekeeper verify: the denial names the CVE and unsigned-report; the server keeps serving', async () => {
    const keys = ['critical', 'unsigned', 'garbage', 'clean'].map((n) => `${registry.host}/srv/${n}:v1`);
    const res = await post('/gatekeeper/v1/verify', {
      apiVersion: 'externaldata.gatekeeper.sh/v1beta1',
      kind: 'ProviderRequest',
      request: { keys },
    });
    assert.equal(res.status, 200);
    const text = JSON.stringify(res.json);
    assert.match(text, /CVE-2024-4000/);
    assert.match(text, /unsigned-report/);
    assert.match(text, /malformed/);
    const items = (
      res.json.response as {
        items: Array<{ key: string; value?: { allowed?: boolean; isSuccess?: boolean } }>;
      }
    ).items;
    assert.equal(items.length, 4);
    const allowed = items.map((i) => i.value?.isSuccess ?? i.value?.allowed ?? false);
    assert.deepEqual(allowed, [false, false, false, true], text.slice(0, 2000));
  });
});
