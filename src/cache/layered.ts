/**
 * Memory in front of Redis. Reads try memory, then Redis (copying a Redis hit into memory for the
 * rest of its lifetime); writes go to both. Concurrent misses of one key share one computation.
 *
 * Redis is an optimisation, never a dependency: when a Redis command fails or Redis is not
 * connected, the cache carries on with memory alone, says so through `status()` (shown by /ready),
 * logs once per transition, and counts the error. It does not call Redis again until the backoff has
 * passed or the connection reports ready. A cache failure never produces a value: the caller's
 * computation runs instead, so nothing can "fail open" here.
 *
 * Keys for credentials stay local: a key whose namespace is `token:`, `auth:`, `credential:` or
 * `secret:` (or that `isLocalOnly` picks) is never sent to Redis (ARCHITECTURE, "Credentials stay
 * in the process that uses them").
 */
import type { Logger } from '../observability/logger.js';
import { silentLogger } from '../observability/logger.js';
import type { MemoryCache } from './memory.js';
import { resolveTtl } from './memory.js';
import type { RedisCache, RedisHealth } from './redis.js';
import type { Cache } from './types.js';

/** The cache layers, as metrics label them. */
export type CacheLayer = 'memory' | 'redis';

/** Receives cache events for metrics; every method is optional. */
export interface CacheObserver {
  lookup?(layer: CacheLayer, hit: boolean): void;
  error?(layer: CacheLayer, operation: 'get' | 'set' | 'delete'): void;
  degraded?(degraded: boolean): void;
}

/** What /ready shows about the cache. */
export interface LayeredCacheStatus {
  readonly layers: readonly CacheLayer[];
  /** True while Redis is configured but not used (unreachable or backing off). */
  readonly degraded: boolean;
  readonly redis: RedisHealth;
  readonly lastError?: string;
}

export interface LayeredCacheOptions {
  readonly memory: MemoryCache;
  readonly redis: RedisCache;
  readonly logger?: Logger;
  readonly observer?: CacheObserver;
  /** After a Redis error, how long to use memory alone before trying Redis again (default 5 s). */
  readonly backoffMs?: number;
  /** Keys that must never leave the process; the default matches credential namespaces. */
  readonly isLocalOnly?: (key: string) => boolean;
  /** TTL used when a caller passes a non-finite TTL (default 5 minutes). */
  readonly defaultTtlMs?: number;
}

export type LayeredCache = Cache & {
  status(): LayeredCacheStatus;
  close(): Promise<void>;
};

const LOCAL_ONLY = /^(token|auth|credential|secret)s?:/i;

/** The default test for keys that must not be written to a shared cache. */
export function isCredentialKey(key: string): boolean {
  return LOCAL_ONLY.test(key);
}

/** Creates the memory-then-Redis cache. */
export function createLayeredCache(options: LayeredCacheOptions): LayeredCache {
  const { memory, redis } = options;
  const logger = (options.logger ?? silentLogger).child({ component: 'cache' });
  const observer = options.observer ?? {};
  const backoffMs = options.backoffMs ?? 5000;
  const isLocalOnly = options.isLocalOnly ?? isCredentialKey;
  const defaultTtlMs = options.defaultTtlMs ?? 5 * 60 * 1000;
  let suspendedUntil = 0;
  let degraded = redis.health() !== 'ready';
  let lastError: string | undefined;
  const inflight = new Map<string, Promise<unknown>>();

  const markDegraded = (next: boolean, reason?: string): void => {
    if (reason) lastError = reason;
    if (next === degraded) return;
    degraded = next;
    if (next) logger.warn({ error: reason }, 'shared cache unavailable: using the memory cache alone');
    else logger.info({}, 'shared cache available again');
    observer.degraded?.(next);
  };
  redis.onHealthChange((health) => {
    if (health === 'ready') {
      suspendedUntil = 0;
      markDegraded(false);
    } else markDegraded(true, `redis ${health}`);
  });
  // report the starting state so a gauge is right from the first scrape
  observer.degraded?.(degraded);

  const useRedis = (key: string): boolean =>
    !isLocalOnly(key) && redis.health() === 'ready' && Date.now() >= suspendedUntil;

  // A command can fail (a timeout under load, a paused server) while the connection stays up, so
  // no health event follows: the next command that succeeds is what ends that degraded spell.
  const redisAnswered = (): void => {
    if (degraded && redis.health() === 'ready') markDegraded(false);
  };

  const redisFailed = (operation: 'get' | 'set' | 'delete', err: unknown): void => {
    observer.error?.('redis', operation);
    suspendedUntil = Date.now() + backoffMs;
    markDegraded(true, (err as Error)?.message ?? String(err));
  };

  const readRedis = async <T>(key: string): Promise<T | undefined> => {
    if (!useRedis(key)) return undefined;
    try {
      const entry = await redis.getEntry<T>(key);
      redisAnswered();
      observer.lookup?.('redis', entry !== undefined);
      if (entry === undefined) return undefined;
      await memory.set(key, entry.value, entry.expiresAt - Date.now());
      return entry.value;
    } catch (err) {
      redisFailed('get', err);
      return undefined;
    }
  };

  const writeBoth = async (key: string, value: unknown, ttlMs: number): Promise<void> => {
    await memory.set(key, value, ttlMs);
    if (!useRedis(key)) return;
    try {
      await redis.set(key, value, ttlMs);
      redisAnswered();
    } catch (err) {
      redisFailed('set', err);
    }
  };

  const readMemory = async <T>(key: string): Promise<T | undefined> => {
    const value = await memory.get<T>(key);
    observer.lookup?.('memory', value !== undefined);
    return value;
  };

  return {
    async get<T>(key: string): Promise<T | undefined> {
      const local = await readMemory<T>(key);
      return local !== undefined ? local : await readRedis<T>(key);
    },
    peek<T>(key: string): T | undefined {
      const value = memory.peek<T>(key);
      // a miss is counted by the getOrCompute that follows it
      if (value !== undefined) observer.lookup?.('memory', true);
      return value;
    },
    async set<T>(key: string, value: T, ttlMs: number): Promise<void> {
      await writeBoth(key, value, resolveTtl(ttlMs, value, defaultTtlMs));
    },
    async delete(key: string): Promise<void> {
      inflight.delete(key);
      await memory.delete(key);
      if (isLocalOnly(key) || redis.health() !== 'ready') return;
      try {
        await redis.delete(key);
        redisAnswered();
      } catch (err) {
        redisFailed('delete', err);
      }
    },
    async getOrCompute<T>(
      key: string,
      ttl: number | ((value: T) => number),
      compute: () => Promise<T>,
    ): Promise<T> {
      const local = await readMemory<T>(key);
      if (local !== undefined) return local;
      const running = inflight.get(key);
      if (running) return running as Promise<T>;
      const run = async (): Promise<T> => {
        const shared = await readRedis<T>(key);
        if (shared !== undefined) return shared;
        const value = await compute();
        if (inflight.get(key) === promise) await writeBoth(key, value, resolveTtl(ttl, value, defaultTtlMs));
        return value;
      };
      // run starts in a later microtask, so `promise` is registered before it is read
      const promise: Promise<T> = Promise.resolve()
        .then(run)
        .finally(() => {
          if (inflight.get(key) === promise) inflight.delete(key);
        });
      inflight.set(key, promise);
      return promise;
    },
    status(): LayeredCacheStatus {
      return {
        layers: degraded ? ['memory'] : ['memory', 'redis'],
        degraded,
        redis: redis.health(),
        ...(lastError === undefined ? {} : { lastError }),
      };
    },
    close: () => redis.close(),
  };
}
