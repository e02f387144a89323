/**
 * End to end on a real registry (Debian docker-registry on loopback): images pushed, signed with
 * vouch's cosign signer (tag schema, OCI referrer, sigstore bundle), verified by the cosign
 * verifier through the registry client.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Artifact } from '../../../src/engine/types.js';
import { createRegistryClient, type RegistryClient } from '../../../src/registry/client.js';
import { decryptCosignKey, generateCosignKeyPair, signCosign } from '../../../src/sign/cosign/index.js';
import type { CosignConfig } from '../../../src/trust/cosign/config.js';
import { loadCosignTrust } from '../../../src/trust/cosign/load.js';
import { createCosignVerifier } from '../../../src/verifiers/cosign/index.js';
import { startRegistry, type TestRegistry } from '../../helpers/registry.js';
import {
  cosignTagArtifact,
  type PushedImage,
  pushFreshImage,
  verifyArtifact,
} from '../../helpers/verify-artifact.js';

describe('cosign on a real registry', { timeout: 60_000 }, () => {
  let registry: TestRegistry;
  let client: RegistryClient;
  let dir: string;
  const keys: Record<'k1' | 'k2', { pub: string; pkcs8: string }> = {
    k1: { pub: '', pkcs8: '' },
    k2: { pub: '', pkcs8: '' },
  };

  before(async () => {
    registry = await startRegistry();
    client = createRegistryClient({ insecureHosts: [registry.host] });
    dir = await mkdtemp(path.join(tmpdir(), 'vouch-cosign-e2e-'));
    for (const name of ['k1', 'k2'] as const) {
      const pair = generateCosignKeyPair('pw');
      keys[name].pub = path.join(dir, `${name}.pub`);
      keys[name].pkcs8 = decryptCosignKey(pair.privateKeyFile, 'pw');
      await writeFile(keys[name].pub, pair.publicKeyPem);
    }
  });
  after(async () => {
    await client?.close();
    await registry?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const image = (tag: string) => pushFreshImage(client, `${registry.host}/app`, tag);

  async function verify(config: CosignConfig, img: PushedImage, artifact: Artifact) {
    return verifyArtifact(
      createCosignVerifier(await loadCosignTrust(config, { baseDir: dir })),
      img,
      artifact,
    );
  }

  const sigTag = (img: PushedImage) => cosignTagArtifact(img, 'sig');

  describe('when an image is key-signed in the .sig tag', () => {
    it('verifies with the signing key and names the key', async () => {
      const img = await image('signed');
      await signCosign({ ...img, subjectReference: img.name, privateKeyPem: keys.k1.pkcs8, mode: 'tag' });
      const report = await verify({ keys: [keys.k1.pub] }, img, await sigTag(img));
      assert.equal(report.outcome, 'verified', report.message);
      assert.equal(report.reason, 'ok');
      assert.match(JSON.stringify(report.details), /sha256:[0-9a-f]{64}/);
    });

    it('fails with untrusted-signer for another key', async () => {
      const img = await image('wrongkey');
      await signCosign({ ...img, subjectReference: img.name, privateKeyPem: keys.k1.pkcs8, mode: 'tag' });
      const report = await verify({ keys: [keys.k2.pub] }, img, await sigTag(img));
      assert.equal(report.outcome, 'failed');
      assert.equal(report.reason, 'untrusted-signer');
    });

    it('needs both signers for threshold 2, appended to one .sig manifest', async () => {
      const img = await image('twice');
      await signCosign({ ...img, subjectReference: img.name, privateKeyPem: keys.k1.pkcs8, mode: 'tag' });
      const one = await verify({ keys: [keys.k1.pub, keys.k2.pub], threshold: 2 }, img, await sigTag(img));
      assert.equal(one.reason, 'threshold-not-met');
      await signCosign({ ...img, subjectReference: img.name, privateKeyPem: keys.k2.pkcs8, mode: 'tag' });
      const two = await verify({ keys: [keys.k1.pub, keys.k2.pub], threshold: 2 }, img, await sigTag(img));
      assert.equal(two.outcome, 'verified', two.message);
    });

    it('fails with digest-mismatch when the signature names another image', async () => {
      const a = await image('first');
      const b = await image('second');
      await signCosign({ ...a, subjectReference: a.name, privateKeyPem: keys.k1.pkcs8, mode: 'tag' });
      // Copy a's .sig manifest under b's .sig tag: a valid signature over a payload naming a.
      const sig = await a.repository.fetchManifest(`${a.subject.digest.replace(':', '-')}.sig`);
      await b.repository.pushManifest(sig.bytes, sig.descriptor.mediaType, {
        tag: `${b.subject.digest.replace(':', '-')}.sig`,
      });
      const report = await verify({ keys: [keys.k1.pub] }, b, await sigTag(b));
      assert.equal(report.reason, 'digest-mismatch');
    });

    it('fails with untrusted-signer when the payload blob was replaced (tampered)', async () => {
      const img = await image('tampered');
      await signCosign({ ...img, subjectReference: img.name, privateKeyPem: keys.k1.pkcs8, mode: 'tag' });
      const tag = `${img.subject.digest.replace(':', '-')}.sig`;
      const sig = await img.repository.fetchManifest(tag);
      const doc = JSON.parse(Buffer.from(sig.bytes).toString('utf8'));
      const payload = Buffer.from(
        `{"critical":{"identity":{"docker-reference":"${img.name}"},"image":{"docker-manifest-digest":"${img.subject.digest}"},"type":"cosign container image signature"},"optional":{"x":"y"}}`,
      );
      const blob = await img.repository.pushBlob(payload, 'application/vnd.dev.cosign.simplesigning.v1+json');
      doc.layers[0].digest = blob.digest;
      doc.layers[0].size = blob.size;
      await img.repository.pushManifest(Buffer.from(JSON.stringify(doc)), sig.descriptor.mediaType, { tag });
      const report = await verify({ keys: [keys.k1.pub] }, img, await sigTag(img));
      assert.equal(report.outcome, 'failed');
      assert.equal(report.reason, 'untrusted-signer');
    });
  });

  describe('when an image is signed as an OCI referrer', () => {
    it('verifies a simple-signing referrer', async () => {
      const img = await image('referrer');
      const descriptor = await signCosign({
        ...img,
        subjectReference: img.name,
        privateKeyPem: keys.k1.pkcs8,
        mode: 'referrer',
      });
      const report = await verify({ keys: [keys.k1.pub] }, img, {
        descriptor,
        kind: 'referrer',
        source: 'referrers-api',
        referrers: [],
      });
      assert.equal(report.outcome, 'verified', report.message);
    });

    it('verifies a DSSE sigstore bundle referrer and rejects another key', async () => {
      const img = await image('bundle');
      const descriptor = await signCosign({
        ...img,
        subjectReference: img.name,
        privateKeyPem: keys.k1.pkcs8,
        mode: 'bundle',
      });
      const artifact: Artifact = { descriptor, kind: 'referrer', source: 'referrers-api', referrers: [] };
      assert.equal(descriptor.artifactType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
      const ok = await verify({ keys: [keys.k1.pub] }, img, artifact);
      assert.equal(ok.outcome, 'verified', ok.message);
      const bad = await verify({ keys: [keys.k2.pub] }, img, artifact);
      assert.equal(bad.outcome, 'failed');
      assert.equal(bad.reason, 'invalid-signature');
    });

    it('fails a bundle whose statement names another image', async () => {
      const a = await image('bundle-a');
      const b = await image('bundle-b');
      const descriptor = await signCosign({
        ...a,
        subjectReference: a.name,
        privateKeyPem: keys.k1.pkcs8,
        mode: 'bundle',
      });
      const report = await verify({ keys: [keys.k1.pub] }, b, {
        descriptor,
        kind: 'referrer',
        source: 'referrers-api',
        referrers: [],
      });
      assert.equal(report.reason, 'digest-mismatch');
    });
  });
});
