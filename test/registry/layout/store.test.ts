import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { isVouchError } from '../../../src/errors.js';
import { openLayoutRepository, REF_NAME_ANNOTATION } from '../../../src/registry/layout/index.js';
import { MediaType, type Repository } from '../../../src/registry/types.js';

const run = promisify(execFile);
const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

/** Pushes a one-layer image (config + layer + manifest) and returns the manifest bytes. */
async function pushImage(repo: Repository, tag: string | undefined, seed: string) {
  const layer = await repo.pushBlob(
    new TextEncoder().encode(`layer ${seed}`),
    'application/vnd.oci.image.layer.v1.tar',
  );
  const config = await repo.pushBlob(json({ architecture: 'amd64', os: 'linux', seed }), MediaType.OciConfig);
  const bytes = json({ schemaVersion: 2, mediaType: MediaType.OciManifest, config, layers: [layer] });
  const { descriptor, subjectIndexed } = await repo.pushManifest(
    bytes,
    MediaType.OciManifest,
    tag ? { tag } : {},
  );
  return { descriptor, subjectIndexed, bytes, layer };
}

async function pushArtifact(
  repo: Repository,
  subject: { mediaType: string; digest: string; size: number },
  type: string,
) {
  const empty = await repo.pushBlob(json({}), MediaType.OciEmpty);
  const bytes = json({
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    artifactType: type,
    config: empty,
    layers: [empty],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    annotations: { 'org.example.kind': type },
  });
  return (await repo.pushManifest(bytes, MediaType.OciManifest)).descriptor;
}

async function rejects(promise: Promise<unknown>, code: string, pattern: RegExp) {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isVouchError(err), `expected a VouchError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.message, pattern);
    return true;
  });
}

describe('OCI image layout store', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'vouch-layout-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  describe('when an image is pushed with a tag', () => {
    it('creates the layout and resolves the tag and the digest to the manifest', async () => {
      const dir = join(root, 'created');
      const repo = openLayoutRepository({ kind: 'layout', dir });
      const { descriptor, subjectIndexed, bytes } = await pushImage(repo, 'v1', 'a');
      assert.equal(subjectIndexed, true);
      assert.deepEqual(JSON.parse(await readFile(join(dir, 'oci-layout'), 'utf8')), {
        imageLayoutVersion: '1.0.0',
      });
      const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8'));
      assert.equal(index.manifests[0].annotations[REF_NAME_ANNOTATION], 'v1');
      assert.deepEqual(await repo.resolve('v1'), {
        mediaType: MediaType.OciManifest,
        digest: descriptor.digest,
        size: bytes.length,
      });
      assert.equal((await repo.resolve(descriptor.digest)).size, bytes.length);
      const fetched = await repo.fetchManifest('v1');
      assert.deepEqual(fetched.bytes, bytes);
      assert.equal(fetched.manifest.kind, 'manifest');
      assert.deepEqual(await repo.listTags?.(), ['v1']);
    });

    it('moves the tag on a second push and keeps one entry per tag', async () => {
      const repo = openLayoutRepository({ kind: 'layout', dir: join(root, 'moved') });
      await pushImage(repo, 'v1', 'first');
      const second = await pushImage(repo, 'v1', 'second');
      assert.equal((await repo.resolve('v1')).digest, second.descriptor.digest);
      const index = JSON.parse(await readFile(join(root, 'moved', 'index.json'), 'utf8'));
      assert.equal(index.manifests.length, 1);
    });

    it('is read back by skopeo', async () => {
      const dir = join(root, 'skopeo');
      const { bytes } = await pushImage(openLayoutRepository({ kind: 'layout', dir }), 'v1', 'skopeo');
      const { stdout } = await run('skopeo', ['inspect', '--raw', `oci:${dir}:v1`], { timeout: 30_000 });
      assert.equal(stdout, new TextDecoder().decode(bytes));
    });
  });

  describe('when blobs are read', () => {
    it('returns bytes whose digest and size were checked', async () => {
      const repo = openLayoutRepository({ kind: 'layout', dir: join(root, 'blobs') });
      const { layer } = await pushImage(repo, 'v1', 'blob');
      assert.equal(new TextDecoder().decode(await repo.fetchBlob(layer, { maxBytes: 1024 })), 'layer blob');
      await rejects(repo.fetchBlob(layer, { maxBytes: 3 }), 'CONTENT_TOO_LARGE', /limit of 3/);
      await rejects(
        repo.fetchBlob({ ...layer, size: layer.size + 5 }, { maxBytes: 1024 }),
        'CONTENT_TRUNCATED',
        /descriptor says/,
      );
      const hex = layer.digest.slice('sha256:'.length);
      await writeFile(join(root, 'blobs', 'blobs', 'sha256', hex), 'layer blob'.replace('b', 'B'));
      await rejects(repo.fetchBlob(layer, { maxBytes: 1024 }), 'CONTENT_DIGEST_MISMATCH', /expected sha256:/);
    });

    it('answers REGISTRY_NOT_FOUND for an unknown tag, digest or blob', async () => {
      const repo = openLayoutRepository({ kind: 'layout', dir: join(root, 'blobs') });
      await rejects(repo.resolve('nope'), 'REGISTRY_NOT_FOUND', /tag "nope" not found/);
      const missing = `sha256:${'0'.repeat(64)}`;
      await rejects(repo.resolve(missing), 'REGISTRY_NOT_FOUND', /is not in oci:/);
      await rejects(
        repo.fetchBlob({ mediaType: 'x', digest: missing, size: 1 }, { maxBytes: 8 }),
        'REGISTRY_NOT_FOUND',
        /blob/,
      );
      await rejects(repo.resolve('sha256:abc'), 'DIGEST_INVALID', /64 hex characters/);
      await rejects(repo.resolve('../etc'), 'REFERENCE_INVALID', /not a valid tag/);
    });
  });

  describe('when artifacts carry a subject', () => {
    it('lists them as referrers of the subject, with artifactType filter, but not of other images', async () => {
      const repo = openLayoutRepository({ kind: 'layout', dir: join(root, 'referrers') });
      const image = await pushImage(repo, 'app', 'app');
      const other = await pushImage(repo, 'other', 'other');
      const sbom = await pushArtifact(repo, image.descriptor, 'application/vnd.example.sbom');
      const sig = await pushArtifact(repo, image.descriptor, 'application/vnd.example.signature');
      const nested = await pushArtifact(repo, sbom, 'application/vnd.example.signature');

      const listing = await repo.referrers(image.descriptor);
      assert.equal(listing.source, 'layout');
      const all = listing.descriptors;
      assert.deepEqual(all.map((d) => d.digest).sort(), [sbom.digest, sig.digest].sort());
      const listed = all.find((d) => d.digest === sbom.digest);
      assert.equal(listed?.artifactType, 'application/vnd.example.sbom');
      assert.equal(listed?.annotations?.['org.example.kind'], 'application/vnd.example.sbom');
      const filtered = await repo.referrers(image.descriptor.digest, {
        artifactType: 'application/vnd.example.signature',
      });
      assert.deepEqual(
        filtered.descriptors.map((d) => d.digest),
        [sig.digest],
      );
      assert.deepEqual(
        (await repo.referrers(sbom)).descriptors.map((d) => d.digest),
        [nested.digest],
      );
      assert.deepEqual(await repo.referrers(other.descriptor), { descriptors: [], source: 'layout' });
      // artifacts are listed untagged: tags stay the images'
      assert.deepEqual(await repo.listTags?.(), ['app', 'other']);
    });
  });

  describe('when the layout is missing or malformed', () => {
    const cases: Array<[string, Record<string, string>, RegExp]> = [
      ['a directory that does not exist', {}, /the directory does not exist/],
      ['no oci-layout file', { 'index.json': '{"schemaVersion":2,"manifests":[]}' }, /oci-layout is missing/],
      ['an oci-layout without a version', { 'oci-layout': '{}' }, /no imageLayoutVersion/],
      ['an unknown layout version', { 'oci-layout': '{"imageLayoutVersion":"2.0.0"}' }, /vouch reads 1\.x/],
      ['no index.json', { 'oci-layout': '{"imageLayoutVersion":"1.0.0"}' }, /index\.json is missing/],
      [
        'index.json that is not JSON',
        { 'oci-layout': '{"imageLayoutVersion":"1.0.0"}', 'index.json': '{' },
        /not valid JSON/,
      ],
      [
        'index.json without manifests',
        { 'oci-layout': '{"imageLayoutVersion":"1.0.0"}', 'index.json': '{"schemaVersion":2}' },
        /no "manifests" array/,
      ],
      [
        'index.json with a bad descriptor',
        {
          'oci-layout': '{"imageLayoutVersion":"1.0.0"}',
          'index.json': '{"schemaVersion":2,"manifests":[{"mediaType":"x","digest":"sha256:12","size":1}]}',
        },
        /manifests\[0\].*digest/,
      ],
    ];
    for (const [name, files, pattern] of cases) {
      it(`gives LAYOUT_INVALID for ${name}`, async () => {
        const dir = join(root, `bad-${name.replace(/\W+/g, '-')}`);
        if (Object.keys(files).length > 0) {
          await run('mkdir', ['-p', dir]);
          for (const [file, content] of Object.entries(files)) await writeFile(join(dir, file), content);
        }
        await rejects(openLayoutRepository({ kind: 'layout', dir }).resolve('v1'), 'LAYOUT_INVALID', pattern);
      });
    }

    it('gives MANIFEST_INVALID when a listed manifest is not JSON', async () => {
      const dir = join(root, 'bad-manifest');
      const repo = openLayoutRepository({ kind: 'layout', dir });
      const { descriptor } = await pushImage(repo, 'v1', 'x');
      const junk = await repo.pushBlob(new TextEncoder().encode('not json'), MediaType.OciManifest);
      const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8'));
      index.manifests.push({ ...junk, annotations: { [REF_NAME_ANNOTATION]: 'junk' } });
      await writeFile(join(dir, 'index.json'), JSON.stringify(index));
      const fresh = openLayoutRepository({ kind: 'layout', dir });
      await rejects(fresh.fetchManifest('junk'), 'MANIFEST_INVALID', /not valid UTF-8 JSON/);
      await rejects(fresh.referrers(descriptor), 'MANIFEST_INVALID', /not valid UTF-8 JSON/);
    });

    it('refuses to push a manifest whose body names another media type', async () => {
      const repo = openLayoutRepository({ kind: 'layout', dir: join(root, 'mismatch') });
      const bytes = json({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [] });
      await rejects(
        repo.pushManifest(bytes, MediaType.OciManifest, { tag: 'x' }),
        'MANIFEST_INVALID',
        /says mediaType/,
      );
      await rejects(
        repo.pushManifest(json({ schemaVersion: 1 }), MediaType.OciManifest),
        'MANIFEST_UNSUPPORTED',
        /schema 1/,
      );
    });
  });

  describe('when many manifests are pushed at once', () => {
    it('keeps every one in index.json', async () => {
      const repo = openLayoutRepository({ kind: 'layout', dir: join(root, 'concurrent') });
      await Promise.all(Array.from({ length: 20 }, (_, i) => pushImage(repo, `t${i}`, `c${i}`)));
      assert.equal((await repo.listTags?.())?.length, 20);
    });
  });
});
