/**
 * Bounds on concurrent work, one implementation for every layer: a counting semaphore per key
 * (the remote client's per-host bound), a single semaphore (artifacts verified at once, images
 * discovered at once) and a per-key queue (read-modify-write of one index: the referrers tag
 * schema, an OCI layout's index.json). A finishing task hands its slot straight to the next
 * waiter, in arrival order, so a bound is never exceeded.
 */

/** A counting semaphore per key (e.g. a registry host, so one slow registry cannot take every socket). */
export class KeyedLimiter {
  readonly #limit: number;
  readonly #active = new Map<string, number>();
  readonly #waiting = new Map<string, Array<() => void>>();

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`concurrency limit must be a positive integer, got ${limit}`);
    this.#limit = limit;
  }

  /** Runs `task` when `key` has a free slot; waiting stops when `signal` aborts. */
  async run<T>(key: string, signal: AbortSignal, task: () => Promise<T>): Promise<T> {
    await this.#acquire(key, signal);
    try {
      return await task();
    } finally {
      this.#release(key);
    }
  }

  #acquire(key: string, signal: AbortSignal): Promise<void> {
    const active = this.#active.get(key) ?? 0;
    if (active < this.#limit) {
      this.#active.set(key, active + 1);
      return Promise.resolve();
    }
    signal.throwIfAborted();
    return new Promise<void>((resolve, reject) => {
      const queue = this.#waiting.get(key) ?? [];
      this.#waiting.set(key, queue);
      const onAbort = () => {
        const i = queue.indexOf(grant);
        if (i >= 0) queue.splice(i, 1);
        reject(signal.reason);
      };
      const grant = () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      queue.push(grant);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  #release(key: string): void {
    const next = this.#waiting.get(key)?.shift();
    if (next) {
      next(); // the slot passes straight to the next waiter
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
