/**
 * The shared cache: Redis through ioredis, so replicas behind one Service reuse each other's work
 * (decisions, manifests, referrer lists, DID documents, keys). Values are stored as JSON in an
 * envelope `{"v": value, "x": expiresAtEpochMs}` under `<prefix><key>` with a Redis PX expiry, so a
 * reader that copies a value into memory knows how long it may keep it.
 *
 * Every command is bounded: a short connect timeout, a short command timeout, no offline queue
 * (a command while disconnected fails at once instead of waiting), no per-command retries. A slow or
 * dead Redis therefore costs a caller a few hundred milliseconds at most, and the layered cache stops
 * asking it until it reconnects. Errors are thrown as `CACHE_UNAVAILABLE`; nothing here decides.
 *
 * Never give this cache registry tokens or credentials (ARCHITECTURE: "never written to a shared
 * cache"); the layered cache keeps such keys in memory only.
 */
import { Redis } from 'ioredis';
import { VouchError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { silentLogger } from '../observability/logger.js';
import { resolveTtl } from './memory.js';
import type { Cache } from './types.js';

/** How to reach Redis and how long to wait for it. */
export interface RedisCacheOptions {
  /** `redis://[user:pass@]host:port[/db]` or `rediss://…` for TLS. */
  readonly url: string;
  /** Prepended to every key (default `vouch:`), so one Redis can serve several deployments. */
  readonly keyPrefix?: string;
  /** Connect timeout in ms (default 500). */
  readonly connectTimeoutMs?: number;
  /** Per-command timeout in ms (default 250). */
  readonly commandTimeoutMs?: number;
  /** Values whose JSON is larger than this are not written (default 1 MiB). */
  readonly maxValueBytes?: number;
  /** TTL used when a caller passes a non-finite TTL (default 5 minutes). */
  readonly defaultTtlMs?: number;
  readonly logger?: Logger;
}

/** The connection states the server reports in /ready. */
export type RedisHealth = 'ready' | 'connecting' | 'down';

export type RedisCache = Cache & {
  /** Current connection state, without a round trip. */
  health(): RedisHealth;
  /** A PING bounded by the command timeout; true when Redis answered. */
  ping(): Promise<boolean>;
  /** Calls `listener` whenever the connection becomes ready or is lost. */
  onHealthChange(listener: (health: RedisHealth) => void): void;
  /** Closes the connection (pending replies are awaited briefly). */
  close(): Promise<void>;
  /** The stored envelope, for a caller that needs the remaining lifetime. */
  getEntry<T>(key: string): Promise<{ value: T; expiresAt: number } | undefined>;
};

interface Envelope {
  v: unknown;
  x: number;
}

/** Creates a Redis-backed cache. Connects in the background; `ping()` tells whether it is up. */
export function createRedisCache(options: RedisCacheOptions): RedisCache {
  const prefix = options.keyPrefix ?? 'vouch:';
  const commandTimeout = options.commandTimeoutMs ?? 250;
  const maxValueBytes = options.maxValueBytes ?? 1024 * 1024;
  const defaultTtlMs = options.defaultTtlMs ?? 5 * 60 * 1000;
  const logger = (options.logger ?? silentLogger).child({ component: 'cache', layer: 'redis' });
  const listeners: Array<(health: RedisHealth) => void> = [];
  let health: RedisHealth = 'connecting';
  let closed = false;

  const client = new Redis(options.url, {
    lazyConnect: false,
    connectTimeout: options.connectTimeoutMs ?? 500,
    commandTimeout,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResubscribe: false,
    // keep trying in the background, at most every 2 s; callers never wait on it
    retryStrategy: (times) => (closed ? null : Math.min(100 * times, 2000)),
  });

  const setHealth = (next: RedisHealth): void => {
    if (next === health) return;
    health = next;
    if (next === 'down')
      logger.warn({ redis: redactUrl(options.url) }, 'redis unreachable; caching in memory only');
    else if (next === 'ready') logger.info({ redis: redactUrl(options.url) }, 'redis connected');
    for (const listener of listeners) listener(next);
  };
  client.on('ready', () => setHealth('ready'));
  client.on('error', (err: Error) => {
    logger.debug({ error: err.message }, 'redis connection error');
    setHealth('down');
  });
  client.on('close', () => {
    if (!closed) setHealth('down');
  });
  client.on('end', () => setHealth('down'));

  const fail = (op: string, err: unknown): VouchError =>
    new VouchError('CACHE_UNAVAILABLE', `redis ${op} failed: ${(err as Error)?.message ?? String(err)}`, {
      cause: err,
    });

  const getEntry = async <T>(key: string): Promise<{ value: T; expiresAt: number } | undefined> => {
    let raw: string | null;
    try {
      raw = await client.get(prefix + key);
    } catch (err) {
      throw fail('GET', err);
    }
    if (raw === null) return undefined;
    const envelope = parseEnvelope(raw);
    if (!envelope) {
      logger.warn({ key }, 'redis held a value that is not a vouch cache entry; ignoring it');
      return undefined;
    }
    if (envelope.x <= Date.now()) return undefined;
    return { value: envelope.v as T, expiresAt: envelope.x };
  };

  const write = async (key: string, value: unknown, ttlMs: number): Promise<void> => {
    if (ttlMs <= 0 || value === undefined) {
      await remove(key);
      return;
    }
    const json = JSON.stringify({ v: value, x: Date.now() + ttlMs } satisfies Envelope);
    if (json.length > maxValueBytes) return;
    try {
      await client.set(prefix + key, json, 'PX', ttlMs);
    } catch (err) {
      throw fail('SET', err);
    }
  };

  const remove = async (key: string): Promise<void> => {
    try {
      await client.del(prefix + key);
    } catch (err) {
      throw fail('DEL', err);
    }
  };

  const inflight = new Map<string, Promise<unknown>>();

  return {
    async get<T>(key: string): Promise<T | undefined> {
      return (await getEntry<T>(key))?.value;
    },
    set: (key, value, ttlMs) => write(key, value, resolveTtl(ttlMs, value, defaultTtlMs)),
    delete: remove,
    getEntry,
    getOrCompute<T>(
      key: string,
      ttl: number | ((value: T) => number),
      compute: () => Promise<T>,
    ): Promise<T> {
      const running = inflight.get(key);
      if (running) return running as Promise<T>;
      const promise: Promise<T> = (async () => {
        const hit = await getEntry<T>(key);
        if (hit) return hit.value;
        const value = await compute();
        await write(key, value, resolveTtl(ttl, value, defaultTtlMs));
        return value;
      })().finally(() => inflight.delete(key));
      inflight.set(key, promise);
      return promise;
    },
    health: () => health,
    async ping(): Promise<boolean> {
      if (client.status !== 'ready') return false;
      try {
        return (await client.ping()) === 'PONG';
      } catch {
        return false;
      }
    },
    onHealthChange(listener) {
      listeners.push(listener);
    },
    async close(): Promise<void> {
      closed = true;
      try {
        if (client.status === 'ready') await client.quit();
        else client.disconnect();
      } catch {
        client.disconnect();
      }
    },
  };
}

function parseEnvelope(raw: string): Envelope | undefined {
  try {
    const parsed: unknown = JSON.parse(raw);
    if (typeof parsed === 'object' && parsed !== null && 'v' in parsed && 'x' in parsed) {
      const x = (parsed as { x: unknown }).x;
      if (typeof x === 'number' && Number.isFinite(x)) return { v: (parsed as { v: unknown }).v, x };
    }
  } catch {
    // fall through: not ours
  }
  return undefined;
}

/** The Redis URL without its password, for logs and /ready. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = 'redacted';
    return u.toString();
  } catch {
    return 'redis://(unparseable url)';
  }
}
