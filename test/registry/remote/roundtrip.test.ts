import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isVouchError } from '../../../src/errors.js';
import { parseReference } from '../../../src/reference/parse.js';
import { type RegistryRequestEvent, RemoteRegistry } from '../../../src/registry/remote/index.js';
import { MediaType } from '../../../src/registry/types.js';
import { buildTestImage, pushImage, pushTestImage } from '../../helpers/images.js';
import { startRegistry, type TestRegistry } from '../../helpers/registry.js';

describe('remote registry on a real registry (distribution 2.8)', () => {
  let registry: TestRegistry;
  let client: RemoteRegistry;
  const events: RegistryRequestEvent[] = [];

  before(async () => {
    registry = await startRegistry();
    client = new RemoteRegistry({ insecureHosts: [registry.host], onRequest: (e) => events.push(e) });
  });
  after(async () => {
    await client.close();
    await registry.stop();
  });

  it('pushes an image and reads it back, resolving by tag and by digest', async () => {
    const repo = client.repository(parseReference(`${registry.host}/app/round-trip`));
    const pushed = await pushTestImage(repo, 'v1', 'round-trip');
    const byTag = await repo.resolve('v1');
    assert.equal(byTag.digest, pushed.digest);
    assert.equal(byTag.mediaType, MediaType.OciManifest);
    assert.equal(byTag.size, pushed.size);
    const byDigest = await repo.resolve(pushed.digest);
    assert.deepEqual(byDigest, byTag);
    const fetched = await repo.fetchManifest('v1');
    assert.equal(fetched.descriptor.digest, pushed.digest);
    assert.equal(fetched.manifest.kind, 'manifest');
    if (fetched.manifest.kind !== 'manifest') return;
    const layer = fetched.manifest.layers[0];
    assert.ok(layer);
    const bytes = await repo.fetchBlob(layer, { maxBytes: 1024 });
    assert.equal(Buffer.from(bytes).toString(), 'vouch test layer round-trip\n');
    assert.deepEqual(await repo.listTags(), ['v1']);
  });

  it('names a missing tag with REGISTRY_NOT_FOUND', async () => {
    const repo = client.repository(parseReference(`${registry.host}/app/round-trip`));
    await assert.rejects(repo.resolve('nope'), (err: unknown) => {
      assert.ok(isVouchError(err, 'REGISTRY_NOT_FOUND'), String(err));
      assert.match(err.message, /tag "nope" of .*app\/round-trip not found/);
      return true;
    });
  });

  it('discovers referrers through the referrers tag schema, probing the API once per host', async () => {
    const repo = client.repository(parseReference(`${registry.host}/app/with-referrers`));
    const subject = await pushTestImage(repo, 'v1', 'subject');
    const sig = buildTestImage('sig', { subject, artifactType: 'application/vnd.example.sig' });
    await pushImage(repo, sig);
    // the client maintains the fallback index the way `oras attach` does
    const index = new TextEncoder().encode(
      JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [sig.manifest] }),
    );
    const { referrersTag } = await import('../../../src/registry/remote/index.js');
    await repo.pushManifest(index, MediaType.OciIndex, { tag: referrersTag(subject.digest) });

    const first = await repo.referrers(subject);
    // distribution 2.8 has no Referrers API: the listing says the tag schema answered
    assert.equal(first.source, 'referrers-tag');
    assert.deepEqual(
      first.descriptors.map((d) => d.digest),
      [sig.manifest.digest],
    );
    assert.equal(first.descriptors[0]?.artifactType, 'application/vnd.example.sig');
    assert.equal(client.referrersApiSupported(registry.host), false);

    events.length = 0;
    const resolved = await repo.resolve('v1');
    const again = await repo.referrers(resolved, { artifactType: 'application/vnd.example.sig' });
    assert.equal(again.descriptors.length, 1);
    assert.deepEqual((await repo.referrers(resolved, { artifactType: 'other/type' })).descriptors, []);
    // resolve (HEAD) + tag index GET, + one more GET for the filtered call: no probe again
    assert.deepEqual(
      events.map((e) => `${e.method} ${e.path.replace(/sha256[-:][0-9a-f]{64}/, '<d>')} ${e.status}`),
      [
        'HEAD /v2/app/with-referrers/manifests/v1 200',
        'GET /v2/app/with-referrers/manifests/<d> 200',
        'GET /v2/app/with-referrers/manifests/<d> 200',
      ],
    );
    const none = await client
      .repository(parseReference(`${registry.host}/app/round-trip`))
      .referrers(subject.digest);
    assert.deepEqual(none, { descriptors: [], source: 'referrers-tag' });
  });
});
