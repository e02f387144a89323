import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMemoryCache, jsonSize, resolveTtl } from '../../src/cache/memory.js';

describe('memory cache', () => {
  describe('when values are set and read', () => {
    it('returns what was stored, including falsy JSON values, and undefined for a missing key', async () => {
      const cache = createMemoryCache();
      await cache.set('a', { allowed: true }, 1000);
      await cache.set('zero', 0, 1000);
      await cache.set('null', null, 1000);
      await cache.set('false', false, 1000);
      assert.deepEqual(await cache.get('a'), { allowed: true });
      assert.equal(await cache.get('zero'), 0);
      assert.equal(await cache.get('null'), null);
      assert.equal(await cache.get('false'), false);
      assert.equal(await cache.get('missing'), undefined);
      assert.equal(cache.stats().hits, 4);
      assert.equal(cache.stats().misses, 1);
    });

    it('forgets a deleted key', async () => {
      const cache = createMemoryCache();
      await cache.set('k', 'v', 1000);
      await cache.delete('k');
      assert.equal(await cache.get('k'), undefined);
    });

    it('does not store with a TTL of 0 and drops an older value under that key', async () => {
      const cache = createMemoryCache();
      await cache.set('k', 'old', 1000);
      await cache.set('k', 'new', 0);
      assert.equal(await cache.get('k'), undefined);
    });
  });

  describe('when entries expire', () => {
    it('drops an entry after its own TTL while a longer-lived one stays', async () => {
      const cache = createMemoryCache();
      await cache.set('short', 1, 30);
      await cache.set('long', 2, 5000);
      await sleep(60);
      assert.equal(await cache.get('short'), undefined);
      assert.equal(await cache.get('long'), 2);
    });
  });

  describe('when the bounds are reached', () => {
    it('evicts the least recently used entry past maxEntries', async () => {
      const cache = createMemoryCache({ maxEntries: 2 });
      await cache.set('a', 1, 1000);
      await cache.set('b', 2, 1000);
      await cache.get('a'); // a is now more recent than b
      await cache.set('c', 3, 1000);
      assert.equal(await cache.get('b'), undefined);
      assert.equal(await cache.get('a'), 1);
      assert.equal(await cache.get('c'), 3);
      assert.equal(cache.stats().entries, 2);
      assert.equal(cache.stats().evictions, 1);
    });

    it('keeps the total JSON size under maxBytes', async () => {
      const cache = createMemoryCache({ maxBytes: 100 });
      for (let i = 0; i < 20; i++) await cache.set(`k${i}`, 'x'.repeat(20), 1000); // 22 bytes each
      const { bytes, entries } = cache.stats();
      assert.ok(bytes <= 100, `bytes ${bytes}`);
      assert.equal(entries, 4);
      assert.equal(await cache.get('k19'), 'x'.repeat(20));
      assert.equal(await cache.get('k0'), undefined);
    });

    it('does not keep a single value larger than maxBytes', async () => {
      const cache = createMemoryCache({ maxBytes: 10 });
      await cache.set('big', 'x'.repeat(50), 1000);
      assert.equal(await cache.get('big'), undefined);
      assert.equal(cache.stats().bytes, 0);
    });

    it('peeks synchronously, counting hits but not misses, and never returns an expired entry', async () => {
      const cache = createMemoryCache();
      await cache.set('k', { v: 1 }, 30);
      assert.deepEqual(cache.peek('k'), { v: 1 });
      assert.equal(cache.peek('absent'), undefined);
      assert.equal(cache.stats().hits, 1);
      assert.equal(cache.stats().misses, 0);
      await new Promise((r) => setTimeout(r, 60));
      assert.equal(cache.peek('k'), undefined);
    });

    it('refuses nonsensical bounds', () => {
      assert.throws(() => createMemoryCache({ maxEntries: 0 }), RangeError);
      assert.throws(() => createMemoryCache({ maxBytes: -1 }), RangeError);
    });
  });

  describe('getOrCompute', () => {
    it('runs one computation for concurrent misses of one key and caches its value', async () => {
      const cache = createMemoryCache();
      let calls = 0;
      const compute = async () => {
        calls++;
        await sleep(20);
        return { digest: 'sha256:abc' };
      };
      const results = await Promise.all(
        Array.from({ length: 50 }, () => cache.getOrCompute('k', 1000, compute)),
      );
      assert.equal(calls, 1);
      assert.ok(results.every((r) => r.digest === 'sha256:abc'));
      assert.deepEqual(await cache.getOrCompute('k', 1000, compute), { digest: 'sha256:abc' });
      assert.equal(calls, 1);
      assert.equal(cache.stats().inflight, 0);
    });

    it('runs separate computations for different keys', async () => {
      const cache = createMemoryCache();
      const seen: string[] = [];
      await Promise.all(
        ['a', 'b'].map((k) =>
          cache.getOrCompute(k, 1000, async () => {
            seen.push(k);
            return k;
          }),
        ),
      );
      assert.deepEqual(seen.sort(), ['a', 'b']);
    });

    it('does not cache a rejected computation; every waiter sees the error and the next call retries', async () => {
      const cache = createMemoryCache();
      let calls = 0;
      const failing = async () => {
        calls++;
        await sleep(5);
        throw new Error('registry unreachable');
      };
      const settled = await Promise.allSettled([
        cache.getOrCompute('k', 1000, failing),
        cache.getOrCompute('k', 1000, failing),
      ]);
      assert.equal(calls, 1);
      assert.ok(
        settled.every(
          (s) => s.status === 'rejected' && (s.reason as Error).message === 'registry unreachable',
        ),
      );
      assert.equal(await cache.getOrCompute('k', 1000, async () => 'ok'), 'ok');
      assert.equal(await cache.get('k'), 'ok');
    });

    it('reports a synchronous throw as a rejection and does not leave it in flight', async () => {
      const cache = createMemoryCache();
      const throwsNow = (() => {
        throw new Error('bug');
      }) as () => Promise<string>;
      await assert.rejects(cache.getOrCompute('k', 1000, throwsNow), /bug/);
      assert.equal(cache.stats().inflight, 0);
      assert.equal(await cache.getOrCompute('k', 1000, async () => 'fine'), 'fine');
    });

    it('uses the ttl function to keep negative results shorter, and 0 to not keep them', async () => {
      const cache = createMemoryCache();
      const ttl = (v: { allowed: boolean }) => (v.allowed ? 5000 : 30);
      await cache.getOrCompute('deny', ttl, async () => ({ allowed: false }));
      await cache.getOrCompute('allow', ttl, async () => ({ allowed: true }));
      await cache.getOrCompute(
        'never',
        () => 0,
        async () => ({ allowed: true }),
      );
      assert.deepEqual(await cache.get('deny'), { allowed: false });
      await sleep(60);
      assert.equal(await cache.get('deny'), undefined);
      assert.deepEqual(await cache.get('allow'), { allowed: true });
      assert.equal(await cache.get('never'), undefined);
    });

    it('does not store a computation that was started before a delete of its key', async () => {
      const cache = createMemoryCache();
      let release: (v: string) => void = () => {};
      const pending = cache.getOrCompute('k', 1000, () => new Promise<string>((r) => (release = r)));
      await sleep(1);
      await cache.delete('k');
      release('stale');
      assert.equal(await pending, 'stale');
      assert.equal(await cache.get('k'), undefined);
    });
  });

  describe('helpers', () => {
    it('sizes values by JSON length', () => {
      assert.equal(jsonSize('ab'), 4);
      assert.equal(jsonSize({ a: 1 }), 7);
    });

    it('resolves TTL arguments: functions, non-finite to the default, negatives and NaN to 0', () => {
      assert.equal(resolveTtl(100, 'v', 5), 100);
      assert.equal(
        resolveTtl((v: string) => v.length, 'abc', 5),
        3,
      );
      assert.equal(resolveTtl(Number.POSITIVE_INFINITY, 'v', 5), 5);
      assert.equal(resolveTtl(-1, 'v', 5), 0);
      assert.equal(resolveTtl(Number.NaN, 'v', 5), 0);
    });
  });
});
