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
 * any priority (the CLI, one image) come after prioritised ones only when both wait. The queue
 * itself is the `KeyedLimiter` of src/concurrency.ts, which orders its waiters by priority.
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
