/**
 * ATCR hold scan records end to end: a real PLC directory + PDS (the image owner and the holds are
 * accounts on it), a real registry, vouch's ATCR signer writing manifest records that name a hold,
 * and the hold publishing `io.atcr.hold.scan` records with a Grype report and an SPDX SBOM as
 * blobs. Decided through config → runtime → engine: the vulnerability and SBOM policies apply to
 * the scan as to an attached, signed report.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createMemoryCache } from '../../../src/cache/memory.js';
import { composeConfig } from '../../../src/config/compose.js';
import { buildRuntime } from '../../../src/config/runtime.js';
import type { VouchConfigInput } from '../../../src/config/schema.js';
import { verifyArtifact, verifyContext } from '../../../src/engine/run.js';
import type { ExternalFailure, Report } from '../../../src/engine/types.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { signAtproto } from '../../../src/sign/atproto/index.js';
import { loadAtprotoTrust } from '../../../src/trust/atproto/load.js';
import { defaultFetch, type FetchLike } from '../../../src/verifiers/atproto/identity/http.js';
import { createAtprotoVerifier } from '../../../src/verifiers/atproto/index.js';
import { type AtprotoNet, startAtprotoNet, type TestAccount } from '../../helpers/atproto-net.js';
import { startRegistry, type TestRegistry } from '../../helpers/registry.js';
import { spdxSbom } from '../../helpers/reports.js';
import { type E2E, type PushedImage, pushImage, startE2E } from './support/e2e-env.js';

const SCAN = 'io.atcr.hold.scan';

/** Grype's `-o json` shape, reduced to what a report of `findings` needs. */
function grypeJson(findings: Array<{ id: string; severity: string; pkg: string }>): Uint8Array {
  return new TextEncoder().encode(
    JSON.stringify({
      matches: findings.map((f) => ({
        vulnerability: {
          id: f.id,
          dataSource: `https://nvd.nist.gov/vuln/detail/${f.id}`,
          severity: f.severity,
        },
        relatedVulnerabilities: [],
        matchDetails: [],
        artifact: { name: f.pkg, version: '1.0.0', type: 'java-archive' },
      })),
      source: { type: 'image', target: {} },
      distro: { name: 'alpine', version: '3.19' },
      descriptor: { name: 'grype', version: '0.74.0' },
    }),
  );
}

async function uploadBlob(net: AtprotoNet, account: TestAccount, bytes: Uint8Array, mimeType: string) {
  const res = await fetch(`${net.pdsUrl}/xrpc/com.atproto.repo.uploadBlob`, {
    method: 'POST',
    headers: { 'content-type': mimeType, authorization: `Bearer ${account.accessJwt}` },
    body: bytes,
    signal: AbortSignal.timeout(20_000),
  });
  const body = (await res.json()) as { blob?: unknown };
  if (!res.ok || !body.blob) throw new Error(`uploadBlob: HTTP ${res.status} ${JSON.stringify(body)}`);
  return body.blob;
}

interface Signed {
  readonly image: PushedImage;
  readonly manifestUri: string;
  readonly ref: string;
}

describe('ATCR hold scan records (real PLC + PDS + registry)', { timeout: 150_000 }, () => {
  let env: E2E;
  let hold: TestAccount;
  let rogue: TestAccount;
  let dir: string;
  const images: Record<string, Signed> = {};

  /** Pushes an image and signs it as alice, naming `holdDid` in the manifest record. */
  async function signedImage(tag: string, holdDid: string): Promise<Signed> {
    const image = await pushImage(env, tag);
    await signAtproto({
      repository: image.repo,
      subject: image.subject.descriptor,
      imageRepository: 'app',
      pdsUrl: env.net.pdsUrl,
      identifier: env.accounts.alice!.handle,
      appPassword: env.accounts.alice!.appPassword,
      allowPrivateNetwork: true,
      holdDid,
      signal: AbortSignal.timeout(30_000),
    });
    const list = await fetch(
      `${env.net.pdsUrl}/xrpc/com.atproto.repo.listRecords?repo=${env.accounts.alice!.did}&collection=io.atcr.manifest&limit=100`,
    ).then((r) => r.json() as Promise<{ records: Array<{ uri: string; value: { digest: string } }> }>);
    const record = list.records.find((r) => r.value.digest === image.subject.descriptor.digest);
    if (!record) throw new Error('the signer wrote no manifest record');
    return { image, manifestUri: record.uri, ref: `${env.registry.host}/app:${tag}` };
  }

  /** The hold's scan record for `image` (record key: the digest's hex), with blobs. */
  async function publishScan(
    by: TestAccount,
    signed: Signed,
    options: { grype?: Uint8Array; sbom?: Uint8Array; manifest?: string; critical?: number } = {},
  ): Promise<void> {
    const record: Record<string, unknown> = {
      $type: SCAN,
      manifest: options.manifest ?? signed.manifestUri,
      repository: 'app',
      userDid: env.accounts.alice!.did,
      critical: options.critical ?? 0,
      high: 0,
      medium: 0,
      low: 1,
      total: (options.critical ?? 0) + 1,
      scannedAt: new Date().toISOString(),
      scannerVersion: 'atcr-scanner-v1.0.0',
    };
    if (options.grype)
      record.vulnReportBlob = await uploadBlob(env.net, by, options.grype, 'application/json');
    if (options.sbom) record.sbomBlob = await uploadBlob(env.net, by, options.sbom, 'application/spdx+json');
    await env.net.xrpc(
      'com.atproto.repo.putRecord',
      {
        repo: by.did,
        collection: SCAN,
        rkey: signed.image.subject.descriptor.digest.slice('sha256:'.length),
        validate: false,
        record,
      },
      by.accessJwt,
    );
  }

  const CLEAN = grypeJson([{ id: 'CVE-2024-0001', severity: 'Low', pkg: 'musl' }]);
  const CRITICAL = grypeJson([
    { id: 'CVE-2021-44228', severity: 'Critical', pkg: 'log4j-core' },
    { id: 'CVE-2021-44228', severity: 'Critical', pkg: 'log4j-api' },
  ]);
  const SBOM_OK = spdxSbom([{ name: 'musl', version: '1.2.3', license: 'MIT' }], 'app');
  const SBOM_GPL = spdxSbom([{ name: 'readline', version: '8.0', license: 'GPL-3.0-only' }], 'app');

  before(async () => {
    env = await startE2E(startRegistry as () => Promise<TestRegistry>, startAtprotoNet);
    hold = await env.net.createAccount('hold');
    rogue = await env.net.createAccount('rogue');
    dir = await mkdtemp(path.join(tmpdir(), 'vouch-hold-scan-'));
    images.clean = await signedImage('clean', hold.did);
    await publishScan(hold, images.clean, { grype: CLEAN, sbom: SBOM_OK });
    images.critical = await signedImage('critical', hold.did);
    await publishScan(hold, images.critical, { grype: CRITICAL, sbom: SBOM_OK, critical: 2 });
    images.gpl = await signedImage('gpl', hold.did);
    await publishScan(hold, images.gpl, { grype: CLEAN, sbom: SBOM_GPL });
    images.rogue = await signedImage('rogue', rogue.did);
    await publishScan(rogue, images.rogue, { grype: CLEAN, sbom: SBOM_OK });
    images.unscanned = await signedImage('unscanned', hold.did);
    images.other = await signedImage('other', hold.did);
    // a scan stored under this image's key that says it scanned another manifest record
    await publishScan(hold, images.other, {
      grype: CLEAN,
      sbom: SBOM_OK,
      manifest: images.clean.manifestUri,
    });
  });
  after(async () => {
    await env?.client.close();
    await Promise.allSettled([env?.net.stop(), env?.registry.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const trustPolicy = () => ({
    version: 1,
    trustedDIDs: {
      [env.accounts.alice!.did]: { name: 'alice' },
      [hold.did]: { name: 'hold01' },
    },
    policies: [
      { name: 'all', scope: '**', require: { signature: true }, trustedDIDs: [env.accounts.alice!.did] },
    ],
    trustedHolds: [hold.did],
  });

  async function decide(
    ref: string,
    content: Pick<NonNullable<VouchConfigInput['verifiers']>, 'sbom' | 'vulnerabilityReport'>,
  ) {
    const config: VouchConfigInput = {
      registries: { insecure: [env.registry.host], dockerConfig: false },
      verifiers: {
        atproto: { trustPolicy: trustPolicy(), plcUrl: env.net.plcUrl, allowPrivateNetwork: true },
        ...content,
      },
      policy: {
        rules: [
          {
            name: 'atcr',
            scope: `${env.registry.host}/app`,
            require: [
              { verifier: 'atproto' },
              ...(content.vulnerabilityReport ? [{ verifier: 'vulnerabilityReport' as const }] : []),
              ...(content.sbom ? [{ verifier: 'sbom' as const }] : []),
            ],
          },
        ],
      },
    };
    const file = path.join(dir, `vouch-${Math.random().toString(36).slice(2)}.yaml`);
    await writeFile(file, JSON.stringify(config));
    const loaded = await composeConfig({ configFile: file });
    const runtime = await buildRuntime(loaded.config, { baseDir: loaded.baseDir });
    try {
      return await runtime.engine.decide(ref, { signal: AbortSignal.timeout(30_000) });
    } finally {
      await runtime.close();
    }
  }
  const only = (reports: readonly Report[], verifier: string) =>
    reports.filter((r) => r.verifier === verifier);
  const policies = {
    vulnerabilityReport: { disallowedSeverities: ['critical'], maximumAge: '24h' },
    sbom: { disallowedLicenses: ['GPL-3.0-only'] },
  };

  it('a trusted hold’s clean scan satisfies both content requirements, signed by the hold', async () => {
    const d = await decide(images.clean!.ref, policies);
    assert.equal(d.allowed, true, d.why.join('; '));
    const [vuln] = only(d.reports, 'vulnerabilityReport');
    assert.equal(vuln?.outcome, 'verified', vuln?.message);
    assert.equal(vuln?.details.scanner, 'grype');
    assert.equal(vuln?.details.scannerVersion, '0.74.0');
    assert.deepEqual(vuln?.details.counts, { low: 1 });
    assert.deepEqual(vuln?.details.signedBy, ['atproto']);
    assert.match(
      String(vuln?.details.source),
      new RegExp(`^at://${hold.did}/${SCAN}/[a-f0-9]{64}#vulnReportBlob$`),
    );
    const [signature] = vuln?.nested ?? [];
    assert.equal(signature?.verifier, 'atproto');
    assert.equal(signature?.outcome, 'verified');
    assert.equal(signature?.details.did, hold.did);
    const [sbom] = only(d.reports, 'sbom');
    assert.equal(sbom?.outcome, 'verified', sbom?.message);
    assert.equal(sbom?.details.format, 'SPDX-2.3');
    assert.match(String(sbom?.artifact.digest), /^sha256:[a-f0-9]{64}$/);
    // the image's own signature report names the hold its manifest record points at
    assert.equal(only(d.reports, 'atproto')[0]?.details.holdDid, hold.did);
  });

  it('a critical CVE in the hold’s Grype report denies, naming the CVE once', async () => {
    const d = await decide(images.critical!.ref, policies);
    assert.equal(d.allowed, false);
    const [vuln] = only(d.reports, 'vulnerabilityReport');
    assert.equal(vuln?.reason, 'disallowed-severity');
    assert.deepEqual(vuln?.details.violations, ['CVE-2021-44228']);
    assert.match(d.why.join('\n'), /CVE-2021-44228/);
  });

  it('a disallowed licence in the hold’s SBOM denies', async () => {
    const d = await decide(images.gpl!.ref, policies);
    assert.equal(d.allowed, false);
    assert.equal(only(d.reports, 'sbom')[0]?.reason, 'disallowed-license');
    assert.equal(only(d.reports, 'vulnerabilityReport')[0]?.outcome, 'verified');
  });

  it('a hold not in trustedHolds does not count: failed untrusted-hold for each content verifier', async () => {
    const d = await decide(images.rogue!.ref, policies);
    assert.equal(d.allowed, false);
    for (const name of ['vulnerabilityReport', 'sbom']) {
      const [r] = only(d.reports, name);
      assert.equal(r?.outcome, 'failed', name);
      assert.equal(r?.reason, 'untrusted-hold', name);
      assert.equal(r?.details.holdDid, rogue.did);
    }
  });

  it('a scan record of another manifest is scan-mismatch; no scan at all is a missing report', async () => {
    const other = await decide(images.other!.ref, policies);
    assert.equal(other.allowed, false);
    assert.equal(only(other.reports, 'vulnerabilityReport')[0]?.reason, 'scan-mismatch');
    const none = await decide(images.unscanned!.ref, policies);
    assert.equal(none.allowed, false);
    assert.deepEqual(only(none.reports, 'vulnerabilityReport'), []);
    assert.match(none.why.join('\n'), /vulnerabilityReport: no vulnerability report found/);
  });

  it('requireSignature without atproto does not accept a hold-signed scan (unsigned-report)', async () => {
    const d = await decide(images.clean!.ref, {
      vulnerabilityReport: { disallowedSeverities: ['critical'], requireSignature: ['notation'] },
    });
    assert.equal(d.allowed, false);
    assert.equal(only(d.reports, 'vulnerabilityReport')[0]?.reason, 'unsigned-report');
  });

  it('blob bytes that do not hash to the record’s CID are digest-mismatch (fault: a PDS altering getBlob)', async () => {
    // A real PDS serves blobs by CID; only a man in the middle (named fake) can alter them.
    const inner = defaultFetch(true);
    const altering: FetchLike = async (url, init) => {
      const res = await inner(url, init);
      if (!url.includes('com.atproto.sync.getBlob')) return res;
      await res.body?.cancel();
      return new Response(grypeJson([]), { status: 200, headers: { 'content-type': 'application/json' } });
    };
    const trust = await loadAtprotoTrust(
      { trustPolicy: trustPolicy(), plcUrl: env.net.plcUrl, allowPrivateNetwork: true },
      { baseDir: '.' },
    );
    const verifier = createAtprotoVerifier(trust, { fetch: altering });
    const ctx = {
      repository: images.clean!.image.repo,
      signal: AbortSignal.timeout(30_000),
      cache: createMemoryCache(),
      now: new Date(),
      logger: silentLogger,
    };
    const subject = images.clean!.image.subject;
    const reports = await Promise.all(
      (await subject.repository.referrers(subject.descriptor)).descriptors
        .map((descriptor) => ({
          descriptor,
          kind: 'referrer' as const,
          source: 'referrers-tag' as const,
          referrers: [],
        }))
        .filter((a) => verifier.accepts(a))
        .map((a) => verifyArtifact(verifier, subject, a, ctx)),
    );
    assert.equal(reports[0]?.outcome, 'verified', reports[0]?.message);
    const findings =
      (await verifier.externalDocuments?.(subject, reports, verifyContext(ctx.repository, subject, ctx))) ??
      [];
    assert.equal(findings.length, 1);
    const failure = findings[0] as ExternalFailure;
    assert.equal(failure.kind, 'failure');
    assert.equal(failure.reason, 'digest-mismatch');
    assert.equal(failure.outcome, 'failed');
    assert.match(failure.message, /not the CID the record names/);
  });

  it('rejects a trustedHolds entry missing from trustedDIDs at load', async () => {
    await assert.rejects(
      loadAtprotoTrust(
        {
          trustPolicy: { ...trustPolicy(), trustedHolds: ['did:web:hold99.example.com'] },
          plcUrl: env.net.plcUrl,
        },
        { baseDir: '.' },
      ),
      /trustedHolds\[0\]: did:web:hold99\.example\.com is not listed in trustedDIDs/,
    );
  });
});
