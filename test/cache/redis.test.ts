import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { createLayeredCache, isCredentialKey } from '../../src/cache/layered.js';
import { createMemoryCache } from '../../src/cache/memory.js';
import { createRedisCache, redactUrl } from '../../src/cache/redis.js';
import { isVouchError } from '../../src/errors.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

async function until(predicate: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await predicate()) return;
    await sleep(20);
  }
  throw new Error('condition not reached in time');
}

describe('redis cache (real redis-server)', () => {
  let server: TestRedis;
  let raw: Redis;
  before(async () => {
    server = await startRedis();
    raw = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 0 });
    await raw.connect();
  });
  after(async () => {
    raw.disconnect();
    await server.stop();
  });

  it('stores JSON under the key prefix with a Redis expiry and reads it back', async () => {
    const cache = createRedisCache({ url: server.url, keyPrefix: 'test1:' });
    try {
      await until(() => cache.ping());
      await cache.set('decision:sha256:aa', { allowed: true, why: ['ok'] }, 60_000);
      assert.deepEqual(await cache.get('decision:sha256:aa'), { allowed: true, why: ['ok'] });
      const stored = JSON.parse((await raw.get('test1:decision:sha256:aa')) ?? 'null');
      assert.deepEqual(stored.v, { allowed: true, why: ['ok'] });
      const pttl = await raw.pttl('test1:decision:sha256:aa');
      assert.ok(pttl > 50_000 && pttl <= 60_000, `pttl ${pttl}`);
      await cache.delete('decision:sha256:aa');
      assert.equal(await raw.exists('test1:decision:sha256:aa'), 0);
    } finally {
      await cache.close();
    }
  });

  it('ignores a foreign value under its key rather than returning it', async () => {
    const cache = createRedisCache({ url: server.url, keyPrefix: 'test2:' });
    try {
      await until(() => cache.ping());
      await raw.set('test2:k', '{"allowed":true}');
      assert.equal(await cache.get('k'), undefined);
    } finally {
      await cache.close();
    }
  });

  it('shares one computation among concurrent misses and caches it for a second client', async () => {
    const a = createRedisCache({ url: server.url, keyPrefix: 'test3:' });
    const b = createRedisCache({ url: server.url, keyPrefix: 'test3:' });
    try {
      await until(async () => (await a.ping()) && (await b.ping()));
      let calls = 0;
      const compute = async () => {
        calls++;
        await sleep(20);
        return 'v';
      };
      await Promise.all([a.getOrCompute('k', 10_000, compute), a.getOrCompute('k', 10_000, compute)]);
      assert.equal(calls, 1);
      assert.equal(await b.getOrCompute('k', 10_000, compute), 'v');
      assert.equal(calls, 1);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('fails fast with CACHE_UNAVAILABLE when Redis is not there', async () => {
    const cache = createRedisCache({ url: 'redis://127.0.0.1:1', connectTimeoutMs: 200 });
    try {
      const started = Date.now();
      await assert.rejects(cache.get('k'), (err) => isVouchError(err, 'CACHE_UNAVAILABLE'));
      assert.ok(Date.now() - started < 500);
      assert.equal(await cache.ping(), false);
    } finally {
      await cache.close();
    }
  });

  it('redacts the password of a Redis URL', () => {
    assert.equal(redactUrl('redis://user:s3cret@host:6379/0'), 'redis://user:redacted@host:6379/0');
  });
});

describe('layered cache (memory in front of real Redis)', () => {
  let server: TestRedis;
  before(async () => {
    server = await startRedis();
  });
  after(async () => {
    await server.stop();
  });

  it('copies a Redis hit into memory and writes computed values to both layers', async () => {
    const events: string[] = [];
    const observer = {
      lookup: (layer: string, hit: boolean) => events.push(`${layer}:${hit ? 'hit' : 'miss'}`),
    };
    const writer = createRedisCache({ url: server.url, keyPrefix: 'lay1:' });
    const cache = createLayeredCache({
      memory: createMemoryCache(),
      redis: createRedisCache({ url: server.url, keyPrefix: 'lay1:' }),
      observer,
    });
    try {
      await until(async () => (await writer.ping()) && cache.status().degraded === false);
      await writer.set('from-peer', { n: 1 }, 60_000);
      assert.deepEqual(await cache.get('from-peer'), { n: 1 });
      assert.deepEqual(await cache.get('from-peer'), { n: 1 });
      assert.deepEqual(events, ['memory:miss', 'redis:hit', 'memory:hit']);
      assert.equal(await cache.getOrCompute('mine', 60_000, async () => 'computed'), 'computed');
      assert.equal(await writer.get('mine'), 'computed');
    } finally {
      await cache.close();
      await writer.close();
    }
  });

  it('never sends credential keys to Redis', async () => {
    const peek = createRedisCache({ url: server.url, keyPrefix: 'lay2:' });
    const cache = createLayeredCache({
      memory: createMemoryCache(),
      redis: createRedisCache({ url: server.url, keyPrefix: 'lay2:' }),
    });
    try {
      await until(async () => (await peek.ping()) && !cache.status().degraded);
      await cache.set('token:registry.example:repo:pull', { token: 'abc' }, 60_000);
      await cache.getOrCompute('auth:registry.example', 60_000, async () => 'Basic xyz');
      assert.deepEqual(await cache.get('token:registry.example:repo:pull'), { token: 'abc' });
      assert.equal(await peek.get('token:registry.example:repo:pull'), undefined);
      assert.equal(await peek.get('auth:registry.example'), undefined);
      assert.ok(isCredentialKey('credentials:x') && !isCredentialKey('decision:sha256:aa'));
    } finally {
      await cache.close();
      await peek.close();
    }
  });

  it('keeps answering from memory when Redis is killed mid-test, flags it, and recovers when it returns', async () => {
    const degradedEvents: boolean[] = [];
    const errors: string[] = [];
    const cache = createLayeredCache({
      memory: createMemoryCache(),
      redis: createRedisCache({ url: server.url, keyPrefix: 'lay3:', commandTimeoutMs: 200 }),
      observer: {
        degraded: (d) => degradedEvents.push(d),
        error: (layer, op) => errors.push(`${layer}:${op}`),
      },
      backoffMs: 100,
    });
    try {
      await until(() => !cache.status().degraded);
      await cache.set('before', 'kept-in-memory', 60_000);

      await server.kill();
      await until(() => cache.status().degraded);
      assert.deepEqual(cache.status().layers, ['memory']);
      assert.equal(await cache.get('before'), 'kept-in-memory');
      let calls = 0;
      const started = Date.now();
      const value = await cache.getOrCompute('during', 60_000, async () => {
        calls++;
        return 'computed-without-redis';
      });
      assert.equal(value, 'computed-without-redis');
      assert.ok(Date.now() - started < 300, 'a dead Redis must not stall the caller');
      assert.equal(await cache.getOrCompute('during', 60_000, async () => 'again'), 'computed-without-redis');
      assert.equal(calls, 1);

      await server.restart();
      await until(() => !cache.status().degraded, 8000);
      await cache.set('after', 'both-layers', 60_000);
      const peek = createRedisCache({ url: server.url, keyPrefix: 'lay3:' });
      try {
        await until(() => peek.ping());
        assert.equal(await peek.get('after'), 'both-layers');
      } finally {
        await peek.close();
      }
      assert.deepEqual(degradedEvents.slice(-2), [true, false]);
    } finally {
      await cache.close();
    }
  });

  it('flags a command that times out on a live connection and clears the flag once Redis answers again', async () => {
    const degradedEvents: boolean[] = [];
    const pauser = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 0 });
    const redis = createRedisCache({ url: server.url, keyPrefix: 'lay5:', commandTimeoutMs: 100 });
    const cache = createLayeredCache({
      memory: createMemoryCache(),
      redis,
      observer: { degraded: (d) => degradedEvents.push(d) },
      backoffMs: 200,
    });
    try {
      await pauser.connect();
      await until(() => !cache.status().degraded);
      // CLIENT PAUSE stalls every client's commands while their connections stay open
      await pauser.call('CLIENT', 'PAUSE', '600', 'ALL');
      assert.equal(await cache.getOrCompute('k1', 60_000, async () => 'one'), 'one');
      assert.equal(cache.status().degraded, true, 'a timed-out command must flag the shared cache');
      assert.equal(redis.health(), 'ready', 'the connection itself stayed up');
      await sleep(700);
      // past the pause and the backoff: the next command reaches Redis and ends the spell
      assert.equal(await cache.getOrCompute('k2', 60_000, async () => 'two'), 'two');
      assert.equal(cache.status().degraded, false);
      assert.deepEqual(cache.status().layers, ['memory', 'redis']);
      assert.deepEqual(degradedEvents.slice(-2), [true, false]);
    } finally {
      pauser.disconnect();
      await cache.close();
    }
  });

  it('does not cache a failed computation in either layer', async () => {
    const peek = createRedisCache({ url: server.url, keyPrefix: 'lay4:' });
    const cache = createLayeredCache({
      memory: createMemoryCache(),
      redis: createRedisCache({ url: server.url, keyPrefix: 'lay4:' }),
    });
    try {
      await until(async () => (await peek.ping()) && !cache.status().degraded);
      await assert.rejects(
        cache.getOrCompute('k', 60_000, async () => {
          throw new Error('registry timeout');
        }),
        /registry timeout/,
      );
      assert.equal(await cache.get('k'), undefined);
      assert.equal(await peek.get('k'), undefined);
    } finally {
      await cache.close();
      await peek.close();
    }
  });
});
