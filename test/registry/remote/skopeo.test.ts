/**
 * Cross-checks with skopeo on the real registry: what vouch pushes, skopeo reads byte for byte;
 * what skopeo copies from an OCI layout, vouch resolves and fetches. Also chunked upload and
 * cross-repository mount on the real registry.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { computeDigest } from '../../../src/reference/digest.js';
import { parseReference } from '../../../src/reference/parse.js';
import { type RegistryRequestEvent, RemoteRegistry } from '../../../src/registry/remote/index.js';
import { buildTestImage, pushImage, writeTestLayout } from '../../helpers/images.js';
import { startRegistry, type TestRegistry } from '../../helpers/registry.js';

const run = promisify(execFile);

async function skopeo(args: string[]): Promise<string> {
  const { stdout } = await run('skopeo', args, {
    timeout: 20_000,
    maxBuffer: 8 * 1024 * 1024,
    encoding: 'utf8',
  });
  return stdout;
}

describe('interoperability with skopeo (real registry)', () => {
  let registry: TestRegistry;
  let client: RemoteRegistry;
  let dir: string;
  const events: RegistryRequestEvent[] = [];

  before(async () => {
    registry = await startRegistry();
    client = new RemoteRegistry({ insecureHosts: [registry.host], onRequest: (e) => events.push(e) });
    dir = await mkdtemp(join(tmpdir(), 'vouch-skopeo-'));
  });
  after(async () => {
    await client.close();
    await registry.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('skopeo inspect --raw reads exactly the manifest vouch pushed', async () => {
    const image = buildTestImage('skopeo-reads');
    await pushImage(client.repository(parseReference(`${registry.host}/interop/pushed`)), image, 'v1');
    const raw = await skopeo([
      'inspect',
      '--raw',
      '--tls-verify=false',
      `docker://${registry.host}/interop/pushed:v1`,
    ]);
    assert.equal(raw, Buffer.from(image.manifestBytes).toString('utf8'));
    const config = await skopeo([
      'inspect',
      '--config',
      '--raw',
      '--tls-verify=false',
      `docker://${registry.host}/interop/pushed:v1`,
    ]);
    assert.equal(computeDigest(Buffer.from(config)), image.blobs[0]?.descriptor.digest);
  });

  it('vouch resolves and fetches what skopeo copy pushed from an OCI layout', async () => {
    const image = buildTestImage('skopeo-writes');
    const layout = join(dir, 'layout');
    await writeTestLayout(layout, image, 'v2');
    await skopeo([
      'copy',
      '--preserve-digests',
      '--dest-tls-verify=false',
      `oci:${layout}:v2`,
      `docker://${registry.host}/interop/copied:v2`,
    ]);
    const repo = client.repository(parseReference(`${registry.host}/interop/copied`));
    const d = await repo.resolve('v2');
    assert.equal(d.digest, image.manifest.digest);
    const fetched = await repo.fetchManifest(d);
    assert.equal(fetched.manifest.kind, 'manifest');
    const layer = image.blobs[1];
    assert.ok(layer);
    assert.deepEqual(
      Buffer.from(await repo.fetchBlob(layer.descriptor, { maxBytes: 1024 })),
      Buffer.from(layer.bytes),
    );
  });

  it('uploads large blobs in chunks and mounts blobs across repositories', async () => {
    const bytes = new Uint8Array(5000).map((_, i) => (i * 7) % 251);
    const a = client.repository(parseReference(`${registry.host}/interop/chunks-a`));
    events.length = 0;
    const d = await a.pushBlob(bytes, 'application/octet-stream', { chunkBytes: 2048 });
    assert.equal(d.digest, computeDigest(bytes));
    assert.deepEqual(
      events.map((e) => e.method),
      ['HEAD', 'POST', 'PATCH', 'PATCH', 'PATCH', 'PUT'],
    );
    assert.deepEqual(Buffer.from(await a.fetchBlob(d, { maxBytes: 5000 })), Buffer.from(bytes));

    const b = client.repository(parseReference(`${registry.host}/interop/chunks-b`));
    events.length = 0;
    await b.pushBlob(bytes, 'application/octet-stream', { mountFrom: 'interop/chunks-a' });
    assert.deepEqual(
      events.map((e) => `${e.method} ${e.status}`),
      ['HEAD 404', 'POST 201'],
    );
    assert.deepEqual(Buffer.from(await b.fetchBlob(d, { maxBytes: 5000 })), Buffer.from(bytes));
    events.length = 0;
    await b.pushBlob(bytes, 'application/octet-stream');
    assert.deepEqual(
      events.map((e) => `${e.method} ${e.status}`),
      ['HEAD 200'],
      'an existing blob is not uploaded again',
    );
  });
});
