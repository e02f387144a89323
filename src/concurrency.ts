/**
 * Bounds on concurrent work, one implementation for every layer: a counting semaphore per key
 * (the remote client's per-host bound), a single semaphore (artifacts verified at once, images
 * discovered at once) and a per-key queue (read-modify-write of one index: the referrers tag
 * schema, an OCI layout's index.json). A finishing task hands its slot straight to the next
 * waiter (by priority, then in arrival order), so a bound is never exceeded.
 */

interface Waiter {
  readonly priority: number;
  readonly seq: number;
  readonly grant: () => void;
}

/**
 * A counting semaphore per key (e.g. a registry host, so one slow registry cannot take every
 * socket). Waiters are served by priority (lower first; the registry transport passes the
 * image's, see registry/remote/priority.ts), then in arrival order.
 */
export class KeyedLimiter {
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
  async run<T>(key: string, signal: AbortSignal, task: () => Promise<T>, priority = 0): Promise<T> {
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

/** A signal that never aborts, for waits that only the task's own deadline ends. */
const NEVER = new AbortController().signal;

/**
 * A counting semaphore: at most `max` tasks run at once, the rest wait in arrival order.
 * Throws RangeError unless `max` is a positive integer.
 */
export function createLimiter(max: number): <T>(task: () => Promise<T>) => Promise<T> {
  const limiter = new KeyedLimiter(max);
  return <T>(task: () => Promise<T>): Promise<T> => limiter.run('', NEVER, task);
}

/**
 * Runs tasks with the same key one after another (a per-key mutex within this process);
 * tasks with different keys run concurrently. A failed task does not stop the ones after it.
 */
export function createKeyedQueue(): <T>(key: string, task: () => Promise<T>) => Promise<T> {
  const tails = new Map<string, Promise<unknown>>();
  return <T>(key: string, task: () => Promise<T>): Promise<T> => {
    const next = (tails.get(key) ?? Promise.resolve()).then(task, task);
    const tail = next.then(
      () => undefined,
      () => undefined,
    );
    tails.set(key, tail);
    void tail.then(() => {
      if (tails.get(key) === tail) tails.delete(key);
    });
    return next;
  };
}
