import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isVouchError } from '../../src/errors.js';
import { attachArtifact } from '../../src/referrers/attach.js';
import { cosignTag } from '../../src/referrers/cosign-tags.js';
import { discoverArtifacts, flattenArtifacts } from '../../src/referrers/discover.js';
import { openLayoutRepository } from '../../src/registry/layout/index.js';
import { type Descriptor, MediaType, type Repository } from '../../src/registry/types.js';
import { artifactTree } from '../helpers/artifact-tree.js';
import { buildTestImage, pushImage } from '../helpers/images.js';

const bytes = (s: string) => new TextEncoder().encode(s);

const shape = artifactTree;

/** Pushes an image manifest tagged `tag` (a cosign-style signature stand-in) and returns it. */
async function pushTagged(repo: Repository, tag: string, seed: string): Promise<Descriptor> {
  const image = buildTestImage(seed);
  await pushImage(repo, image, tag);
  return image.manifest;
}

describe('discoverArtifacts over an OCI layout', () => {
  let root: string;
  let repo: Repository;
  let subject: Descriptor;
  let sbom: Descriptor;
  let signature: Descriptor;
  let sbomSignature: Descriptor;
  let cosignSig: Descriptor;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'vouch-discover-'));
    repo = openLayoutRepository({ kind: 'layout', dir: join(root, 'layout') });
    const image = buildTestImage('subject');
    await pushImage(repo, image, 'app');
    subject = image.manifest;
    sbom = await attachArtifact(repo, {
      subject,
      artifactType: 'application/spdx+json',
      layers: [{ bytes: bytes('{"spdxVersion":"SPDX-2.3"}'), mediaType: 'application/spdx+json' }],
      annotations: { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z' },
    });
    signature = await attachArtifact(repo, {
      subject,
      artifactType: 'application/vnd.example.signature',
      layers: [],
    });
    sbomSignature = await attachArtifact(repo, {
      subject: sbom,
      artifactType: 'application/vnd.example.signature',
      layers: [{ bytes: bytes('sig of sbom'), mediaType: 'application/octet-stream' }],
    });
    cosignSig = await pushTagged(repo, cosignTag(subject.digest, 'sig'), 'cosign-sig');
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('finds referrers, nested referrers and cosign tags, each with kind and source', async () => {
    const tree = await discoverArtifacts(repo, subject);
    assert.deepEqual(shape(tree), [
      {
        kind: 'referrer',
        type: 'application/spdx+json',
        digest: sbom.digest,
        referrers: [
          {
            kind: 'referrer',
            type: 'application/vnd.example.signature',
            digest: sbomSignature.digest,
            referrers: [],
          },
        ],
      },
      {
        kind: 'referrer',
        type: 'application/vnd.example.signature',
        digest: signature.digest,
        referrers: [],
      },
      { kind: 'cosign-signature', type: null, digest: cosignSig.digest, referrers: [] },
    ]);
    assert.deepEqual(
      flattenArtifacts(tree).map((a) => a.source),
      ['layout', 'layout', 'layout', 'cosign-tag'],
    );
    assert.equal(
      tree[0]?.descriptor.annotations?.['org.opencontainers.image.created'],
      '2024-01-01T00:00:00Z',
    );
  });

  it('stops at the requested depth', async () => {
    const tree = await discoverArtifacts(repo, subject, { depth: 1 });
    assert.equal(tree.length, 3);
    assert.ok(tree.every((a) => a.referrers.length === 0));
    assert.deepEqual(await discoverArtifacts(repo, subject, { depth: 0 }), []);
  });

  it('filters the first level by artifactType and leaves cosign tags out then', async () => {
    const tree = await discoverArtifacts(repo, subject, { artifactType: 'application/spdx+json' });
    assert.deepEqual(
      tree.map((a) => a.descriptor.digest),
      [sbom.digest],
    );
    assert.equal(tree[0]?.referrers.length, 1, 'nested artifacts are not filtered');
  });

  it('skips the cosign tag probes when cosignTags is false', async () => {
    const tree = await discoverArtifacts(repo, subject, { cosignTags: false });
    assert.ok(flattenArtifacts(tree).every((a) => a.kind === 'referrer'));
    assert.equal(flattenArtifacts(tree).length, 3);
  });

  it('refuses more artifacts than maxArtifacts', async () => {
    await assert.rejects(discoverArtifacts(repo, subject, { maxArtifacts: 2 }), (err: unknown) => {
      assert.ok(isVouchError(err, 'CONTENT_TOO_LARGE'));
      assert.match(err.message, /more than 2 attached artifacts/);
      return true;
    });
  });

  it('ends on a cycle of cosign tags and lists each artifact once', async () => {
    const cyclic = openLayoutRepository({ kind: 'layout', dir: join(root, 'cyclic') });
    const a = await pushTagged(cyclic, 'a', 'cycle-a');
    const b = await pushTagged(cyclic, cosignTag(a.digest, 'sig'), 'cycle-b');
    // b's signature tag points back at a, and a second tag of a's points at b again
    await cyclic.pushManifest(buildTestImage('cycle-a').manifestBytes, MediaType.OciManifest, {
      tag: cosignTag(b.digest, 'sig'),
    });
    await cyclic.pushManifest(buildTestImage('cycle-b').manifestBytes, MediaType.OciManifest, {
      tag: cosignTag(a.digest, 'att'),
    });
    const tree = await discoverArtifacts(cyclic, a, { depth: 10 });
    assert.deepEqual(shape(tree), [
      { kind: 'cosign-signature', type: null, digest: b.digest, referrers: [] },
    ]);
  });

  it('stops when the signal aborts', async () => {
    await assert.rejects(discoverArtifacts(repo, subject, { signal: AbortSignal.abort() }), {
      name: 'AbortError',
    });
  });
});
