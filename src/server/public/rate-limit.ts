/**
 * Token buckets for the public listener: one per client address (bounded: the oldest bucket is
 * forgotten when the table is full) and one for all clients together. `take` answers how many
 * seconds to wait, 0 when the request may go ahead.
 */

interface Bucket {
  tokens: number;
  at: number;
}

export interface RateLimiter {
  /** 0 when `client` may make a request now, else the seconds until it may (Retry-After). */
  take(client: string, now?: number): number;
}

export interface RateLimitOptions {
  readonly perClientPerSecond: number;
  readonly burst: number;
  readonly totalPerSecond: number;
  /** Client buckets kept (default 10,000). */
  readonly maxClients?: number;
}

export function createRateLimiter(options: RateLimitOptions): RateLimiter {
  const maxClients = options.maxClients ?? 10_000;
  const clients = new Map<string, Bucket>();
  const total: Bucket = { tokens: options.totalPerSecond, at: Date.now() };
  const refill = (b: Bucket, rate: number, cap: number, now: number) => {
    b.tokens = Math.min(cap, b.tokens + ((now - b.at) / 1000) * rate);
    b.at = now;
  };
  const wait = (b: Bucket, rate: number) => Math.max(1, Math.ceil((1 - b.tokens) / rate));
  return {
    take(client, now = Date.now()) {
      let bucket = clients.get(client);
      if (bucket) clients.delete(client);
      else {
        if (clients.size >= maxClients) {
          const oldest = clients.keys().next().value;
          if (oldest !== undefined) clients.delete(oldest);
        }
        bucket = { tokens: options.burst, at: now };
      }
      clients.set(client, bucket);
      refill(bucket, options.perClientPerSecond, options.burst, now);
      refill(total, options.totalPerSecond, options.totalPerSecond, now);
      if (bucket.tokens < 1) return wait(bucket, options.perClientPerSecond);
      if (total.tokens < 1) return wait(total, options.totalPerSecond);
      bucket.tokens -= 1;
      total.tokens -= 1;
      return 0;
    },
  };
}
