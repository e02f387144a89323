/**
 * Discovery and attach against a real registry: Debian's docker-registry (CNCF distribution 2.8),
 * which has no Referrers API, so referrers live in the referrers tag schema index.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { createDetachedRepository } from '../../src/detached/repository.js';
import { parseReference } from '../../src/reference/parse.js';
import { attachArtifact } from '../../src/referrers/attach.js';
import { cosignTag } from '../../src/referrers/cosign-tags.js';
import { discoverArtifacts, flattenArtifacts } from '../../src/referrers/discover.js';
import { createRegistryClient, type RegistryClient } from '../../src/registry/client.js';
import { referrersTag } from '../../src/registry/referrers-tag.js';
import type { Descriptor, Repository } from '../../src/registry/types.js';
import { artifactTree } from '../helpers/artifact-tree.js';
import { pushTestImage } from '../helpers/images.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

const run = promisify(execFile);
const bytes = (s: string) => new TextEncoder().encode(s);

const shape = artifactTree;

async function attach(repo: Repository, subject: Descriptor, artifactType: string, content: string) {
  return attachArtifact(repo, {
    subject,
    artifactType,
    layers: [
      { bytes: bytes(content), mediaType: 'application/json', annotations: { 'org.example.file': 'x.json' } },
    ],
    annotations: { 'org.example.note': content },
  });
}

describe('referrers on a registry without the Referrers API', { timeout: 90_000 }, () => {
  let registry: TestRegistry;
  let client: RegistryClient;
  let repo: Repository;

  before(async () => {
    registry = await startRegistry();
    client = createRegistryClient({ insecureHosts: [registry.host] });
    repo = client.repository(parseReference(`${registry.host}/vouch/referrers`));
  });
  after(async () => {
    await client?.close();
    await registry?.stop();
  });

  describe('when artifacts are attached', () => {
    it('keeps them in the tag-schema index, once each, readable by skopeo', async () => {
      const subject = await pushTestImage(repo, 'attach', 'attach-subject');
      const one = await attach(repo, subject, 'application/vnd.example.one', '{"a":1}');
      const two = await attach(repo, subject, 'application/vnd.example.two', '{"b":2}');
      const again = await attach(repo, subject, 'application/vnd.example.one', '{"a":1}');
      assert.equal(again.digest, one.digest);

      const tag = referrersTag(subject.digest);
      assert.equal(tag, subject.digest.replace(':', '-'));
      const { stdout } = await run(
        'skopeo',
        ['inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/vouch/referrers:${tag}`],
        { timeout: 30_000 },
      );
      const index = JSON.parse(stdout);
      assert.equal(index.mediaType, 'application/vnd.oci.image.index.v1+json');
      assert.deepEqual(
        index.manifests.map((m: Descriptor) => [
          m.digest,
          m.artifactType,
          m.annotations?.['org.example.note'],
        ]),
        [
          [one.digest, 'application/vnd.example.one', '{"a":1}'],
          [two.digest, 'application/vnd.example.two', '{"b":2}'],
        ],
      );

      const { manifest } = await repo.fetchManifest(one);
      assert.equal(manifest.kind, 'manifest');
      assert.equal(manifest.artifactType, 'application/vnd.example.one');
      assert.equal(manifest.subject?.digest, subject.digest);
      assert.equal(
        manifest.kind === 'manifest' && manifest.config.mediaType,
        'application/vnd.oci.empty.v1+json',
      );
    });

    it('loses none of many concurrent attaches to one subject', async () => {
      const subject = await pushTestImage(repo, 'concurrent', 'concurrent-subject');
      const attached = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          attach(repo, subject, 'application/vnd.example.many', `{"i":${i}}`),
        ),
      );
      const listed = await repo.referrers(subject);
      assert.deepEqual(listed.descriptors.map((d) => d.digest).sort(), attached.map((d) => d.digest).sort());
    });

    it('uses an empty layer when the artifact has none and keeps a given config', async () => {
      const subject = await pushTestImage(repo, 'nolayers', 'nolayers-subject');
      const config = { bytes: bytes('{"kind":"config"}'), mediaType: 'application/vnd.example.config+json' };
      const artifact = await attachArtifact(repo, {
        subject,
        artifactType: 'application/vnd.example.bare',
        layers: [],
        config,
      });
      const { manifest } = await repo.fetchManifest(artifact);
      assert.ok(manifest.kind === 'manifest');
      assert.equal(manifest.config.mediaType, 'application/vnd.example.config+json');
      assert.deepEqual(
        manifest.layers.map((l) => [l.mediaType, l.size]),
        [['application/vnd.oci.empty.v1+json', 2]],
      );
    });
  });

  describe('when artifacts are discovered', () => {
    let subject: Descriptor;
    let one: Descriptor;
    let two: Descriptor;
    let nested: Descriptor;
    let cosignSig: Descriptor;
    let cosignAtt: Descriptor;

    before(async () => {
      subject = await pushTestImage(repo, 'discover', 'discover-subject');
      one = await attach(repo, subject, 'application/vnd.example.one', '{"one":1}');
      two = await attach(repo, subject, 'application/vnd.example.two', '{"two":2}');
      nested = await attach(repo, one, 'application/vnd.example.nested', '{"nested":1}');
      cosignSig = await pushTestImage(repo, cosignTag(subject.digest, 'sig'), 'discover-cosign-sig');
      cosignAtt = await pushTestImage(repo, cosignTag(subject.digest, 'att'), 'discover-cosign-att');
    });

    it('finds tag-schema referrers, nested ones and cosign tags', async () => {
      const tree = await discoverArtifacts(repo, subject);
      assert.deepEqual(shape(tree), [
        {
          kind: 'referrer',
          type: 'application/vnd.example.one',
          digest: one.digest,
          referrers: [
            {
              kind: 'referrer',
              type: 'application/vnd.example.nested',
              digest: nested.digest,
              referrers: [],
            },
          ],
        },
        { kind: 'referrer', type: 'application/vnd.example.two', digest: two.digest, referrers: [] },
        { kind: 'cosign-signature', type: null, digest: cosignSig.digest, referrers: [] },
        { kind: 'cosign-attestation', type: null, digest: cosignAtt.digest, referrers: [] },
      ]);
      assert.equal(tree[0]?.descriptor.annotations?.['org.example.note'], '{"one":1}');
      // distribution 2.8 has no Referrers API: every referrer, nested ones too, is labelled as
      // found through the tag schema (the listing says so; nothing guesses from the store's class)
      assert.deepEqual(
        flattenArtifacts(tree).map((a) => [a.kind, a.source]),
        [
          ['referrer', 'referrers-tag'],
          ['referrer', 'referrers-tag'],
          ['referrer', 'referrers-tag'],
          ['cosign-signature', 'cosign-tag'],
          ['cosign-attestation', 'cosign-tag'],
        ],
      );
    });

    it("labels detached signature files detached and the registry's own referrers by their listing", async () => {
      const signature = {
        path: 'sig.json',
        files: ['sig.json'],
        signature: {
          format: 'notation' as const,
          artifactType: 'application/vnd.cncf.notary.signature',
          layers: [{ mediaType: 'application/jose+json', bytes: bytes('{"detached":1}') }],
        },
        subject: { digest: subject.digest },
      };
      const overlay = (alsoRegistry: boolean) =>
        createDetachedRepository({
          base: repo,
          signatures: [signature],
          subjectDigest: subject.digest,
          alsoRegistry,
        });
      const local = await discoverArtifacts(overlay(false), subject, { cosignTags: false, depth: 1 });
      assert.deepEqual(
        local.map((a) => a.source),
        ['detached'],
      );
      const both = await discoverArtifacts(overlay(true), subject, { cosignTags: false, depth: 1 });
      assert.deepEqual(
        both.map((a) => [a.descriptor.artifactType, a.source]),
        [
          ['application/vnd.cncf.notary.signature', 'detached'],
          ['application/vnd.example.one', 'referrers-tag'],
          ['application/vnd.example.two', 'referrers-tag'],
        ],
      );
    });

    it('filters by artifactType and stops at depth', async () => {
      const filtered = await discoverArtifacts(repo, subject, {
        artifactType: 'application/vnd.example.one',
      });
      assert.deepEqual(
        filtered.map((a) => [a.descriptor.digest, a.referrers.length]),
        [[one.digest, 1]],
      );
      const shallow = await discoverArtifacts(repo, subject, { depth: 1, cosignTags: false });
      assert.deepEqual(
        shallow.map((a) => [a.descriptor.digest, a.referrers.length]),
        [
          [one.digest, 0],
          [two.digest, 0],
        ],
      );
    });

    it('returns [] for an image with nothing attached', async () => {
      const bare = await pushTestImage(repo, 'bare', 'bare-subject');
      assert.deepEqual(await discoverArtifacts(repo, bare), []);
    });

    it('fails, rather than answering "nothing attached", when the registry is gone', async () => {
      const gone = await startRegistry();
      const goneClient = createRegistryClient({ insecureHosts: [gone.host], maxRetries: 0 });
      const goneRepo = goneClient.repository(parseReference(`${gone.host}/vouch/gone`));
      const target = await pushTestImage(goneRepo, 'v1', 'gone-subject');
      await gone.stop();
      try {
        await assert.rejects(discoverArtifacts(goneRepo, target), (err: unknown) => {
          assert.equal((err as { code?: string }).code, 'REGISTRY_UNREACHABLE');
          return true;
        });
      } finally {
        await goneClient.close();
      }
    });
  });
});
