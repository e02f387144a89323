/**
 * Revocation egress (docs/security.md, egress table): the OCSP and CRL addresses come from
 * certificates the signer supplied. Only certificates at or below the trust anchor have their
 * addresses contacted, and a loopback address is refused unless
 * `verifiers.notation.revocation.allowPrivateNetwork`. Real PKI from `openssl` and a CRL server on
 * loopback (test/helpers/ocsp.ts) that counts every request it sees.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createMemoryCache } from '../../src/cache/memory.js';
import { verifyArtifact } from '../../src/engine/run.js';
import type { Artifact, Report, Subject } from '../../src/engine/types.js';
import { silentLogger } from '../../src/observability/logger.js';
import { parseAnyReference } from '../../src/reference/parse.js';
import { openLayoutRepository } from '../../src/registry/layout/index.js';
import type { Repository } from '../../src/registry/types.js';
import { signNotation } from '../../src/sign/notation/index.js';
import { readCertificates } from '../../src/trust/notation/certificate.js';
import { createNotationVerifier } from '../../src/verifiers/notation/index.js';
import { pushTestImage } from '../helpers/images.js';
import { type CountingService, createTestCa, startCrlServer, type TestCa } from '../helpers/ocsp.js';
import { openssl, selfSignedArgs } from '../helpers/openssl.js';
import { trustFor } from './notation/fixtures.js';

const der = (pem: string) => readCertificates(new TextEncoder().encode(pem))[0] as Uint8Array;

interface Chain {
  readonly keyPem: string;
  /** leaf, intermediate, root */
  readonly chainPem: string;
  readonly intermediatePem: string;
  readonly rootPem: string;
}

/**
 * leaf -> intermediate -> root, where only the root names a CRL address (`crlUrl`): the shape of a
 * chain whose signer appended their own root above a trusted intermediate.
 */
async function chainWithRootUrl(dir: string, crlUrl: string): Promise<Chain> {
  await openssl(
    selfSignedArgs({
      key: 'ec',
      keyOut: 'root.key',
      certOut: 'root.crt',
      subject: '/O=Notary/CN=egress test root',
      days: 2,
      extensions: [
        'basicConstraints=critical,CA:TRUE',
        'keyUsage=critical,keyCertSign,cRLSign',
        `crlDistributionPoints=URI:${crlUrl}`,
      ],
    }),
    dir,
  );
  await writeFile(
    join(dir, 'ext.cnf'),
    [
      '[ ca ]',
      'basicConstraints = critical, CA:TRUE',
      'keyUsage = critical, keyCertSign, cRLSign',
      '[ leaf ]',
      'basicConstraints = CA:FALSE',
      'keyUsage = critical, digitalSignature',
      'extendedKeyUsage = codeSigning',
      '',
    ].join('\n'),
  );
  const issue = async (name: string, subject: string, issuer: string, section: string) => {
    await openssl(
      ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'].concat([
        '-keyout',
        `${name}.key`,
        '-out',
        `${name}.csr`,
        '-subj',
        subject,
      ]),
      dir,
    );
    await openssl(
      ['x509', '-req', '-in', `${name}.csr`, '-CA', `${issuer}.crt`, '-CAkey', `${issuer}.key`]
        .concat(['-CAcreateserial', '-days', '2', '-sha256', '-extfile', 'ext.cnf', '-extensions', section])
        .concat(['-out', `${name}.crt`]),
      dir,
    );
  };
  await issue('intermediate', '/O=Notary/CN=egress test intermediate', 'root', 'ca');
  await issue('leaf', '/O=Notary/CN=egress test leaf', 'intermediate', 'leaf');
  const read = (f: string) => readFile(join(dir, f), 'utf8');
  const [leaf, intermediatePem, rootPem, keyPem] = await Promise.all([
    read('leaf.crt'),
    read('intermediate.crt'),
    read('root.crt'),
    read('leaf.key'),
  ]);
  return { keyPem, chainPem: leaf + intermediatePem + rootPem, intermediatePem, rootPem };
}

describe('notation revocation egress', { timeout: 60_000 }, () => {
  let ca: TestCa;
  let crlServer: CountingService;
  let crl: Uint8Array = new Uint8Array();
  let dir: string;
  let layout: string;
  let repo: Repository;
  let anchoredLeaf: { keyPem: string; chainPem: string };
  let appended: Chain;

  before(async () => {
    [ca, crlServer] = await Promise.all([createTestCa(), startCrlServer(() => crl)]);
    anchoredLeaf = await ca.issue('crl-on-loopback', { crlUrl: crlServer.url });
    crl = await ca.crl();
    dir = await mkdtemp(join(tmpdir(), 'vouch-egress-pki-'));
    appended = await chainWithRootUrl(dir, crlServer.url);
    layout = await mkdtemp(join(tmpdir(), 'vouch-egress-layout-'));
    repo = openLayoutRepository(
      parseAnyReference(`oci:${layout}`) as Parameters<typeof openLayoutRepository>[0],
    );
  });
  after(async () => {
    await crlServer?.stop();
    await ca?.remove();
    await Promise.all([dir, layout].filter(Boolean).map((d) => rm(d, { recursive: true, force: true })));
  });

  let n = 0;
  /** Signs a fresh image with `signer` and verifies it with revocation enforced, trusting `anchors`. */
  async function verify(
    signer: { keyPem: string; chainPem: string },
    anchors: readonly Uint8Array[],
    allowPrivateNetwork: boolean | undefined,
  ): Promise<Report> {
    const image = await pushTestImage(repo, `egress-${++n}`, `revocation-egress-${n}`);
    const sig = await signNotation({
      repository: repo,
      subject: image,
      keyPem: signer.keyPem,
      certChainPem: signer.chainPem,
      envelope: 'jws',
    });
    const base = trustFor({ ca: anchors }, { level: 'strict' });
    const verifier = createNotationVerifier({
      ...base.trust,
      revocation: {
        timeoutMs: 2000,
        ...(allowPrivateNetwork === undefined ? {} : { allowPrivateNetwork }),
      },
    });
    const subject: Subject = {
      name: `oci:${layout}`,
      reference: parseAnyReference(`oci:${layout}@${image.digest}`),
      descriptor: image,
      repository: repo,
    };
    const artifact: Artifact = { descriptor: sig, kind: 'referrer', source: 'layout', referrers: [] };
    return verifyArtifact(verifier, subject, artifact, {
      repository: repo,
      signal: AbortSignal.timeout(20_000),
      cache: createMemoryCache(),
      now: new Date(),
      logger: silentLogger,
    });
  }

  describe('when a trusted chain names a CRL address on loopback', () => {
    it('refuses the address by default: not contacted, revocation unknown, enforce denies', async () => {
      const before = crlServer.count();
      const report = await verify(anchoredLeaf, [der(ca.rootPem)], undefined);
      assert.equal(report.outcome, 'inconclusive', report.message);
      assert.equal(report.reason, 'revocation-unknown');
      assert.match(
        report.message,
        /CRL http:\/\/127\.0\.0\.1:\d+\/ca\.crl: .*loopback address.*EGRESS_REFUSED/,
      );
      assert.equal(crlServer.count(), before, 'the CRL server was not contacted');
    });

    it('contacts it with allowPrivateNetwork', async () => {
      const before = crlServer.count();
      const report = await verify(anchoredLeaf, [der(ca.rootPem)], true);
      assert.equal(report.outcome, 'verified', report.message);
      assert.equal(report.details.revocation, 'good');
      assert.equal(crlServer.count(), before + 1);
    });
  });

  describe('when a certificate above the trust anchor names an address', () => {
    it('is not contacted, even with allowPrivateNetwork: only the anchored part of the chain is checked', async () => {
      const before = crlServer.count();
      const report = await verify(appended, [der(appended.intermediatePem)], true);
      assert.equal(report.outcome, 'verified', report.message);
      assert.equal(report.details.revocation, 'good');
      assert.equal(crlServer.count(), before, 'the address in the unanchored root was not contacted');
    });

    it('is contacted once that certificate is the anchor (the same chain, trusting its root)', async () => {
      const before = crlServer.count();
      const report = await verify(appended, [der(appended.rootPem)], true);
      assert.equal(crlServer.count(), before + 1, "the root's CRL address was contacted");
      // the server's CRL is another CA's, so the root's status cannot be established
      assert.equal(report.outcome, 'inconclusive', report.message);
      assert.equal(report.reason, 'revocation-unknown');
    });
  });
});
