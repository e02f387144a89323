/**
 * Fault: Redis (real redis-server) flapping — killed and restarted again and again while
 * requests flow — behind a server configured with `cache.type: redis`, built the way `vouch serve`
 * builds its cache (buildServerCache: memory in front of Redis).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { buildServerCache } from '../../src/cli/serve.js';
import { configSchema, type VouchConfigInput } from '../../src/config/schema.js';
import { silentLogger } from '../../src/observability/logger.js';
import { createServerMetrics } from '../../src/observability/metrics.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { cosignConfig, createSignedImages, type SignedImages } from '../server/harness.js';
import {
  allowed,
  assertNeverAllowed,
  reportRecovery,
  sleep,
  startVouch,
  timeToRecover,
  type VouchUnderTest,
  verify,
  watchServing,
} from './fault-harness.js';

const SIGNED = 40;
const UNSIGNED = 4;
const FLAPS = 4;
const PREFIX = 'fault:';

describe('when Redis flaps while requests flow (cache.type redis)', { timeout: 60_000 }, () => {
  let redis: TestRedis;
  let registry: TestRegistry;
  let images: SignedImages;
  let vouch: VouchUnderTest;
  let cache: Awaited<ReturnType<typeof buildServerCache>>;
  const signedKeys: string[] = [];
  const unsignedKeys: string[] = [];
  const unsignedDigests: string[] = [];
  let warmKey: string;
  let freshKey: string;

  before(async () => {
    redis = await startRedis();
    registry = await startRegistry();
    images = await createSignedImages(registry.host);
    for (let i = 0; i < SIGNED; i++) {
      await images.push(`flap${i}`, 'v1', true);
      signedKeys.push(`${registry.host}/flap${i}:v1`);
    }
    for (let i = 0; i < UNSIGNED; i++) {
      unsignedDigests.push((await images.push(`bare${i}`, 'v1', false)).digest);
      unsignedKeys.push(`${registry.host}/bare${i}:v1`);
    }
    await images.push('warm', 'v1', true);
    warmKey = `${registry.host}/warm:v1`;
    // never asked for while Redis flaps (the load may use every flap image), so its decision is
    // computed after the fault and must be written to Redis
    await images.push('fresh', 'v1', true);
    freshKey = `${registry.host}/fresh:v1`;
    const config = {
      ...cosignConfig([registry.host], images.publicKeyFile),
      cache: { type: 'redis', redis: { url: redis.url, keyPrefix: PREFIX } },
    } as VouchConfigInput;
    cache = await buildServerCache(configSchema.parse(config), silentLogger, createServerMetrics());
    vouch = await startVouch(config, {}, { cache });
  });
  after(async () => {
    await vouch?.stop();
    await cache?.close?.();
    await images?.close();
    await registry?.stop();
    await redis?.stop();
  });

  const cacheStatus = async (): Promise<{ degraded: boolean; layers: string[] }> => {
    const ready = await vouch.client.get(`${vouch.vouch.url}/ready`);
    return (JSON.parse(ready.text) as { checks: { cache: { degraded: boolean; layers: string[] } } }).checks
      .cache;
  };

  it('never allows an unsigned image, keeps serving, caches nothing transient and uses Redis again once it is steady', async () => {
    const { client, vouch: server } = vouch;
    const denied = new Set(unsignedKeys);
    await timeToRecover(performance.now(), async () => !(await cacheStatus()).degraded, 5000);
    assert.ok(allowed((await verify(client, server.url, [warmKey])).items[0]));

    const watch = watchServing(client, server.url, warmKey);
    let flowing = true;
    let next = 0;
    let requests = 0;
    let itemErrors = 0;
    let wrong = 0;
    const load = (async () => {
      while (flowing && next < SIGNED) {
        const key = signedKeys[next++] as string;
        const res = await verify(client, server.url, [key, ...unsignedKeys]);
        requests++;
        assertNeverAllowed(res, denied, 'while Redis flaps');
        for (const item of res.items) if (item.error !== undefined) itemErrors++;
        if (res.items[0]?.value !== undefined && !allowed(res.items[0])) wrong++;
        await sleep(60);
      }
    })();
    let sawDegraded = false;
    for (let i = 0; i < FLAPS; i++) {
      await redis.kill();
      await sleep(500);
      sawDegraded ||= (await cacheStatus()).degraded;
      await redis.restart();
      if (i < FLAPS - 1) await sleep(500);
    }
    // the fault ends with the last restart: from here Redis stays up
    const steadyAt = performance.now();
    const readyMs = await timeToRecover(steadyAt, async () => !(await cacheStatus()).degraded, 15_000, 20);
    flowing = false;
    await load;
    const serving = await watch.stop();
    assert.ok(sawDegraded, '/ready never showed the cache degraded while Redis was down');

    // the first decision after recovery reaches Redis again
    const reader = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await reader.connect();
      assert.ok(allowed((await verify(client, server.url, [freshKey])).items[0]));
      const sharedMs = await timeToRecover(steadyAt, async () => {
        const keys = await reader.keys(`${PREFIX}decision:*`);
        return keys.some((k) => k.includes('/fresh@'));
      });
      // nothing in Redis allows an unsigned digest
      for (const key of await reader.keys(`${PREFIX}decision:*`)) {
        if (!unsignedDigests.some((d) => key.endsWith(d))) continue;
        const envelope = JSON.parse((await reader.get(key)) ?? '{}') as { v?: { allowed?: boolean } };
        assert.notEqual(envelope.v?.allowed, true, `${key} allowed in Redis`);
      }
      // every image tried during the flapping now has its true decision
      const tried = signedKeys.slice(0, next);
      const after = await verify(client, server.url, [...tried, ...unsignedKeys]);
      for (const item of after.items) {
        assert.equal(allowed(item), !denied.has(item.key), `${item.key}: ${JSON.stringify(item)}`);
        assert.equal(item.error, undefined, `${item.key}: ${item.error}`);
      }
      reportRecovery('redis-flap', {
        flaps: FLAPS,
        requests,
        itemErrors,
        wrongDenials: wrong,
        servingRounds: serving.rounds,
        maxHealthMs: serving.maxHealthMs,
        maxWarmMs: serving.maxWarmMs,
        readyRecoveryMs: readyMs,
        sharedRecoveryMs: sharedMs,
      });
    } finally {
      reader.disconnect();
    }
    assert.deepEqual(serving.failures, [], 'health or warm decision failed while Redis flapped');
    assert.equal(itemErrors, 0, 'an image could not be decided because Redis flapped');
    assert.equal(wrong, 0, 'a signed image was denied because Redis flapped');
    assert.ok(requests >= 10, `only ${requests} requests while Redis flapped`);
  });
});
