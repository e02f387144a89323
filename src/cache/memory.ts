/**
 * The in-process cache: an LRU bounded by entry count and by bytes (a value's size is the length of
 * its JSON, the same measure the Redis cache stores), each entry with its own TTL, and single-flight
 * `getOrCompute` so concurrent misses of one key share one computation.
 *
 * Values are kept by reference (no copy on get): the warm path answers tens of thousands of
 * decisions a second and a JSON round trip per hit would dominate it. Callers treat cached values as
 * immutable, exactly as they would a value decoded from Redis.
 */
import { LRUCache } from 'lru-cache';
import type { Cache } from './types.js';

/** Bounds and defaults of a memory cache. */
export interface MemoryCacheOptions {
  /** Most entries kept (default 10,000). */
  readonly maxEntries?: number;
  /** Most bytes kept, counted as JSON length (default 64 MiB). One value larger than this is not kept. */
  readonly maxBytes?: number;
  /** TTL used when a caller passes a non-finite TTL (default 5 minutes). */
  readonly defaultTtlMs?: number;
}

/** Counters since the cache was created, for metrics and /ready. */
export interface MemoryCacheStats {
  readonly entries: number;
  readonly bytes: number;
  readonly hits: number;
  readonly misses: number;
  /** Entries dropped to make room (not counting expiry). */
  readonly evictions: number;
  /** Computations running now (one per key however many callers wait on it). */
  readonly inflight: number;
}

export type MemoryCache = Cache & {
  peek<T>(key: string): T | undefined;
  stats(): MemoryCacheStats;
  /** Drops every entry (in-flight computations finish but are not stored). */
  clear(): void;
};

const DEFAULT_MAX_ENTRIES = 10_000;
const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;
const DEFAULT_TTL_MS = 5 * 60 * 1000;

/** Size of a value as stored: its JSON length (at least 1, lru-cache refuses 0). */
export function jsonSize(value: unknown): number {
  const json = JSON.stringify(value);
  return json === undefined ? 1 : Math.max(1, json.length);
}

/** Resolves a TTL argument to milliseconds; 0 or less means "do not cache". */
export function resolveTtl<T>(ttl: number | ((value: T) => number), value: T, fallback: number): number {
  const ms = typeof ttl === 'function' ? ttl(value) : ttl;
  if (Number.isNaN(ms)) return 0;
  if (!Number.isFinite(ms)) return fallback;
  return ms > 0 ? Math.ceil(ms) : 0;
}

/** Creates a bounded LRU + TTL cache. */
export function createMemoryCache(options: MemoryCacheOptions = {}): MemoryCache {
  const maxEntries = positive(options.maxEntries, DEFAULT_MAX_ENTRIES, 'maxEntries');
  const maxBytes = positive(options.maxBytes, DEFAULT_MAX_BYTES, 'maxBytes');
  const defaultTtlMs = positive(options.defaultTtlMs, DEFAULT_TTL_MS, 'defaultTtlMs');
  let hits = 0;
  let misses = 0;
  let evictions = 0;

  // Values are wrapped so a cached `null`/`false`/`0` is a hit, not a miss.
  const lru = new LRUCache<string, { value: unknown }>({
    max: maxEntries,
    maxSize: maxBytes,
    ttl: defaultTtlMs,
    allowStale: false,
    updateAgeOnGet: false,
    dispose: (_value, _key, reason) => {
      if (reason === 'evict') evictions++;
    },
  });
  const inflight = new Map<string, Promise<unknown>>();

  const read = (key: string): { value: unknown } | undefined => {
    const entry = lru.get(key);
    if (entry) hits++;
    else misses++;
    return entry;
  };

  const store = (key: string, value: unknown, ttlMs: number): void => {
    if (ttlMs <= 0 || value === undefined) {
      lru.delete(key);
      return;
    }
    const size = jsonSize(value);
    if (size > maxBytes) {
      lru.delete(key); // never keep an older value under a key whose new value did not fit
      return;
    }
    lru.set(key, { value }, { ttl: ttlMs, size });
  };

  return {
    async get<T>(key: string): Promise<T | undefined> {
      return read(key)?.value as T | undefined;
    },
    peek<T>(key: string): T | undefined {
      // a miss is not counted: the caller goes on to getOrCompute, which counts it
      const entry = lru.get(key);
      if (entry) hits++;
      return entry?.value as T | undefined;
    },
    async set<T>(key: string, value: T, ttlMs: number): Promise<void> {
      store(key, value, resolveTtl(ttlMs, value, defaultTtlMs));
    },
    async delete(key: string): Promise<void> {
      lru.delete(key);
      inflight.delete(key); // a computation started before the delete must not be stored after it
    },
    getOrCompute<T>(
      key: string,
      ttl: number | ((value: T) => number),
      compute: () => Promise<T>,
    ): Promise<T> {
      const hit = read(key);
      if (hit) return Promise.resolve(hit.value as T);
      const running = inflight.get(key);
      if (running) return running as Promise<T>;
      // compute runs in a later microtask, so the promise is registered before anything settles
      const promise: Promise<T> = Promise.resolve()
        .then(compute)
        .then((value) => {
          // store only if this computation is still the current one for the key (no delete/clear since)
          if (inflight.get(key) === promise) store(key, value, resolveTtl(ttl, value, defaultTtlMs));
          return value;
        })
        .finally(() => {
          if (inflight.get(key) === promise) inflight.delete(key);
        });
      inflight.set(key, promise);
      return promise;
    },
    stats(): MemoryCacheStats {
      return {
        entries: lru.size,
        bytes: lru.calculatedSize,
        hits,
        misses,
        evictions,
        inflight: inflight.size,
      };
    },
    clear(): void {
      lru.clear();
      inflight.clear();
    },
  };
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0)
    throw new RangeError(`memory cache ${name} must be a positive number`);
  return Math.floor(value);
}
