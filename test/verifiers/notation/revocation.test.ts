/**
 * Revocation through the notation Verifier against real services on loopback: a CA run with
 * `openssl ca`, an `openssl ocsp` responder over its index.txt, and its CRL served over HTTP
 * (test/helpers/ocsp.ts). Signatures live in an OCI layout; the trust policy's revocation action
 * decides what an unreachable or hanging responder means, and only a trusted chain's URLs are contacted.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createMemoryCache } from '../../../src/cache/memory.js';
import { verifyArtifact } from '../../../src/engine/run.js';
import type { Artifact, Report, Subject } from '../../../src/engine/types.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { parseAnyReference } from '../../../src/reference/parse.js';
import { openLayoutRepository } from '../../../src/registry/layout/index.js';
import type { Repository } from '../../../src/registry/types.js';
import { signNotation } from '../../../src/sign/notation/index.js';
import { readCertificates } from '../../../src/trust/notation/certificate.js';
import { createNotationVerifier } from '../../../src/verifiers/notation/index.js';
import { pushTestImage } from '../../helpers/images.js';
import {
  type CountingService,
  createTestCa,
  freePort,
  type IssuedCertificate,
  type RunningService,
  startBlackhole,
  startCrlServer,
  startOcspResponder,
  type TestCa,
} from '../../helpers/ocsp.js';
import { trustFor } from './fixtures.js';

const der = (pem: string) => readCertificates(new TextEncoder().encode(pem))[0] as Uint8Array;

describe('notation revocation with openssl ocsp and a CRL on loopback', { timeout: 60_000 }, () => {
  let ca: TestCa;
  let other: TestCa;
  let ocsp: RunningService & { log(): string };
  let crlServer: CountingService;
  let blackhole: CountingService;
  let layout: string;
  let repo: Repository;
  let crl: Uint8Array = new Uint8Array();
  const certs = new Map<string, IssuedCertificate>();
  let refused = '';

  before(async () => {
    [ca, other, blackhole] = await Promise.all([createTestCa(), createTestCa(), startBlackhole()]);
    crlServer = await startCrlServer(() => crl);
    const ocspPort = await freePort();
    refused = `http://127.0.0.1:${await freePort()}/`;
    const ocspUrl = `http://127.0.0.1:${ocspPort}/`;
    const crlUrl = crlServer.url;
    const plan: Array<[string, { ocspUrl?: string; crlUrl?: string }]> = [
      ['ocsp-good', { ocspUrl }],
      ['ocsp-revoked', { ocspUrl }],
      ['crl-good', { crlUrl }],
      ['crl-revoked', { crlUrl }],
      ['fallback-revoked', { ocspUrl: refused, crlUrl }],
      ['unreachable', { ocspUrl: refused }],
      ['hanging', { ocspUrl: blackhole.url }],
    ];
    for (const [name, urls] of plan) certs.set(name, await ca.issue(name, urls));
    for (const name of ['ocsp-revoked', 'crl-revoked', 'fallback-revoked'])
      await ca.revoke(certs.get(name) as IssuedCertificate);
    crl = await ca.crl();
    // Untrusted: another CA's leaf pointing at the hanging fault server.
    certs.set('untrusted-hanging', await other.issue('untrusted-hanging', { ocspUrl: blackhole.url }));
    ocsp = await startOcspResponder(ca, ocspPort);
    layout = await mkdtemp(join(tmpdir(), 'vouch-revocation-'));
    repo = openLayoutRepository(
      parseAnyReference(`oci:${layout}`) as Parameters<typeof openLayoutRepository>[0],
    );
  });
  after(async () => {
    await Promise.all([ocsp?.stop(), crlServer?.stop(), blackhole?.stop()]);
    await Promise.all([ca?.remove(), other?.remove()]);
    if (layout) await rm(layout, { recursive: true, force: true });
  });

  /** Signs a fresh image with `name`'s certificate and verifies it under `revocation` (timeout `timeoutMs`). */
  async function verifyWith(
    name: string,
    signatureVerification: Record<string, unknown>,
    timeoutMs = 1000,
  ): Promise<{ report: Report; ms: number }> {
    const cert = certs.get(name) as IssuedCertificate;
    const image = await pushTestImage(
      repo,
      name,
      `revocation-${name}-${JSON.stringify(signatureVerification)}`,
    );
    const sig = await signNotation({
      repository: repo,
      subject: image,
      keyPem: cert.keyPem,
      certChainPem: cert.chainPem,
      envelope: 'jws',
    });
    const base = trustFor({ ca: [der(ca.rootPem)] }, signatureVerification);
    // the responders run on loopback: an address the egress rules refuse unless allowed
    const verifier = createNotationVerifier({
      ...base.trust,
      revocation: { timeoutMs, allowPrivateNetwork: true },
    });
    const subject: Subject = {
      name: `oci:${layout}`,
      reference: parseAnyReference(`oci:${layout}@${image.digest}`),
      descriptor: image,
      repository: repo,
    };
    const artifact: Artifact = { descriptor: sig, kind: 'referrer', source: 'layout', referrers: [] };
    const started = performance.now();
    const report = await verifyArtifact(verifier, subject, artifact, {
      repository: repo,
      signal: AbortSignal.timeout(20_000),
      cache: createMemoryCache(),
      now: new Date(),
      logger: silentLogger,
    });
    return { report, ms: performance.now() - started };
  }
  const strict = { level: 'strict' };

  it('verifies a certificate the OCSP responder says is good', async () => {
    const { report } = await verifyWith('ocsp-good', strict);
    assert.equal(report.outcome, 'verified', report.message);
    assert.equal(report.details.revocation, 'good');
  });

  it('denies a certificate the OCSP responder says is revoked', async () => {
    const { report } = await verifyWith('ocsp-revoked', strict);
    assert.equal(report.outcome, 'failed');
    assert.equal(report.reason, 'revoked');
    assert.match(report.message, /CN=ocsp-revoked.* is revoked \(OCSP\)/);
    assert.match(ocsp.log(), /ACCEPT/);
  });

  it('uses the CRL: revoked is denied, unlisted verifies', async () => {
    const before = crlServer.count();
    const revoked = await verifyWith('crl-revoked', strict);
    assert.equal(revoked.report.outcome, 'failed');
    assert.equal(revoked.report.reason, 'revoked');
    assert.match(revoked.report.message, /is revoked \(CRL http:\/\/127\.0\.0\.1/);
    const good = await verifyWith('crl-good', strict);
    assert.equal(good.report.outcome, 'verified', good.report.message);
    assert.equal(good.report.details.revocation, 'good');
    assert.ok(crlServer.count() >= before + 2, 'the CRL was fetched over HTTP');
  });

  it('falls back to the CRL when the OCSP responder refuses connections', async () => {
    const { report } = await verifyWith('fallback-revoked', strict);
    assert.equal(report.reason, 'revoked');
    assert.match(report.message, /\(CRL /);
  });

  it('an unreachable responder: enforce -> inconclusive, log -> verified with a logged failure, skip -> not checked', async () => {
    const enforce = await verifyWith('unreachable', strict);
    assert.equal(enforce.report.outcome, 'inconclusive');
    assert.equal(enforce.report.reason, 'revocation-unknown');
    assert.match(enforce.report.message, /revocation status is unknown: OCSP http:\/\/127\.0\.0\.1/);

    const log = await verifyWith('unreachable', { level: 'strict', override: { revocation: 'log' } });
    assert.equal(log.report.outcome, 'verified');
    assert.match(log.report.message, /1 logged failure\(s\): .*revocation status is unknown/);
    const logged = log.report.details.loggedFailures as Array<{ check: string; reason: string }>;
    assert.deepEqual(
      logged.map((f) => [f.check, f.reason]),
      [['revocation', 'revocation-unknown']],
    );

    const skip = await verifyWith('unreachable', { level: 'strict', override: { revocation: 'skip' } });
    assert.equal(skip.report.outcome, 'verified');
    assert.equal(skip.report.details.revocation, undefined, 'no revocation check was made');
    assert.equal(skip.report.details.loggedFailures, undefined);
  });

  it('caps a hanging responder at the revocation timeout; skip never connects', async () => {
    const beforeConnections = blackhole.count();
    const hung = await verifyWith('hanging', strict, 300);
    assert.equal(hung.report.outcome, 'inconclusive');
    assert.equal(hung.report.reason, 'revocation-unknown');
    assert.ok(hung.ms < 5000, `returned after ${hung.ms.toFixed(0)} ms with a 300 ms timeout`);
    assert.ok(blackhole.count() > beforeConnections, 'the responder was contacted');
    // undici may reconnect once after an aborted request: let the pool settle before counting.
    await new Promise((r) => setTimeout(r, 700));
    const settled = blackhole.count();
    const skipped = await verifyWith('hanging', { level: 'strict', override: { revocation: 'skip' } }, 300);
    assert.equal(skipped.report.outcome, 'verified');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(blackhole.count(), settled, 'skip makes no connection');
  });

  it('never contacts the revocation URLs of an untrusted chain (audit level logs instead)', async () => {
    const beforeConnections = blackhole.count();
    const { report } = await verifyWith('untrusted-hanging', { level: 'audit' }, 300);
    assert.equal(report.outcome, 'verified', report.message);
    const logged = report.details.loggedFailures as Array<{ check: string; reason: string; message: string }>;
    assert.deepEqual(
      logged.map((f) => f.check),
      ['authenticity', 'revocation'],
    );
    assert.match(
      logged[1]?.message ?? '',
      /revocation was not checked: the certificate chain .* is not trusted/,
    );
    assert.equal(blackhole.count(), beforeConnections, 'no connection to the untrusted URL');
  });
});
