/**
 * Fault suite (issue 15, item 2): the PLC directory and the PDS down and slow, under the real
 * server (HTTPS, mTLS) deciding ATProto-signed images on a real registry with a real PLC
 * directory and PDS (test/helpers/atproto-net.ts). Each service sits behind a switch proxy: the
 * PLC directory as vouch's configured `plcUrl`, the PDS as the endpoint the signers' DID documents
 * name (moved there with a PLC update). For each fault: the faulted image is never allowed and is
 * answered within the budget; health and a warm decision keep answering; once the fault ends the
 * image is allowed again (nothing transient was cached), and the time that takes is logged.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../src/observability/logger.js';
import { createRegistryClient } from '../../src/registry/client.js';
import { type AtprotoNet, atprotoServicesInstalled, startAtprotoNet } from '../helpers/atproto-net.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import {
  createClient,
  createPki,
  type RunningServer,
  startServer,
  type TestClient,
} from '../server/harness.js';
import { type E2E, pushImage, sign } from '../verifiers/atproto/support/e2e-env.js';
import {
  ANSWER_WITHIN_MS,
  allows,
  assertStillServing,
  logRecovery,
  provider,
  timeToRecover,
} from './fault-kit.js';
import { type ProxyMode, type SwitchProxy, startSwitchProxy } from './switch-proxy.js';

const skip = atprotoServicesInstalled() ? false : 'test/services/atproto/install.sh has not run';
const FILE = 'atproto-services';
const REQUEST_MS = 700; // didResolverTimeoutMs and pdsTimeoutMs: one request's deadline

describe('fault: PDS and PLC directory down and slow', { skip, timeout: 60_000 }, () => {
  let net: AtprotoNet;
  let registry: TestRegistry;
  let env: E2E;
  let plc: SwitchProxy;
  let pds: SwitchProxy;
  let vouch: RunningServer;
  let client: TestClient;
  const image: Record<string, string> = {};

  before(async () => {
    const [n, r, pki] = await Promise.all([startAtprotoNet(), startRegistry(), createPki()]);
    net = n;
    registry = r;
    const port = (url: string) => Number(new URL(url).port);
    [plc, pds] = await Promise.all([startSwitchProxy(port(net.plcUrl)), startSwitchProxy(port(net.pdsUrl))]);
    env = {
      net,
      registry,
      client: createRegistryClient({ insecureHosts: [registry.host], logger: silentLogger }),
      accounts: {},
    };
    // alice signs the warm image and the PDS-fault images (her DID document is cached by then);
    // bob and carol are resolved for the first time during a PLC fault
    const plan: Array<[string, string]> = [
      ['warm', 'alice'],
      ['pds-down', 'alice'],
      ['pds-slow', 'alice'],
      ['plc-down', 'bob'],
      ['plc-slow', 'carol'],
    ];
    for (const name of ['alice', 'bob', 'carol']) {
      const account = await net.createAccount(name);
      env.accounts[name] = account;
      await net.updatePlc(account.did, (op) => ({
        ...op,
        services: { atproto_pds: { type: 'AtprotoPersonalDataServer', endpoint: pds.url } },
      }));
    }
    for (const [tag, who] of plan) {
      const pushed = await pushImage(env, tag);
      await sign(env, pushed, env.accounts[who] as NonNullable<E2E['accounts'][string]>);
      image[tag] = `${registry.host}/app:${tag}`;
    }
    await pushImage(env, 'unsigned');
    image.unsigned = `${registry.host}/app:unsigned`;

    const dids = Object.values(env.accounts).map((a) => a.did);
    const trustPolicy = {
      version: 1,
      trustedDIDs: Object.fromEntries(dids.map((d) => [d, { name: d.slice(-6) }])),
      policies: [{ name: 'all', scope: '**', require: { signature: true }, trustedDIDs: dids }],
    };
    const caFile = path.join(pki.dir, 'ca.crt');
    const server = await pki.leaf('server');
    vouch = await startServer(
      {
        registries: { insecure: [registry.host], dockerConfig: false },
        verifiers: {
          atproto: {
            trustPolicy,
            plcUrl: plc.url,
            allowPrivateNetwork: true,
            didResolverTimeoutMs: REQUEST_MS,
            pdsTimeoutMs: REQUEST_MS,
          },
        },
        policy: {
          default: 'deny',
          rules: [
            { name: 'all', scope: '*', mode: 'enforce', match: 'all', require: [{ verifier: 'atproto' }] },
          ],
        },
      } as Parameters<typeof startServer>[0],
      { tls: { certFile: server.cert, keyFile: server.key, clientCaFile: caFile } },
    );
    client = await createClient(caFile, await pki.leaf('gatekeeper'));
    const warm = await provider(client, vouch.url, [image.warm as string]);
    assert.ok(
      allows(warm.items[0]),
      `the warm image verifies before any fault: ${JSON.stringify(warm.items)}`,
    );
  });
  after(async () => {
    await client?.close();
    await vouch?.stop();
    await env?.client.close();
    await Promise.allSettled([plc?.stop(), pds?.stop()]);
    await Promise.allSettled([net?.stop(), registry?.stop()]);
  });

  const cases: Array<{ service: 'plc' | 'pds'; mode: ProxyMode; tag: string }> = [
    { service: 'plc', mode: 'down', tag: 'plc-down' },
    { service: 'plc', mode: 'slow', tag: 'plc-slow' },
    { service: 'pds', mode: 'down', tag: 'pds-down' },
    { service: 'pds', mode: 'slow', tag: 'pds-slow' },
  ];
  for (const { service, mode, tag } of cases) {
    it(`when the ${service === 'plc' ? 'PLC directory' : 'PDS'} is ${mode}: never allows, keeps serving, recovers`, async () => {
      const proxy = service === 'plc' ? plc : pds;
      const key = image[tag] as string;
      await proxy.set(mode, 3 * REQUEST_MS);
      try {
        // the faulted image, with health and the warm decision asked while it is in flight
        const [faulted, servingMs] = await Promise.all([
          provider(client, vouch.url, [key, image.unsigned as string]),
          new Promise((r) => setTimeout(r, 50)).then(() =>
            assertStillServing(client, vouch.url, image.warm as string),
          ),
        ]);
        assert.equal(faulted.status, 200);
        assert.equal(
          allows(faulted.items[0]),
          false,
          `${tag} allowed during the fault: ${JSON.stringify(faulted.items[0])}`,
        );
        assert.equal(allows(faulted.items[1]), false, 'the unsigned image is denied');
        assert.ok(faulted.ms < ANSWER_WITHIN_MS, `the faulted request took ${Math.round(faulted.ms)} ms`);
        // inconclusive, and said to be transient: Gatekeeper caches a plain isSuccess:false value
        // for its whole TTL (protocols README §1.8) but never a systemError
        const report = (faulted.items[0]?.value as { verifierReports?: Array<{ outcome: string }> })
          ?.verifierReports?.[0];
        assert.equal(report?.outcome, 'inconclusive');
        assert.match(faulted.systemError ?? '', /could not be decided/);
        // asked again while the fault lasts: still not allowed (nor cached as allowed)
        const again = await provider(client, vouch.url, [key]);
        assert.equal(allows(again.items[0]), false);
        // (a service that is down accepts no connection to count)
        if (mode !== 'down')
          assert.ok(proxy.connections(mode) > 0, `vouch contacted the ${service} during the fault`);
        console.log(
          `[fault-suite] ${FILE}: ${service} ${mode}: answered in ${Math.round(faulted.ms)} ms (${JSON.stringify(faulted.items[0]?.value?.isSuccess ?? faulted.items[0]?.error)}), health+warm ${Math.round(servingMs)} ms`,
        );
      } finally {
        await proxy.set('pass');
      }
      const ms = await timeToRecover(async () => {
        const answer = await provider(client, vouch.url, [key]);
        return allows(answer.items[0]) && answer.systemError === undefined;
      }, 5000);
      logRecovery(FILE, `${service} ${mode}`, ms);
    });
  }
});
