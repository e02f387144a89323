/**
 * The public listener's bounds on live servers: two replicas sharing one Redis answer the same
 * list (admitted through one, read from the other); a namespace keeps at most `maxImages`; pod
 * names appear only with `includePodNames`; the list expires `ttlSeconds` after the last admission
 * (how an opted-out namespace disappears); a client over its rate gets 429 with Retry-After; the
 * listener serves HTTPS when given a certificate, without asking for a client certificate.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { createLayeredCache } from '../../src/cache/layered.js';
import { createMemoryCache } from '../../src/cache/memory.js';
import { createRedisCache } from '../../src/cache/redis.js';
import { verifyApplications } from '../../src/server/public/envelope.js';
import { parsePublicKey } from '../../src/verifiers/cosign/public-key.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import {
  cosignConfig,
  createClient,
  createPki,
  createSignedImages,
  type RunningServer,
  type SignedImages,
  startServer,
  type TestClient,
  type TestPki,
} from './harness.js';
import { type AdmissionAnswer, podReview } from './public-review.js';

describe('public listener bounds (two replicas, one Redis)', { timeout: 120_000 }, () => {
  let registry: TestRegistry;
  let redis: TestRedis;
  let images: SignedImages;
  let pki: TestPki;
  let a: RunningServer;
  let b: RunningServer;
  let client: TestClient;
  let tlsAgent: Agent;
  let vouchPub: string;
  const caches: Array<{ close(): Promise<void> }> = [];

  const replica = async (extra: Record<string, unknown>) => {
    const cert = await pki.leaf(`server-${caches.length}`);
    const cache = createLayeredCache({
      memory: createMemoryCache(),
      redis: createRedisCache({ url: redis.url, keyPrefix: 'pub:' }),
    });
    caches.push(cache);
    return startServer(
      cosignConfig([registry.host], images.publicKeyFile),
      {
        tls: { certFile: cert.cert, keyFile: cert.key, clientCaFile: path.join(pki.dir, 'ca.crt') },
        publicVerification: {
          enabled: true,
          listen: '127.0.0.1:0',
          signingKeyFile: path.join(pki.dir, 'vouch.key'),
          namespaces: ['shop'],
          ttlSeconds: 3,
          maxImages: 2,
          includePodNames: true,
          ...extra,
        },
      },
      { cache },
    );
  };
  const get = async (url: string, dispatcher?: Agent) => {
    const res = await request(url, dispatcher ? { dispatcher } : {});
    return { status: res.statusCode, headers: res.headers, body: Buffer.from(await res.body.arrayBuffer()) };
  };

  before(async () => {
    registry = await startRegistry();
    redis = await startRedis();
    images = await createSignedImages(registry.host);
    pki = await createPki();
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await writeFile(
      path.join(pki.dir, 'vouch.key'),
      pair.privateKey.export({ format: 'pem', type: 'pkcs8' }),
    );
    vouchPub = path.join(pki.dir, 'vouch.pub');
    await writeFile(vouchPub, pair.publicKey.export({ format: 'pem', type: 'spki' }));
    const publicCert = await pki.leaf('public');
    a = await replica({ tls: { certFile: publicCert.cert, keyFile: publicCert.key } });
    b = await replica({ rateLimit: { perClientPerSecond: 0.01, burst: 4, totalPerSecond: 100 } });
    client = await createClient(path.join(pki.dir, 'ca.crt'), await pki.leaf('client'));
    tlsAgent = new Agent({
      connect: { ca: await readFile(path.join(pki.dir, 'ca.crt')), servername: 'localhost' },
    });
    // Redis connects in the background: wait until both replicas use it
    await sleep(300);
  });
  after(async () => {
    await tlsAgent?.close();
    await client?.close();
    await a?.stop();
    await b?.stop();
    for (const c of caches) await c.close();
    await images?.close();
    await redis?.stop();
    await registry?.stop();
    if (pki) await rm(pki.dir, { recursive: true, force: true });
  });

  it('answers the same list on both replicas, at most maxImages, with pod names when configured, over HTTPS; it expires after ttlSeconds', async () => {
    const pushed = await Promise.all(['one', 'two', 'three'].map((r) => images.push(r, 'v1', true)));
    const review = await podReview({
      namespace: 'shop',
      name: 'shop-5f6d',
      containers: pushed.map(
        (d, i) => [`c${i}`, `${registry.host}/${['one', 'two', 'three'][i]}@${d.digest}`] as const,
      ),
    });
    const res = await client.post(`${a.url}/admission/validate?timeout=20s`, review);
    assert.equal((res.json as { response: AdmissionAnswer }).response.allowed, true);
    const key = parsePublicKey(await readFile(vouchPub, 'utf8'), 'vouch.pub');
    const fromA = await get(`${a.server.publicUrl()}/v1/applications/shop`, tlsAgent);
    assert.match(String(a.server.publicUrl()), /^https:/);
    assert.equal(fromA.status, 200);
    const fromB = await get(`${b.server.publicUrl()}/v1/applications/shop`);
    assert.equal(fromB.status, 200, 'the replica that did not admit reads the shared list');
    const listA = verifyApplications(fromA.body, [key]);
    const listB = verifyApplications(fromB.body, [key]);
    assert.ok(listA.ok && listB.ok);
    assert.deepEqual(
      listB.payload.images.map((i) => i.reference),
      listA.payload.images.map((i) => i.reference),
    );
    assert.equal(listA.payload.images.length, 2, 'maxImages');
    assert.ok(listA.payload.images.every((i) => i.pod === 'Pod/shop-5f6d'));
    await sleep(3300);
    assert.equal((await get(`${a.server.publicUrl()}/v1/applications/shop`, tlsAgent)).status, 404);
    assert.equal((await get(`${b.server.publicUrl()}/v1/keys`)).status, 200);
  });

  it('answers 429 with Retry-After once a client has used its burst', async () => {
    const statuses: number[] = [];
    let retryAfter: unknown;
    for (let i = 0; i < 6; i++) {
      const res = await get(`${b.server.publicUrl()}/v1/keys`);
      statuses.push(res.status);
      if (res.status === 429) retryAfter = res.headers['retry-after'];
    }
    // the first test spent one or two of the 4 tokens; every request after the burst is refused
    assert.ok(statuses.includes(429), statuses.join(','));
    assert.equal(statuses.at(-1), 429);
    assert.ok(Number(retryAfter) >= 1);
  });
});
