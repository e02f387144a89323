/**
 * Which registry request goes first when a host's requests in flight are at their bound.
 *
 * A cold batch (Gatekeeper asks for 100 images at once) is bounded by the registry: every image
 * needs five rounds of requests, and first come first served makes each round of every image
 * wait behind the previous round of all of them, so all images finish together at the very end —
 * and when that end is past the request's budget, every key times out. Served by priority
 * instead (lower first: the server numbers images in the order it started them), the images
 * started first finish first, one after another, at the same total throughput: a budget that
 * runs out cuts off the last images, not all of them.
 *
 * The priority travels with the async context (AsyncLocalStorage), so the engine, discovery and
 * verifiers between the server and the transport need not pass it along. Requests made outside
 * any priority (the CLI, one image) come after prioritised ones only when both wait.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

const context = new AsyncLocalStorage<number>();

/** Priority of requests made outside `withRegistryPriority`. */
export const DEFAULT_PRIORITY = Number.MAX_SAFE_INTEGER;

/** Runs `fn` with registry requests made under it (however deep) queued at `priority`. */
export function withRegistryPriority<T>(priority: number, fn: () => T): T {
  return context.run(priority, fn);
}

/** The priority of the current async context. */
export function currentRegistryPriority(): number {
  return context.getStore() ?? DEFAULT_PRIORITY;
}

interface Waiter {
  readonly priority: number;
  readonly seq: number;
  readonly grant: () => void;
}

/**
 * A counting semaphore per key (registry host) whose waiters are served by priority (lower
 * first), then in arrival order. A finishing task hands its slot straight to the next waiter.
 */
export class PriorityKeyedLimiter {
  readonly #limit: number;
  readonly #active = new Map<string, number>();
  readonly #waiting = new Map<string, Waiter[]>();
  #seq = 0;

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`concurrency limit must be a positive integer, got ${limit}`);
    this.#limit = limit;
  }

  /** Runs `task` when `key` has a free slot; waiting stops when `signal` aborts. */
  async run<T>(
    key: string,
    signal: AbortSignal,
    task: () => Promise<T>,
    priority = currentRegistryPriority(),
  ): Promise<T> {
    await this.#acquire(key, signal, priority);
    try {
      return await task();
    } finally {
      this.#release(key);
    }
  }

  #acquire(key: string, signal: AbortSignal, priority: number): Promise<void> {
    const active = this.#active.get(key) ?? 0;
    if (active < this.#limit) {
      this.#active.set(key, active + 1);
      return Promise.resolve();
    }
    signal.throwIfAborted();
    return new Promise<void>((resolve, reject) => {
      let queue = this.#waiting.get(key);
      if (!queue) {
        queue = [];
        this.#waiting.set(key, queue);
      }
      const waiter: Waiter = {
        priority,
        seq: this.#seq++,
        grant: () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        const list = this.#waiting.get(key);
        const i = list ? list.indexOf(waiter) : -1;
        if (list && i >= 0) list.splice(i, 1);
        reject(signal.reason);
      };
      // binary search for the first waiter that comes after this one
      let lo = 0;
      let hi = queue.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        const other = queue[mid] as Waiter;
        if (other.priority < priority || (other.priority === priority && other.seq < waiter.seq))
          lo = mid + 1;
        else hi = mid;
      }
      queue.splice(lo, 0, waiter);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  #release(key: string): void {
    const queue = this.#waiting.get(key);
    const next = queue?.shift();
    if (next) {
      if (queue?.length === 0) this.#waiting.delete(key);
      next.grant(); // the slot passes straight to the next waiter
      return;
    }
    const active = (this.#active.get(key) ?? 1) - 1;
    if (active === 0) this.#active.delete(key);
    else this.#active.set(key, active);
  }
}
