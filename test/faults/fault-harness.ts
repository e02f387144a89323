/**
 * What every fault test of issue #15 item 2 checks, around the real server (the in-process factory
 * of test/server/harness.ts, over HTTPS with mTLS) and the real registry:
 *
 * - nothing enforce would deny is allowed, during or after the fault (`assertNeverAllowed`);
 * - the server keeps serving: a health check and a warm, cached decision keep answering within
 *   their deadline while the fault lasts (`watchServing`);
 * - nothing transient is cached as a final answer: once the fault ends, the image tried during it
 *   gets its true decision (`timeToRecover`, with denials cached far longer than the test runs,
 *   so a cached transient denial would never recover);
 * - the time to recover is measured and printed (`reportRecovery`).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import type { Cache } from '../../src/cache/types.js';
import type { VouchConfigInput } from '../../src/config/schema.js';
import {
  createClient,
  createPki,
  type RunningServer,
  startServer,
  type TestClient,
  type TestPki,
} from '../server/harness.js';

/** One item of a ProviderResponse. */
export interface Item {
  readonly key: string;
  readonly value?: { readonly isSuccess: boolean; readonly allowed?: boolean };
  readonly error?: string;
}

export interface Verdicts {
  readonly status: number;
  readonly items: readonly Item[];
  readonly systemError?: string;
  readonly ms: number;
}

/** Health and a warm decision must answer within this (the validate budget is 2.8 s). */
export const SERVING_DEADLINE_MS = 1500;

/** Denials live longer than any fault test: a transient denial cached as final would never recover. */
export const LONG_NEGATIVE_TTL_SECONDS = 600;

export const allowed = (item: Item | undefined): boolean => item?.value?.isSuccess === true;

/** POST /gatekeeper/v1/verify with `keys`. */
export async function verify(client: TestClient, url: string, keys: readonly string[]): Promise<Verdicts> {
  const started = performance.now();
  const res = await client.post(`${url}/gatekeeper/v1/verify`, {
    apiVersion: 'externaldata.gatekeeper.sh/v1beta1',
    kind: 'ProviderRequest',
    request: { keys },
  });
  const ms = performance.now() - started;
  const body = res.json as { response?: { items?: Item[]; systemError?: string } };
  const systemError = body.response?.systemError;
  return {
    status: res.status,
    items: body.response?.items ?? [],
    ...(systemError ? { systemError } : {}),
    ms,
  };
}

/** Fails when any key of `denied` was allowed in `verdicts`. */
export function assertNeverAllowed(verdicts: Verdicts, denied: ReadonlySet<string>, when: string): void {
  for (const item of verdicts.items) {
    if (denied.has(item.key)) assert.ok(!allowed(item), `${when}: ${item.key} (unsigned) was allowed`);
  }
}

/** A server with mTLS, its client, and the PKI behind them. */
export interface VouchUnderTest {
  readonly vouch: RunningServer;
  readonly client: TestClient;
  readonly pki: TestPki;
  stop(): Promise<void>;
}

/** Starts the real server over HTTPS + mTLS with `config`, denials cached for 10 minutes. */
export async function startVouch(
  config: VouchConfigInput,
  server: Record<string, unknown> = {},
  options: { cache?: Cache } = {},
): Promise<VouchUnderTest> {
  const pki = await createPki();
  const serverCert = await pki.leaf('server');
  const clientCert = await pki.leaf('client');
  const caFile = path.join(pki.dir, 'ca.crt');
  const vouch = await startServer(
    config,
    {
      tls: { certFile: serverCert.cert, keyFile: serverCert.key, clientCaFile: caFile },
      cache: { negativeTtlSeconds: LONG_NEGATIVE_TTL_SECONDS },
      ...server,
    },
    options,
  );
  const client = await createClient(caFile, clientCert, 16);
  return {
    vouch,
    client,
    pki,
    async stop() {
      await client.close();
      await vouch.stop();
    },
  };
}

/** What `watchServing` saw. */
export interface ServingReport {
  readonly rounds: number;
  readonly maxHealthMs: number;
  readonly maxWarmMs: number;
  /** Rounds whose health check or warm decision failed or was late, with why. */
  readonly failures: readonly string[];
}

/**
 * Every `everyMs` until stopped (or `maxMs` passed, so a failed test cannot leave it running):
 * GET /health and verify `warmKey` (decided and cached before the fault), each within
 * SERVING_DEADLINE_MS.
 */
export function watchServing(
  client: TestClient,
  url: string,
  warmKey: string,
  everyMs = 150,
  maxMs = 30_000,
): { stop(): Promise<ServingReport> } {
  let stopped = false;
  const giveUp = setTimeout(() => {
    stopped = true;
  }, maxMs);
  giveUp.unref();
  let rounds = 0;
  let maxHealthMs = 0;
  let maxWarmMs = 0;
  const failures: string[] = [];
  const timed = async <T>(what: string, fn: () => Promise<T>): Promise<{ value?: T; ms: number }> => {
    const started = performance.now();
    const deadline = new Promise<'late'>((r) => setTimeout(() => r('late'), SERVING_DEADLINE_MS * 2).unref());
    try {
      const value = await Promise.race([fn(), deadline]);
      const ms = performance.now() - started;
      if (value === 'late') return { ms };
      return { value, ms };
    } catch (err) {
      failures.push(`${what}: ${(err as Error).message}`);
      return { ms: performance.now() - started };
    }
  };
  const loop = (async () => {
    while (!stopped) {
      rounds++;
      const [health, warm] = await Promise.all([
        timed('health', () => client.get(`${url}/health`)),
        timed('warm', () => verify(client, url, [warmKey])),
      ]);
      maxHealthMs = Math.max(maxHealthMs, health.ms);
      maxWarmMs = Math.max(maxWarmMs, warm.ms);
      if (health.ms > SERVING_DEADLINE_MS || health.value?.status !== 200)
        failures.push(`health: status ${health.value?.status} after ${Math.round(health.ms)} ms`);
      if (warm.ms > SERVING_DEADLINE_MS || !allowed(warm.value?.items[0]))
        failures.push(`warm: ${JSON.stringify(warm.value?.items[0])} after ${Math.round(warm.ms)} ms`);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    async stop() {
      stopped = true;
      clearTimeout(giveUp);
      await loop;
      return { rounds, maxHealthMs, maxWarmMs, failures };
    },
  };
}

/**
 * Repeats `attempt` every `everyMs` until it returns true, up to `timeoutMs`; resolves to the
 * milliseconds it took from `since` (the moment the fault ended).
 */
export async function timeToRecover(
  since: number,
  attempt: () => Promise<boolean>,
  timeoutMs = 15_000,
  everyMs = 100,
): Promise<number> {
  const end = since + timeoutMs;
  for (;;) {
    if (await attempt()) return performance.now() - since;
    if (performance.now() > end)
      throw new Error(`not recovered ${timeoutMs} ms after the fault ended (a transient answer cached?)`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Prints a measurement in one greppable line: `fault-recovery <fault> <name>=<value> …`. */
export function reportRecovery(fault: string, numbers: Record<string, number | string>): void {
  const fields = Object.entries(numbers).map(([k, v]) => `${k}=${typeof v === 'number' ? Math.round(v) : v}`);
  console.log(`fault-recovery ${fault} ${fields.join(' ')}`);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
