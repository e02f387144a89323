/**
 * The server's bound on images decided at once (`server.limits.imageConcurrency`): an image that
 * needs the registry runs as one task, which takes one slot and one computation deadline for all
 * of its work (its tag's HEAD and its verification), the deadline running from when the slot is
 * granted. Tasks with the same id running at once are one task, so duplicate keys hold no slots of
 * their own.
 *
 * Callers keep one rule that makes this deadlock-free: every single-flight computation a task may
 * wait on (the cache's `getOrCompute`) is started inside a task that already holds its slot, so a
 * task never waits on work that is itself waiting for a slot.
 */
import { createLimiter } from '../concurrency.js';

export interface ImageTaskOptions {
  /** Tasks running at once. */
  readonly concurrency: number;
  /** Deadline of one task, ms, from when it gets its slot. */
  readonly timeoutMs: number;
  /** Whether tasks with the same id share one run (the server's cache on); else each runs. */
  readonly shared: boolean;
}

/** A task as started: `joined` when this call shares a run another call started. */
export interface ImageTask<T> {
  readonly task: Promise<T>;
  readonly joined: boolean;
}

export type ImageTasks = <T>(id: string, work: (signal: AbortSignal) => Promise<T>) => ImageTask<T>;

/** A runner of image tasks bounded by `options.concurrency`. */
export function createImageTasks(options: ImageTaskOptions): ImageTasks {
  const limit = createLimiter(options.concurrency);
  const running = new Map<string, Promise<unknown>>();
  return <T>(id: string, work: (signal: AbortSignal) => Promise<T>): ImageTask<T> => {
    const run = () => limit(() => withDeadline(options.timeoutMs, work));
    if (!options.shared) return { task: run(), joined: false };
    const shared = running.get(id) as Promise<T> | undefined;
    if (shared) return { task: shared, joined: true };
    const task = run().finally(() => {
      if (running.get(id) === task) running.delete(id);
    });
    running.set(id, task);
    return { task, joined: false };
  };
}

/**
 * `fn` under a deadline of `ms`, like `AbortSignal.timeout(ms)`, but the timer is cleared as soon
 * as `fn` settles: a timeout signal lives until its timer fires, with every signal the registry
 * client derived from it (AbortSignal.any) — thousands of them under load, ~MiBs of heap
 * (docs/performance.md, "(d) Memory").
 */
async function withDeadline<T>(ms: number, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')),
    ms,
  );
  timer.unref();
  try {
    return await fn(controller.signal);
  } finally {
    clearTimeout(timer);
  }
}
