/**
 * Fault suite (issue 15, item 2): the timestamp authority and the OCSP responder hanging, with
 * notation signatures timestamped by a real RFC 3161 TSA (openssl ts, test/helpers/tsa.ts) on
 * certificates whose revocation is checked against a real `openssl ocsp` responder
 * (test/helpers/ocsp.ts), both behind switch proxies, under the real server (HTTPS, mTLS) on a real
 * registry. The trust policy is strict (revocation enforced) and the responder is on loopback, so
 * `verifiers.notation.revocation.allowPrivateNetwork` is on.
 *
 * - TSA hanging: signing with a timestamp fails within its deadline and attaches nothing; the
 *   server verifies timestamps offline (it never contacts the TSA) and keeps allowing signed images.
 * - OCSP hanging or down: a certificate never checked before is inconclusive (denied, within the
 *   budget, with systemError); a revoked one is denied; after the fault both get their true answer.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseReference } from '../../src/reference/parse.js';
import { createRegistryClient, type RegistryClient } from '../../src/registry/client.js';
import type { Descriptor } from '../../src/registry/types.js';
import { signNotation } from '../../src/sign/notation/index.js';
import { pushTestImage } from '../helpers/images.js';
import {
  createTestCa,
  freePort,
  type IssuedCertificate,
  type RunningService,
  startOcspResponder,
  type TestCa,
} from '../helpers/ocsp.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { startTsa, type TestTsa } from '../helpers/tsa.js';
import {
  createClient,
  createPki,
  type RunningServer,
  startServer,
  type TestClient,
} from '../server/harness.js';
import {
  ANSWER_WITHIN_MS,
  allows,
  assertStillServing,
  logRecovery,
  provider,
  timeToRecover,
} from './fault-kit.js';
import { type SwitchProxy, startSwitchProxy } from './switch-proxy.js';

const FILE = 'tsa-ocsp';
const REVOCATION_MS = 500;

interface Reported {
  verifierReports?: Array<{ outcome: string; reason?: string; errorReason?: string; message?: string }>;
}

describe('fault: TSA and OCSP responder hanging', { timeout: 60_000 }, () => {
  let registry: TestRegistry;
  let registryClient: RegistryClient;
  let ca: TestCa;
  let tsa: TestTsa;
  let ocsp: RunningService;
  let ocspProxy: SwitchProxy;
  let tsaProxy: SwitchProxy;
  let vouch: RunningServer;
  let client: TestClient;
  const leaves = new Map<string, IssuedCertificate>();
  let n = 0;

  const ref = (tag: string) => `${registry.host}/app:${tag}`;
  const push = (tag: string): Promise<Descriptor> =>
    pushTestImage(registryClient.repository(parseReference(ref(tag))), tag, `${tag}-${Math.random()}`);
  /** Pushes `app:<tag>` signed by `leaf` with a timestamp from the TSA (through its proxy). */
  const pushSigned = async (tag: string, leaf: string, signal = AbortSignal.timeout(20_000)) => {
    const subject = await push(tag);
    const cert = leaves.get(leaf) as IssuedCertificate;
    await signNotation({
      repository: registryClient.repository(parseReference(ref(tag))),
      subject,
      keyPem: cert.keyPem,
      certChainPem: cert.chainPem,
      envelope: ++n % 2 ? 'jws' : 'cose',
      timestampUrl: tsaProxy.url,
      signal,
    });
    return subject;
  };
  const reportOf = (answer: Awaited<ReturnType<typeof provider>>) =>
    (answer.items[0]?.value as Reported | undefined)?.verifierReports?.[0];

  before(async () => {
    const ocspPort = await freePort();
    let pki: Awaited<ReturnType<typeof createPki>>;
    [registry, ca, tsa, pki] = await Promise.all([startRegistry(), createTestCa(), startTsa(), createPki()]);
    [ocspProxy, tsaProxy] = await Promise.all([
      startSwitchProxy(ocspPort, { http: true }),
      startSwitchProxy(Number(new URL(tsa.url).port), { http: true }),
    ]);
    for (const name of ['warm', 'ocsp-hang', 'ocsp-down', 'revoked', 'tsa'])
      leaves.set(name, await ca.issue(name, { ocspUrl: `${ocspProxy.url}/` }));
    await ca.revoke(leaves.get('revoked') as IssuedCertificate);
    ocsp = await startOcspResponder(ca, ocspPort);
    registryClient = createRegistryClient({ insecureHosts: [registry.host] });
    for (const [tag, leaf] of [
      ['warm', 'warm'],
      ['ocsp-hang', 'ocsp-hang'],
      ['ocsp-down', 'ocsp-down'],
      ['revoked', 'revoked'],
      ['tsa-signed', 'tsa'],
    ] as const)
      await pushSigned(tag, leaf);

    const tsaRoot = path.join(pki.dir, 'tsa-root.crt');
    await writeFile(tsaRoot, tsa.rootPem);
    const caFile = path.join(pki.dir, 'ca.crt');
    const server = await pki.leaf('server');
    vouch = await startServer(
      {
        registries: { insecure: [registry.host], dockerConfig: false },
        verifiers: {
          notation: {
            trustPolicy: {
              version: '1.0',
              trustPolicies: [
                {
                  name: 'all',
                  registryScopes: ['*'],
                  signatureVerification: { level: 'strict' },
                  trustStores: ['ca:test', 'tsa:test'],
                  trustedIdentities: ['*'],
                },
              ],
            },
            trustStores: { ca: { test: [path.join(ca.dir, 'ca.crt')] }, tsa: { test: [tsaRoot] } },
            revocation: { timeoutMs: REVOCATION_MS, allowPrivateNetwork: true },
          },
        },
        policy: {
          default: 'deny',
          rules: [
            { name: 'all', scope: '*', mode: 'enforce', match: 'all', require: [{ verifier: 'notation' }] },
          ],
        },
      } as Parameters<typeof startServer>[0],
      { tls: { certFile: server.cert, keyFile: server.key, clientCaFile: caFile } },
    );
    client = await createClient(caFile, await pki.leaf('gatekeeper'));
    const warm = await provider(client, vouch.url, [ref('warm')]);
    assert.ok(
      allows(warm.items[0]),
      `the warm image verifies before any fault: ${JSON.stringify(warm.items)}`,
    );
    assert.equal(reportOf(warm)?.outcome, 'verified');
  });
  after(async () => {
    await client?.close();
    await vouch?.stop();
    await registryClient?.close();
    await Promise.allSettled([ocspProxy?.stop(), tsaProxy?.stop(), ocsp?.stop(), tsa?.stop()]);
    await Promise.allSettled([registry?.stop(), ca?.remove()]);
  });

  it('when the TSA hangs: signing fails within its deadline, verification never contacts it and keeps allowing', async () => {
    const before = tsaProxy.requests('hang');
    await tsaProxy.set('hang');
    try {
      const started = performance.now();
      await assert.rejects(
        pushSigned('tsa-hang', 'tsa', AbortSignal.timeout(1500)),
        (err: Error & { code?: string }) => {
          assert.equal(err.code, 'SIGNING_FAILED', err.message);
          return true;
        },
      );
      const signMs = performance.now() - started;
      assert.ok(signMs < 4000, `signing gave up after ${Math.round(signMs)} ms`);
      assert.equal(tsaProxy.requests('hang'), before + 1, 'the signer sent its query to the hanging TSA');
      const seen = tsaProxy.requests('hang');
      // a timestamped signature made before the fault verifies offline; the unsigned image is denied
      const [answer, servingMs] = await Promise.all([
        provider(client, vouch.url, [ref('tsa-signed'), ref('tsa-hang')]),
        assertStillServing(client, vouch.url, ref('warm')),
      ]);
      assert.ok(allows(answer.items[0]), `timestamped image: ${JSON.stringify(answer.items[0])}`);
      assert.equal(allows(answer.items[1]), false, 'nothing was attached by the failed signing');
      assert.ok(answer.ms < ANSWER_WITHIN_MS);
      assert.equal(tsaProxy.requests('hang'), seen, 'the server never contacts the TSA');
      console.log(
        `[fault-suite] ${FILE}: tsa hang: signing failed after ${Math.round(signMs)} ms; verify ${Math.round(answer.ms)} ms, health+warm ${Math.round(servingMs)} ms`,
      );
    } finally {
      await tsaProxy.set('pass');
    }
    let k = 0;
    const ms = await timeToRecover(async () => {
      const tag = `tsa-back-${k++}`;
      try {
        await pushSigned(tag, 'tsa', AbortSignal.timeout(3000));
      } catch {
        return false;
      }
      return allows((await provider(client, vouch.url, [ref(tag)])).items[0]);
    }, 10_000);
    logRecovery(FILE, 'tsa hang', ms, 'a fresh image signed with a timestamp and allowed');
  });

  for (const mode of ['hang', 'down'] as const) {
    it(`when the OCSP responder is ${mode === 'hang' ? 'hanging' : 'down'}: inconclusive and denied within the budget, never cached, the true answers after`, async () => {
      const key = ref(`ocsp-${mode}`);
      await ocspProxy.set(mode);
      try {
        const [answer, servingMs] = await Promise.all([
          provider(client, vouch.url, [key, ref('revoked')]),
          new Promise((r) => setTimeout(r, 50)).then(() =>
            assertStillServing(client, vouch.url, ref('warm')),
          ),
        ]);
        assert.equal(
          allows(answer.items[0]),
          false,
          `allowed during the fault: ${JSON.stringify(answer.items[0])}`,
        );
        assert.equal(allows(answer.items[1]), false, 'the revoked certificate is denied');
        assert.ok(answer.ms < ANSWER_WITHIN_MS, `the faulted request took ${Math.round(answer.ms)} ms`);
        const report = reportOf(answer);
        assert.equal(report?.outcome, 'inconclusive', JSON.stringify(report));
        assert.match(report?.message ?? '', /revocation status is unknown/);
        assert.match(answer.systemError ?? '', /could not be decided/);
        const again = await provider(client, vouch.url, [key]);
        assert.equal(allows(again.items[0]), false);
        if (mode === 'hang') assert.ok(ocspProxy.connections('hang') > 0, 'the responder was contacted');
        console.log(
          `[fault-suite] ${FILE}: ocsp ${mode}: answered in ${Math.round(answer.ms)} ms (${report?.reason}), health+warm ${Math.round(servingMs)} ms`,
        );
      } finally {
        await ocspProxy.set('pass');
      }
      const ms = await timeToRecover(async () => {
        const answer = await provider(client, vouch.url, [key]);
        if (process.env.DEBUG_FAULT)
          console.log(JSON.stringify(reportOf(answer)), ocspProxy.connections('pass'), Math.round(answer.ms));
        return allows(answer.items[0]) && answer.systemError === undefined;
      }, 5000);
      logRecovery(FILE, `ocsp ${mode}`, ms);
      const revoked = await provider(client, vouch.url, [ref('revoked')]);
      assert.equal(allows(revoked.items[0]), false);
      assert.equal(reportOf(revoked)?.outcome, 'failed', JSON.stringify(reportOf(revoked)));
      assert.equal(revoked.systemError, undefined, 'a revoked certificate is a final answer');
    });
  }
});
