/**
 * End to end against real AT Protocol servers (PLC directory + PDS on loopback) and a real
 * registry: images signed with vouch's ATCR signer, verified with the atproto verifier.
 * Needs test/services/atproto/install.sh (scripts/test.sh runs it).
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createMemoryCache } from '../../../src/cache/memory.js';
import { verifyArtifact } from '../../../src/engine/run.js';
import { compilePolicy } from '../../../src/policy/policy.js';
import { policySchema } from '../../../src/policy/types.js';
import { attachArtifact } from '../../../src/referrers/attach.js';
import { loadAtprotoTrust } from '../../../src/trust/atproto/load.js';
import {
  ATPROTO_SIGNATURE_ARTIFACT_TYPE,
  createAtprotoVerifier,
} from '../../../src/verifiers/atproto/index.js';
import { didKeyFromPrivateKey } from '../../../src/verifiers/atproto/repo/keys.js';
import { startAtprotoNet } from '../../helpers/atproto-net.js';
import { startRegistry } from '../../helpers/registry.js';
import {
  countingFetch,
  type E2E,
  type PushedImage,
  pushImage,
  sign,
  signatureArtifacts,
  startE2E,
  trustPolicy,
  verifyImage,
} from './support/e2e-env.js';

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

describe('atproto end to end (real PLC + PDS + registry)', { timeout: 90_000 }, () => {
  let env: E2E;
  let a1: PushedImage;
  let a2: PushedImage;
  const aliceOnly = () => ({ trustPolicy: trustPolicy({ [env.accounts.alice!.did]: {} }) });

  before(async () => {
    env = await startE2E(startRegistry, startAtprotoNet);
    a1 = await pushImage(env, 'a1');
    a2 = await pushImage(env, 'a2');
    await sign(env, a1, env.accounts.alice!);
    await sign(env, a2, env.accounts.alice!, env.accounts.alice!.did);
  });
  after(async () => {
    await env?.client.close();
    await Promise.allSettled([env?.net.stop(), env?.registry.stop()]);
  });

  it('verifies an image signed by a trusted K-256 account, with the verified handle and both commit CIDs', async () => {
    const [report] = await verifyImage(env, a1, aliceOnly());
    assert.equal(report?.outcome, 'verified', report?.message);
    assert.equal(report.reason, 'ok');
    assert.equal(report.details.did, env.accounts.alice!.did);
    assert.equal(report.details.handle, 'alice.test');
    assert.equal(report.details.handleVerified, true);
    assert.equal(report.details.pds, env.net.pdsUrl);
    assert.match(String(report.details.recordUri), /^at:\/\/did:plc:[a-z2-7]{24}\/io\.atcr\.manifest\//);
    // a2 was signed after a1, so the head that proves a1's record is newer than a1's write commit
    assert.equal(typeof report.details.artifactCommitCid, 'string');
    assert.notEqual(report.details.artifactCommitCid, report.details.commitCid);
  });

  it('shows no handle as identity when the handle does not resolve back to the DID', async () => {
    const image = await pushImage(env, 'nohandle');
    await sign(env, image, env.accounts.alice!);
    const trust = aliceOnly();
    const reports = await verifyImage(env, image, trust, {});
    assert.equal(reports[0]?.details.handle, 'alice.test');
    // same image, but the DNS answer names another DID: verified signature, unverified handle
    const { loadAtprotoTrust } = await import('../../../src/trust/atproto/load.js');
    const { createAtprotoVerifier } = await import('../../../src/verifiers/atproto/index.js');
    const { silentLogger } = await import('../../../src/observability/logger.js');
    const verifier = createAtprotoVerifier(
      await loadAtprotoTrust(
        { ...trust, plcUrl: env.net.plcUrl, allowPrivateNetwork: true },
        { baseDir: '.' },
      ),
      { resolveTxt: async () => [['did=did:plc:aaaaaaaaaaaaaaaaaaaaaaaa']] },
    );
    const [artifact] = await signatureArtifacts(image);
    const report = await verifyArtifact(verifier, image.subject, artifact!, {
      repository: image.repo,
      signal: AbortSignal.timeout(20_000),
      cache: createMemoryCache(),
      now: new Date(),
      logger: silentLogger,
    });
    assert.equal(report.outcome, 'verified');
    assert.equal(report.details.handle, undefined);
    assert.equal(report.details.handleClaimed, 'alice.test');
    assert.equal(report.details.handleVerified, false);
  });

  it('denies an untrusted DID without asking the network', async () => {
    const image = await pushImage(env, 'm');
    await sign(env, image, env.accounts.mallory!);
    const counts: Record<string, number> = {};
    const [report] = await verifyImage(env, image, aliceOnly(), { fetch: countingFetch(env, counts) });
    assert.equal(report?.outcome, 'failed');
    assert.equal(report.reason, 'untrusted-signer');
    assert.deepEqual(counts, {});
  });

  it('denies a trusted DID outside validFrom/expiresAt, and allows it with a warning in audit mode', async () => {
    const did = env.accounts.alice!.did;
    const expired = trustPolicy({
      [did]: { validFrom: '2024-01-01T00:00:00Z', expiresAt: '2025-01-01T00:00:00Z' },
    });
    const [denied] = await verifyImage(env, a1, { trustPolicy: expired });
    assert.equal(denied?.outcome, 'failed');
    assert.equal(denied.reason, 'untrusted-signer');
    assert.match(denied.message, /expired/);
    const future = trustPolicy({ [did]: { validFrom: '2999-01-01T00:00:00Z' } });
    assert.equal((await verifyImage(env, a1, { trustPolicy: future }))[0]?.reason, 'untrusted-signer');
    const audit = trustPolicy({ [did]: { expiresAt: '2025-01-01T00:00:00Z' } }, 'audit');
    const [audited] = await verifyImage(env, a1, { trustPolicy: audit });
    // the verifier reports the truth; the audit action reaches vouch's policy through scopePolicy
    assert.equal(audited?.outcome, 'failed');
    assert.equal(audited.reason, 'untrusted-signer');
    assert.equal(audited.details.action, 'audit');
    const verifier = createAtprotoVerifier(await loadAtprotoTrust({ trustPolicy: audit }, { baseDir: '.' }));
    const scope = verifier.scopePolicy?.(a1.subject.name);
    assert.equal(scope?.mode, 'audit');
    const policy = compilePolicy(
      policySchema.parse({ rules: [{ name: 'r', scope: '*', require: [{ verifier: 'atproto' }] }] }),
    );
    const verdict = policy.decide(policy.select(a1.subject.name), [audited], new Map([['atproto', scope!]]));
    assert.equal(verdict.allowed, true, 'audit allows');
    assert.equal(verdict.wouldDeny, true, 'and says enforce would deny');
  });

  it('ignores the PDS endpoint an artifact names: the DID document wins', async () => {
    const [artifact] = await signatureArtifacts(a1);
    const manifest = await a1.repo.fetchManifest(artifact!.descriptor);
    assert.equal(manifest.manifest.kind, 'manifest');
    const layer = manifest.manifest.kind === 'manifest' ? manifest.manifest.layers[0]! : undefined;
    const json = JSON.parse(Buffer.from(await a1.repo.fetchBlob(layer!, { maxBytes: 65536 })).toString());
    json.atproto.pdsEndpoint = 'https://pds.attacker.invalid';
    const forged = await attachArtifact(a1.repo, {
      subject: a1.subject.descriptor,
      artifactType: ATPROTO_SIGNATURE_ARTIFACT_TYPE,
      layers: [{ bytes: Buffer.from(JSON.stringify(json)), mediaType: 'application/json' }],
    });
    const [report] = await verifyImage(env, a1, aliceOnly(), {
      artifacts: [{ descriptor: forged, kind: 'referrer', source: 'referrers-api', referrers: [] }],
    });
    assert.equal(report?.outcome, 'verified', report?.message);
    assert.equal(report.details.pds, env.net.pdsUrl);
    assert.equal(report.details.pdsHintIgnored, 'https://pds.attacker.invalid');
  });

  it('fails a forged artifact that points at the trusted account record of another image', async () => {
    const victim = await pushImage(env, 'forged');
    const [artifact] = await signatureArtifacts(a1);
    const m = await a1.repo.fetchManifest(artifact!.descriptor);
    const layer = m.manifest.kind === 'manifest' ? m.manifest.layers[0]! : undefined;
    const json = JSON.parse(Buffer.from(await a1.repo.fetchBlob(layer!, { maxBytes: 65536 })).toString());
    json.subject.digest = victim.subject.descriptor.digest;
    await attachArtifact(victim.repo, {
      subject: victim.subject.descriptor,
      artifactType: ATPROTO_SIGNATURE_ARTIFACT_TYPE,
      layers: [{ bytes: Buffer.from(JSON.stringify(json)), mediaType: 'application/json' }],
    });
    const [report] = await verifyImage(env, victim, aliceOnly());
    assert.equal(report?.outcome, 'failed');
    assert.equal(report.reason, 'digest-mismatch');
  });

  it('fails when the record is rewritten to another digest, and when it is deleted', async () => {
    const image = await pushImage(env, 'mutable');
    await sign(env, image, env.accounts.alice!);
    const [artifact] = await signatureArtifacts(image);
    const m = await image.repo.fetchManifest(artifact!.descriptor);
    const layer = m.manifest.kind === 'manifest' ? m.manifest.layers[0]! : undefined;
    const claim = JSON.parse(Buffer.from(await image.repo.fetchBlob(layer!, { maxBytes: 65536 })).toString());
    const rkey = String(claim.atproto.recordUri).split('/').pop()!;
    const alice = env.accounts.alice!;
    const session = await env.net.xrpc('com.atproto.server.createSession', {
      identifier: alice.did,
      password: alice.password,
    });
    const token = String(session.accessJwt);
    await env.net.xrpc(
      'com.atproto.repo.putRecord',
      {
        repo: alice.did,
        collection: 'io.atcr.manifest',
        rkey,
        validate: false,
        record: {
          $type: 'io.atcr.manifest',
          repository: 'app',
          digest: `sha256:${'0'.repeat(64)}`,
          mediaType: 'x',
          schemaVersion: 2,
          createdAt: new Date().toISOString(),
        },
      },
      token,
    );
    const [rewritten] = await verifyImage(env, image, aliceOnly());
    assert.equal(rewritten?.reason, 'digest-mismatch');
    await env.net.xrpc(
      'com.atproto.repo.deleteRecord',
      { repo: alice.did, collection: 'io.atcr.manifest', rkey },
      token,
    );
    const [deleted] = await verifyImage(env, image, aliceOnly());
    assert.equal(deleted?.outcome, 'failed');
    assert.equal(deleted.reason, 'record-not-found');
  });

  it('after the account key is rotated away from the key the PDS signs with, the proof no longer verifies', async () => {
    const rotor = env.accounts.rotor!;
    const image = await pushImage(env, 'rotor');
    await sign(env, image, rotor);
    const trust = { trustPolicy: trustPolicy({ [rotor.did]: {} }) };
    assert.equal((await verifyImage(env, image, trust))[0]?.outcome, 'verified');
    const newKey = didKeyFromPrivateKey('k256', Buffer.alloc(32, 7));
    await env.net.updatePlc(rotor.did, (op) => ({ ...op, verificationMethods: { atproto: newKey } }));
    const [report] = await verifyImage(env, image, trust);
    assert.equal(report?.outcome, 'failed');
    assert.equal(report.reason, 'invalid-signature');
  });

  it('is inconclusive when the PLC directory or the PDS is unreachable', async () => {
    const port = await closedPort();
    const [plcDown] = await verifyImage(env, a1, { ...aliceOnly(), plcUrl: `http://127.0.0.1:${port}` });
    assert.equal(plcDown?.outcome, 'inconclusive');
    assert.equal(plcDown.reason, 'unreachable');
    const mover = env.accounts.mover!;
    const image = await pushImage(env, 'mover');
    await sign(env, image, mover);
    await env.net.updatePlc(mover.did, (op) => ({
      ...op,
      services: { atproto_pds: { type: 'AtprotoPersonalDataServer', endpoint: `http://127.0.0.1:${port}` } },
    }));
    const [pdsDown] = await verifyImage(env, image, { trustPolicy: trustPolicy({ [mover.did]: {} }) });
    assert.equal(pdsDown?.outcome, 'inconclusive');
    assert.equal(pdsDown.reason, 'pds-unreachable');
  });

  it('refuses a loopback PDS endpoint unless allowPrivateNetwork is set', async () => {
    const [report] = await verifyImage(env, a1, { ...aliceOnly(), allowPrivateNetwork: false });
    assert.equal(report?.outcome, 'failed');
    assert.equal(report.reason, 'forbidden-address');
  });

  it('caches DID documents and shares one PLC request between concurrent verifications', async () => {
    const images = [await pushImage(env, 'c1'), await pushImage(env, 'c2')];
    for (const img of images) await sign(env, img, env.accounts.alice!);
    const cache = createMemoryCache();
    const counts: Record<string, number> = {};
    const fetch = countingFetch(env, counts);
    const first = await Promise.all(
      images.map((img) => verifyImage(env, img, aliceOnly(), { cache, fetch })),
    );
    assert.deepEqual(
      first.flat().map((r) => r.outcome),
      ['verified', 'verified'],
    );
    assert.equal(counts.plc, 1);
    await verifyImage(env, images[0]!, aliceOnly(), { cache, fetch });
    assert.equal(counts.plc, 1);
    assert.equal(counts.pds, 3);
  });
});
