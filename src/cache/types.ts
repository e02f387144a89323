/**
 * The Cache seam. Values are JSON-serialisable (a Redis implementation stores them as JSON).
 * Keys name everything the value depends on (for decisions: subject digest, policy generation,
 * trust-material generation). Concurrent misses of one key share one computation.
 */
export interface Cache {
  get<T>(key: string): Promise<T | undefined>;
  set<T>(key: string, value: T, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
  /**
   * Returns the cached value or computes it once for all concurrent callers (single-flight).
   * `ttlMs(value)` lets the caller keep negative results for a shorter time; 0 means do not cache.
   */
  getOrCompute<T>(key: string, ttlMs: number | ((value: T) => number), compute: () => Promise<T>): Promise<T>;
  /**
   * Optional synchronous read of the in-process layer only (no I/O, counted like `get`): the
   * server's warm path answers a hit without a promise per key. Undefined on a miss (not counted:
   * the caller's getOrCompute counts it), or when the value lives only in a shared layer.
   */
  peek?<T>(key: string): T | undefined;
}
