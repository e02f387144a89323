/**
 * The per-request deadline: one budget shared by every image of a request (ARCHITECTURE, "The
 * deadline is explicit"). When it ends, unfinished images get the per-key error `timeout`
 * (inconclusive); a timeout is never an allow.
 *
 * The API server tells an admission webhook how long it will wait (`?timeout=Ns`, protocols README
 * §3.1); the budget is then the smaller of the configured one and that minus a safety margin for
 * writing the answer.
 */

/** Time kept back from the caller's own timeout to serialise and send the answer. */
export const RESPONSE_MARGIN_MS = 200;

export interface Budget {
  /** Aborts (reason: TimeoutError) when the budget is spent. */
  readonly signal: AbortSignal;
  readonly ms: number;
  /** Milliseconds left. */
  remaining(): number;
  /** Stops the timer (call when the response is written). */
  dispose(): void;
}

/** Starts a budget of `ms` milliseconds. */
export function startBudget(ms: number): Budget {
  const controller = new AbortController();
  const deadline = performance.now() + ms;
  const timer = setTimeout(() => {
    controller.abort(new DOMException(`the ${ms} ms request budget ran out`, 'TimeoutError'));
  }, ms);
  timer.unref();
  return {
    signal: controller.signal,
    ms,
    remaining: () => Math.max(0, deadline - performance.now()),
    dispose: () => clearTimeout(timer),
  };
}

/** The admission budget: `configured`, shortened to the API server's `?timeout=` minus the margin. */
export function admissionBudgetMs(configured: number, timeoutQuery: unknown): number {
  if (typeof timeoutQuery !== 'string') return configured;
  const m = /^(\d+)s$/.exec(timeoutQuery);
  if (!m) return configured;
  const callerMs = Number(m[1]) * 1000 - RESPONSE_MARGIN_MS;
  return Math.max(50, Math.min(configured, callerMs));
}
