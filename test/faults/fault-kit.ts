/**
 * What every fault test of this folder asserts, in one place: Gatekeeper requests to the real
 * server (test/server/harness.ts, HTTPS with a client certificate), the "still serving" probe
 * (health and a warm cached decision answer within a deadline while the fault lasts) and the
 * recovery clock (how long after the fault ends the true decision is back).
 */
import assert from 'node:assert/strict';
import type { TestClient } from '../server/harness.js';

export interface Item {
  readonly key: string;
  readonly value?: { readonly isSuccess: boolean; readonly allowed?: boolean; readonly digest?: string };
  readonly error?: string;
}
export interface ProviderAnswer {
  readonly status: number;
  readonly items: Item[];
  readonly systemError?: string;
  readonly ms: number;
}

/** The budget of a validate request (server.budgets.validateMs default) plus slack for this machine. */
export const ANSWER_WITHIN_MS = 2800 + 1200;
/** Health and a warm cached decision must answer within this while a fault lasts. */
export const WARM_WITHIN_MS = 1000;

export const providerRequest = (keys: readonly string[]) => ({
  apiVersion: 'externaldata.gatekeeper.sh/v1beta1',
  kind: 'ProviderRequest',
  request: { keys },
});

/** POSTs a ProviderRequest to `path` (verify or mutate) and times it. */
export async function provider(
  client: TestClient,
  url: string,
  keys: readonly string[],
  path = '/gatekeeper/v1/verify',
): Promise<ProviderAnswer> {
  const started = performance.now();
  const res = await client.post(`${url}${path}`, providerRequest(keys));
  const ms = performance.now() - started;
  const body = res.json as { response?: { items?: Item[]; systemError?: string } };
  return {
    status: res.status,
    items: body.response?.items ?? [],
    ...(body.response?.systemError ? { systemError: body.response.systemError } : {}),
    ms,
  };
}

/** True only for an item that allows the image. */
export const allows = (item: Item | undefined): boolean => item?.value?.isSuccess === true;

/**
 * The server keeps serving while a fault lasts: /health and the warm key (decided and cached
 * before the fault) both answer within WARM_WITHIN_MS, the warm key still allowed.
 */
export async function assertStillServing(client: TestClient, url: string, warmKey: string): Promise<number> {
  const started = performance.now();
  const [health, warm] = await Promise.all([client.get(`${url}/health`), provider(client, url, [warmKey])]);
  const ms = performance.now() - started;
  assert.equal(health.status, 200, 'health answers during the fault');
  assert.ok(allows(warm.items[0]), `the warm decision still allows: ${JSON.stringify(warm.items[0])}`);
  assert.ok(ms < WARM_WITHIN_MS, `health and the warm decision took ${Math.round(ms)} ms during the fault`);
  return ms;
}

/**
 * Polls `check` every `everyMs` until it is true; returns the milliseconds from the call (the
 * moment the fault ended) to the first true. Fails after `timeoutMs`: a transient answer that was
 * cached as final (or a server that never recovers) shows up here.
 */
export async function timeToRecover(
  check: () => Promise<boolean>,
  timeoutMs: number,
  everyMs = 100,
): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await check()) return performance.now() - started;
    const elapsed = performance.now() - started;
    if (elapsed > timeoutMs) assert.fail(`not recovered ${Math.round(elapsed)} ms after the fault ended`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** One line per measured recovery, collected by the suite's report. */
export function logRecovery(file: string, fault: string, ms: number, extra = ''): void {
  console.log(
    `[fault-suite] ${file}: ${fault}: recovered in ${Math.round(ms)} ms${extra ? ` (${extra})` : ''}`,
  );
}
