/**
 * Keyless cosign end to end: `@sigstore/mock` Fulcio, Rekor and TSA served on loopback
 * (test/helpers/sigstore-mock.ts), a trusted_root.json built from their keys, images on a real
 * registry (Debian docker-registry), signed by vouch's keyless signer and verified by the cosign
 * verifier through the registry client.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { Artifact, Report } from '../../../src/engine/types.js';
import { createRegistryClient, type RegistryClient } from '../../../src/registry/client.js';
import type { Descriptor } from '../../../src/registry/types.js';
import { signCosignKeyless } from '../../../src/sign/cosign/keyless.js';
import type { CosignConfig, CosignIdentityConfig } from '../../../src/trust/cosign/config.js';
import { loadCosignTrust } from '../../../src/trust/cosign/load.js';
import { createCosignVerifier } from '../../../src/verifiers/cosign/index.js';
import { startRegistry, type TestRegistry } from '../../helpers/registry.js';
import { identityToken, type SigstoreMock, startSigstoreMock } from '../../helpers/sigstore-mock.js';
import {
  cosignTagArtifact,
  type PushedImage as Image,
  pushFreshImage,
  verifyArtifact,
} from '../../helpers/verify-artifact.js';

const ISSUER = 'https://token.actions.githubusercontent.com';
const SUBJECT = 'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main';
const IDENTITY: CosignIdentityConfig = { subject: SUBJECT, issuer: ISSUER };

describe('keyless cosign through mock Fulcio and Rekor on a real registry', { timeout: 90_000 }, () => {
  let registry: TestRegistry;
  let sigstore: SigstoreMock;
  let client: RegistryClient;
  let dir: string;
  const token = identityToken({ sub: SUBJECT, iss: ISSUER });

  before(async () => {
    [registry, sigstore] = await Promise.all([startRegistry(), startSigstoreMock()]);
    client = createRegistryClient({ insecureHosts: [registry.host] });
    dir = await mkdtemp(path.join(tmpdir(), 'vouch-keyless-e2e-'));
    await writeFile(path.join(dir, 'trusted_root.json'), sigstore.trustedRootJson());
  });
  after(async () => {
    await client?.close();
    await Promise.all([registry?.stop(), sigstore?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const image = (tag: string) => pushFreshImage(client, `${registry.host}/keyless`, tag);

  function sign(img: Image, mode: 'tag' | 'referrer' | 'bundle', extra: { tsa?: boolean } = {}) {
    return signCosignKeyless({
      repository: img.repository,
      subject: img.subject,
      subjectReference: img.name,
      identityToken: token,
      fulcioUrl: sigstore.fulcioUrl,
      rekorUrl: sigstore.rekorUrl,
      ...(extra.tsa ? { tsaUrl: sigstore.tsaUrl } : {}),
      mode,
    });
  }

  async function verify(img: Image, artifact: Artifact, config: Partial<CosignConfig> = {}): Promise<Report> {
    const trust = await loadCosignTrust(
      { trustedRoot: 'trusted_root.json', identities: [IDENTITY], ...config },
      { baseDir: dir },
    );
    return verifyArtifact(createCosignVerifier(trust), img, artifact);
  }

  const sigTag = (img: Image) => cosignTagArtifact(img, 'sig');

  const referrer = (descriptor: Descriptor): Artifact => ({
    descriptor,
    kind: 'referrer',
    source: 'referrers-api',
    referrers: [],
  });

  describe('a legacy .sig signature', () => {
    it('verifies the identity, chain, SCT and Rekor SET, and names the identity and log entry', async () => {
      const img = await image('valid');
      const signed = await sign(img, 'tag');
      assert.equal(signed.certificateChain.length, 2, 'leaf and Fulcio root');
      const report = await verify(img, await sigTag(img));
      assert.equal(report.outcome, 'verified', report.message);
      const signer = (report.details.signers as Array<Record<string, unknown>>)[0] ?? {};
      assert.deepEqual((signer.identity as { subjects: string[] }).subjects, [SUBJECT]);
      assert.equal((signer.identity as { issuer: string }).issuer, ISSUER);
      assert.equal((signer.tlog as { logIndex: number }).logIndex, signed.logIndex);
      assert.deepEqual(sigstore.requests.slice(-2), ['/api/v2/signingCert', '/api/v1/log/entries']);
    });

    it('writes the certificate, chain and SET annotations cosign writes', async () => {
      const img = await image('annotations');
      await sign(img, 'tag');
      const sig = await img.repository.fetchManifest(`${img.subject.digest.replace(':', '-')}.sig`);
      assert.equal(sig.manifest.kind, 'manifest');
      const annotations = sig.manifest.kind === 'manifest' ? (sig.manifest.layers[0]?.annotations ?? {}) : {};
      assert.match(annotations['dev.sigstore.cosign/certificate'] ?? '', /^-----BEGIN CERTIFICATE-----\n/);
      assert.match(annotations['dev.sigstore.cosign/chain'] ?? '', /^-----BEGIN CERTIFICATE-----\n/);
      const set = JSON.parse(annotations['dev.sigstore.cosign/bundle'] ?? '{}');
      assert.deepEqual(Object.keys(set), ['SignedEntryTimestamp', 'Payload']);
      assert.deepEqual(Object.keys(set.Payload), ['body', 'integratedTime', 'logIndex', 'logID']);
      const body = JSON.parse(Buffer.from(set.Payload.body, 'base64').toString('utf8'));
      assert.equal(body.kind, 'hashedrekord');
    });

    it('fails with identity-mismatch for another subject', async () => {
      const img = await image('wrong-subject');
      await sign(img, 'tag');
      const report = await verify(img, await sigTag(img), {
        identities: [
          {
            subject: 'https://github.com/evil/app/.github/workflows/release.yml@refs/heads/main',
            issuer: ISSUER,
          },
        ],
      });
      assert.equal(report.outcome, 'failed');
      assert.equal(report.reason, 'identity-mismatch');
      assert.match(report.message, /subject/);
    });

    it('fails with identity-mismatch for another issuer, even when the subject matches by regexp', async () => {
      const img = await image('wrong-issuer');
      await sign(img, 'tag');
      const report = await verify(img, await sigTag(img), {
        identities: [
          { subjectRegExp: 'https://github\\.com/acme/.*', issuer: 'https://accounts.google.com' },
        ],
      });
      assert.equal(report.outcome, 'failed');
      assert.equal(report.reason, 'identity-mismatch');
      assert.match(report.message, /issuer/);
    });

    it('fails with tlog-missing when the Rekor SET annotation is stripped', async () => {
      const img = await image('no-set');
      await sign(img, 'tag');
      const tag = `${img.subject.digest.replace(':', '-')}.sig`;
      const sig = await img.repository.fetchManifest(tag);
      const doc = JSON.parse(Buffer.from(sig.bytes).toString('utf8'));
      delete doc.layers[0].annotations['dev.sigstore.cosign/bundle'];
      await img.repository.pushManifest(Buffer.from(JSON.stringify(doc)), sig.descriptor.mediaType, { tag });
      const report = await verify(img, await sigTag(img));
      assert.equal(report.outcome, 'failed');
      assert.equal(report.reason, 'tlog-missing');
    });

    it('fails with expired when Rekor logged the signature after the certificate expired', async () => {
      const img = await image('expired');
      // Fulcio issues a 10-minute certificate one hour ago; Rekor integrates the entry now.
      sigstore.setFulcioClockOffset(-60 * 60 * 1000);
      try {
        await sign(img, 'tag');
      } finally {
        sigstore.setFulcioClockOffset(0);
      }
      const report = await verify(img, await sigTag(img));
      assert.equal(report.outcome, 'failed');
      assert.equal(report.reason, 'expired');
      const at = new Date(String(report.details.at));
      assert.ok(at > new Date(String(report.details.notAfter)), 'the log time is after the certificate');
    });

    it('fails with tlog-invalid when the SET is from another image signature', async () => {
      const a = await image('set-a');
      const b = await image('set-b');
      await sign(a, 'tag');
      await sign(b, 'tag');
      const tagA = `${a.subject.digest.replace(':', '-')}.sig`;
      const tagB = `${b.subject.digest.replace(':', '-')}.sig`;
      const sigA = JSON.parse(Buffer.from((await a.repository.fetchManifest(tagA)).bytes).toString('utf8'));
      const fetchedB = await b.repository.fetchManifest(tagB);
      const sigB = JSON.parse(Buffer.from(fetchedB.bytes).toString('utf8'));
      sigB.layers[0].annotations['dev.sigstore.cosign/bundle'] =
        sigA.layers[0].annotations['dev.sigstore.cosign/bundle'];
      await b.repository.pushManifest(Buffer.from(JSON.stringify(sigB)), fetchedB.descriptor.mediaType, {
        tag: tagB,
      });
      const report = await verify(b, await sigTag(b));
      assert.equal(report.reason, 'tlog-invalid');
    });

    it('verifies a keyless simple-signing OCI referrer', async () => {
      const img = await image('referrer');
      const { descriptor } = await sign(img, 'referrer');
      const report = await verify(img, referrer(descriptor));
      assert.equal(report.outcome, 'verified', report.message);
    });
  });

  describe('vouch sign --format cosign --keyless', () => {
    it('signs through the CLI with a token file; the .sig verifies for that identity', async () => {
      const img = await image('cli');
      const tokenFile = path.join(dir, 'token');
      await writeFile(tokenFile, `${token}\n`);
      const root = path.resolve(import.meta.dirname, '../../..');
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [
          '--import',
          'tsx',
          path.join(root, 'src/cli/main.ts'),
          'sign',
          `${img.name}@${img.subject.digest}`,
          '--format',
          'cosign',
          '--keyless',
          '--fulcio-url',
          sigstore.fulcioUrl,
          '--rekor-url',
          sigstore.rekorUrl,
          '--identity-token-file',
          tokenFile,
          '--insecure-registry',
          registry.host,
        ],
        { cwd: root, timeout: 60_000 },
      );
      assert.match(stdout, new RegExp(`signed ${img.name}@${img.subject.digest}`));
      const report = await verify(img, await sigTag(img));
      assert.equal(report.outcome, 'verified', report.message);
    });
  });

  describe('a sigstore bundle referrer', () => {
    it('verifies a keyless DSSE bundle (certificate, SCT, Rekor entry) and names the identity', async () => {
      const img = await image('bundle');
      const { descriptor } = await sign(img, 'bundle');
      assert.equal(descriptor.artifactType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
      const report = await verify(img, referrer(descriptor));
      assert.equal(report.outcome, 'verified', report.message);
      assert.deepEqual((report.details.identity as { subjects: string[] }).subjects, [SUBJECT]);
    });

    it('verifies a keyless bundle with an RFC 3161 timestamp from the TSA', async () => {
      const img = await image('bundle-tsa');
      const before = sigstore.requests.length;
      const { descriptor } = await sign(img, 'bundle', { tsa: true });
      assert.ok(sigstore.requests.slice(before).includes('/api/v1/timestamp'));
      const report = await verify(img, referrer(descriptor));
      assert.equal(report.outcome, 'verified', report.message);
    });

    it('fails a keyless bundle for another identity', async () => {
      const img = await image('bundle-wrong');
      const { descriptor } = await sign(img, 'bundle');
      const report = await verify(img, referrer(descriptor), {
        identities: [{ subject: SUBJECT, issuer: 'https://accounts.google.com' }],
      });
      assert.equal(report.outcome, 'failed');
      assert.equal(report.reason, 'identity-mismatch');
    });

    it('fails a keyless bundle whose certificate expired before Rekor logged it', async () => {
      const img = await image('bundle-expired');
      sigstore.setFulcioClockOffset(-60 * 60 * 1000);
      let descriptor: Descriptor;
      try {
        ({ descriptor } = await sign(img, 'bundle'));
      } finally {
        sigstore.setFulcioClockOffset(0);
      }
      const report = await verify(img, referrer(descriptor));
      assert.equal(report.outcome, 'failed');
      assert.equal(report.reason, 'expired', report.message);
    });
  });
});
