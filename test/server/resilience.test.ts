/**
 * The server under stress, over real HTTPS: a slow registry (delay proxy, a fault server) against
 * the request budget; overload answered with 503 + Retry-After; certificate and client-CA rotation
 * under continuous load (counting failed requests: goal 0); Redis killed mid-test behind the
 * layered cache; drain on close.
 */
import assert from 'node:assert/strict';
import { copyFile, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect } from 'node:tls';
import { createLayeredCache } from '../../src/cache/layered.js';
import { createMemoryCache } from '../../src/cache/memory.js';
import { createRedisCache } from '../../src/cache/redis.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { type DelayProxy, startDelayProxy } from './delay-proxy.js';
import {
  cosignConfig,
  createClient,
  createPki,
  createSignedImages,
  type SignedImages,
  startServer,
  type TestPki,
} from './harness.js';

interface Item {
  key: string;
  value?: { isSuccess: boolean };
  error?: string;
}
const verifyBody = (keys: string[]) => ({
  apiVersion: 'externaldata.gatekeeper.sh/v1beta1',
  kind: 'ProviderRequest',
  request: { keys },
});

async function peerFingerprint(
  url: string,
  caFile: string,
  client: { cert: string; key: string },
): Promise<string> {
  const u = new URL(url);
  const [ca, cert, key] = await Promise.all([readFile(caFile), readFile(client.cert), readFile(client.key)]);
  return new Promise((resolve, reject) => {
    const socket = connect(
      { host: u.hostname, port: Number(u.port), ca, cert, key, servername: 'localhost' },
      () => {
        resolve(socket.getPeerCertificate().fingerprint256);
        socket.end();
      },
    );
    socket.once('error', reject);
  });
}

describe('server resilience', { timeout: 120_000 }, () => {
  let registry: TestRegistry;
  let images: SignedImages;
  let pki: TestPki;
  let proxy: DelayProxy;
  let caFile: string;
  let clientCert: { cert: string; key: string };

  before(async () => {
    registry = await startRegistry();
    images = await createSignedImages(registry.host);
    for (let i = 0; i < 4; i++) await images.push(`slow${i}`, 'v1', true);
    await images.push('app', 'signed', true);
    proxy = await startDelayProxy(Number(registry.host.split(':')[1]), 0);
    pki = await createPki();
    caFile = path.join(pki.dir, 'ca.crt');
    clientCert = await pki.leaf('client');
  });
  after(async () => {
    await proxy?.stop();
    await images?.close();
    await registry?.stop();
  });

  describe('when the registry is slower than the budget', () => {
    it('answers within the budget, gives unfinished images a timeout error and a systemError, never an allow', async () => {
      const server = await pki.leaf('server-slow');
      const vouch = await startServer(cosignConfig([proxy.host], images.publicKeyFile), {
        tls: { certFile: server.cert, keyFile: server.key },
        budgets: { validateMs: 400, mutateMs: 300 },
      });
      const client = await createClient(caFile);
      try {
        proxy.setRttMs(300); // each round trip 300 ms: a cold verification needs several
        const keys = [0, 1, 2, 3].map((i) => `${proxy.host}/slow${i}:v1`);
        const started = performance.now();
        const res = await client.post(`${vouch.url}/gatekeeper/v1/verify`, verifyBody(keys));
        const elapsed = performance.now() - started;
        assert.ok(elapsed < 900, `answered after ${Math.round(elapsed)} ms`);
        const body = res.json as { response: { items: Item[]; systemError?: string } };
        assert.equal(body.response.items.length, 4);
        for (const item of body.response.items) {
          assert.equal(item.value, undefined, 'a timeout must never carry an allow');
          assert.match(item.error ?? '', /^timeout/);
        }
        assert.match(body.response.systemError ?? '', /could not be decided/);
        const metrics = (await client.get(`${vouch.url}/metrics`)).text;
        assert.match(metrics, /vouch_deadline_expired_total\{endpoint="verify"\} 1/);

        const mutate = await client.post(
          `${vouch.url}/gatekeeper/v1/mutate`,
          verifyBody([`${proxy.host}/app:signed`]),
        );
        const item = (mutate.json as { response: { items: Item[] } }).response.items[0];
        assert.match(item?.error ?? '', /^timeout/);
      } finally {
        proxy.setRttMs(0);
        await client.close();
        await vouch.stop();
      }
    });
  });

  describe('when one client sends more requests than its share', () => {
    it('answers the excess at once with 503 and Retry-After instead of queueing', async () => {
      const server = await pki.leaf('server-load');
      const vouch = await startServer(cosignConfig([proxy.host], images.publicKeyFile), {
        tls: { certFile: server.cert, keyFile: server.key, clientCaFile: caFile },
        limits: { perClientConcurrency: 2, retryAfterSeconds: 3 },
      });
      const client = await createClient(caFile, clientCert, 8);
      try {
        proxy.setRttMs(200);
        const results = await Promise.all(
          Array.from({ length: 6 }, (_, i) =>
            client.post(`${vouch.url}/gatekeeper/v1/verify`, verifyBody([`${proxy.host}/slow${i % 4}:v1`])),
          ),
        );
        const refused = results.filter((r) => r.status === 503);
        assert.ok(refused.length >= 3, `statuses ${results.map((r) => r.status)}`);
        assert.ok(refused.every((r) => r.headers['retry-after'] === '3'));
        assert.ok(results.some((r) => r.status === 200));
      } finally {
        proxy.setRttMs(0);
        await client.close();
        await vouch.stop();
      }
    });
  });

  describe('when the certificate and the client CA rotate under continuous load', () => {
    it('serves the new material without a single failed request', async () => {
      const dir = pki.dir;
      const live = {
        cert: path.join(dir, 'live.crt'),
        key: path.join(dir, 'live.key'),
        ca: path.join(dir, 'live-ca.crt'),
      };
      const first = await pki.leaf('rot1');
      await copyFile(first.cert, live.cert);
      await copyFile(first.key, live.key);
      await copyFile(caFile, live.ca);
      const vouch = await startServer(cosignConfig([proxy.host], images.publicKeyFile), {
        tls: { certFile: live.cert, keyFile: live.key, clientCaFile: live.ca, pollMs: 200 },
      });
      const key = `${proxy.host}/app:signed`;
      let failures = 0;
      let done = 0;
      let stop = false;
      // fresh connections each time (new handshakes), from two clients: one per CA
      const worker = async (who: () => { cert: string; key: string }) => {
        while (!stop) {
          const c = await createClient(caFile, who(), 1);
          try {
            const res = await c.post(`${vouch.url}/gatekeeper/v1/verify`, verifyBody([key]));
            const item = (res.json as { response: { items: Item[] } }).response.items[0];
            if (res.status !== 200 || item?.value?.isSuccess !== true) failures++;
          } catch {
            failures++;
          } finally {
            done++;
            await c.close();
          }
        }
      };
      let clientIdentity = clientCert;
      const load = Promise.all([0, 1, 2].map(() => worker(() => clientIdentity)));
      try {
        const before = await peerFingerprint(vouch.url, caFile, clientCert);
        // 1. new server certificate (same CA), written key-then-cert like a secret update
        const second = await pki.leaf('rot2');
        await rename(await copyTo(second.key, `${live.key}.tmp`), live.key);
        await rename(await copyTo(second.cert, `${live.cert}.tmp`), live.cert);
        await waitFor(async () => (await peerFingerprint(vouch.url, caFile, clientCert)) !== before);
        // 2. the client CA gains a second CA, then clients move to certificates from it
        const newCa = await pki.ca('ca2');
        const bundle = Buffer.concat([await readFile(caFile), await readFile(newCa)]);
        await import('node:fs/promises').then((fs) => fs.writeFile(`${live.ca}.tmp`, bundle));
        await rename(`${live.ca}.tmp`, live.ca);
        const fromNewCa = await pki.leaf('client2', 'ca2');
        // A real request, not just a handshake: under TLS 1.3 the client's handshake completes
        // before the server has judged the client certificate (a rejection arrives afterwards as
        // an alert), so a handshake alone says nothing about whether the new CA is in use yet.
        await waitFor(async () => {
          const probe = await createClient(caFile, fromNewCa, 1);
          try {
            const res = await probe.post(`${vouch.url}/gatekeeper/v1/verify`, verifyBody([]));
            return res.status === 200;
          } catch {
            return false;
          } finally {
            await probe.close();
          }
        });
        clientIdentity = fromNewCa;
        const target = done + 30;
        await waitFor(async () => done >= target);
      } finally {
        stop = true;
        await load;
        await vouch.stop();
      }
      assert.ok(done > 30, `only ${done} requests ran`);
      assert.equal(failures, 0, `${failures} of ${done} requests failed during rotation`);
    });
  });

  describe('when Redis dies mid-test behind the server', () => {
    let redis: TestRedis;
    before(async () => {
      redis = await startRedis();
    });
    after(async () => {
      await redis?.stop();
    });

    it('keeps deciding from memory, reports it in /ready, and never fails open', async () => {
      const server = await pki.leaf('server-redis');
      const cache = createLayeredCache({
        memory: createMemoryCache(),
        redis: createRedisCache({ url: redis.url, keyPrefix: 'srv:' }),
        backoffMs: 100,
      });
      const vouch = await startServer(
        cosignConfig([proxy.host], images.publicKeyFile),
        { tls: { certFile: server.cert, keyFile: server.key } },
        { cache },
      );
      const client = await createClient(caFile);
      try {
        await waitFor(async () => !cache.status().degraded);
        const signedKey = `${proxy.host}/app:signed`;
        const first = await client.post(`${vouch.url}/gatekeeper/v1/verify`, verifyBody([signedKey]));
        assert.equal(
          (first.json as { response: { items: Item[] } }).response.items[0]?.value?.isSuccess,
          true,
        );
        await redis.kill();
        await waitFor(async () => cache.status().degraded);
        const unsignedDigest = (await images.push('late', 'v1', false)).digest;
        const res = await client.post(
          `${vouch.url}/gatekeeper/v1/verify`,
          verifyBody([signedKey, `${proxy.host}/late@${unsignedDigest}`]),
        );
        const items = (res.json as { response: { items: Item[] } }).response.items;
        assert.equal(items[0]?.value?.isSuccess, true);
        assert.equal(items[1]?.value?.isSuccess, false);
        const ready = JSON.parse((await client.get(`${vouch.url}/ready`)).text);
        assert.equal(ready.checks.cache.degraded, true);
        assert.deepEqual(ready.checks.cache.layers, ['memory']);
      } finally {
        await client.close();
        await vouch.stop();
        await cache.close();
      }
    });
  });
});

async function copyTo(from: string, to: string): Promise<string> {
  await copyFile(from, to);
  return to;
}

async function waitFor(predicate: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await predicate()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not reached in time');
}
