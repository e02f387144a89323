/**
 * Fault: 429 storms with Retry-After. The real registry sits behind a fake — the hand-written
 * fault server (test/helpers/fault-server.ts) used as a forwarding proxy — that, while a storm
 * lasts, answers every registry request with 429 Too Many Requests and a Retry-After header
 * instead of forwarding it: first a short one vouch honours (1 s), then one longer than vouch
 * waits (1 hour).
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { type FaultServer, startFaultServer } from '../helpers/fault-server.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { cosignConfig, createSignedImages, type SignedImages } from '../server/harness.js';
import {
  allowed,
  assertNeverAllowed,
  reportRecovery,
  sleep,
  startVouch,
  timeToRecover,
  type Verdicts,
  type VouchUnderTest,
  verify,
  watchServing,
} from './fault-harness.js';

const SIGNED = 12;
const UNSIGNED = 6;

describe('when the registry answers a storm of 429s with Retry-After', { timeout: 60_000 }, () => {
  let registry: TestRegistry;
  let fake: FaultServer;
  let images: SignedImages;
  let vouch: VouchUnderTest;
  /** The Retry-After of the storm in progress, or undefined: forward to the real registry. */
  let storm: string | undefined;
  let throttled = 0;
  const signedKeys: string[] = [];
  const unsignedKeys: string[] = [];
  let warmKey: string;

  before(async () => {
    registry = await startRegistry();
    const [, port] = registry.host.split(':');
    fake = await startFaultServer((req, res) => {
      if (storm !== undefined) {
        throttled++;
        req.resume();
        res.writeHead(429, { 'retry-after': storm, 'content-type': 'application/json' });
        res.end('{"errors":[{"code":"TOOMANYREQUESTS","message":"rate limited (fault server)"}]}');
        return;
      }
      const upstream = httpRequest(
        { host: '127.0.0.1', port: Number(port), method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
    images = await createSignedImages(registry.host);
    for (let i = 0; i < SIGNED; i++) {
      await images.push(`storm${i}`, 'v1', true);
      signedKeys.push(`${fake.host}/storm${i}:v1`);
    }
    for (let i = 0; i < UNSIGNED; i++) {
      await images.push(`bare${i}`, 'v1', false);
      unsignedKeys.push(`${fake.host}/bare${i}:v1`);
    }
    await images.push('warm', 'v1', true);
    warmKey = `${fake.host}/warm:v1`;
    vouch = await startVouch(cosignConfig([fake.host], images.publicKeyFile));
  });
  after(async () => {
    await vouch?.stop();
    await images?.close();
    await fake?.stop();
    await registry?.stop();
  });

  /** Verifies `keys` until all signed are allowed and all unsigned denied; ms since `since`. */
  const recover = async (since: number, keys: string[], denied: ReadonlySet<string>): Promise<number> => {
    let last: Verdicts | undefined;
    const ms = await timeToRecover(since, async () => {
      last = await verify(vouch.client, vouch.vouch.url, keys);
      assertNeverAllowed(last, denied, 'after the storm');
      return last.items.every((i) => (denied.has(i.key) ? i.value !== undefined : allowed(i)));
    });
    for (const item of last?.items ?? []) assert.equal(allowed(item), !denied.has(item.key), item.key);
    return ms;
  };

  // each storm has images of its own: the first storm's are decided (and cached) by its end
  for (const { retryAfter, name, first, count } of [
    { retryAfter: '1', name: 'honoured Retry-After (1 s)', first: 0, count: 6 },
    { retryAfter: '3600', name: 'Retry-After longer than vouch waits (1 h)', first: 6, count: 6 },
  ]) {
    it(`with ${name}: never allows an unsigned image, keeps serving, fails the batch transiently and decides it once the storm ends`, async () => {
      const { client, vouch: server } = vouch;
      const unsigned = unsignedKeys.slice(first / 2, first / 2 + 3);
      const denied = new Set(unsigned);
      assert.ok(allowed((await verify(client, server.url, [warmKey])).items[0]));
      const keys = [...signedKeys.slice(first, first + count), ...unsigned];
      throttled = 0;
      const watch = watchServing(client, server.url, warmKey);
      storm = retryAfter;
      const stormStarted = performance.now();
      const batches: Verdicts[] = [];
      try {
        while (performance.now() - stormStarted < 3500) {
          const res = await verify(client, server.url, keys);
          batches.push(res);
          assertNeverAllowed(res, denied, 'during the storm');
          // a throttled registry decides nothing, and says so transiently (Gatekeeper must not cache)
          for (const item of res.items)
            assert.equal(item.value, undefined, `${item.key} decided during the storm`);
          assert.match(res.systemError ?? '', /could not be decided/);
          assert.ok(res.ms < 3300, `a storm batch took ${Math.round(res.ms)} ms, past its budget`);
          await sleep(200);
        }
      } finally {
        storm = undefined;
      }
      const endedAt = performance.now();
      const throttledDuringStorm = throttled;
      const serving = await watch.stop();
      const recoveryMs = await recover(endedAt, keys, denied);
      const codes = new Set(batches.flatMap((b) => b.items.map((i) => (i.error ?? '').split(':')[0])));
      reportRecovery(`rate-limit-storm retry-after=${retryAfter}`, {
        batches: batches.length,
        keysPerBatch: keys.length,
        answered429: throttledDuringStorm,
        errorCodes: [...codes].join(','),
        maxBatchMs: Math.max(...batches.map((b) => b.ms)),
        servingRounds: serving.rounds,
        maxHealthMs: serving.maxHealthMs,
        maxWarmMs: serving.maxWarmMs,
        recoveryMs,
      });
      assert.deepEqual(serving.failures, [], 'health or warm decision failed during the storm');
      // bounded retries: single-flight plus at most 3 retries per request, not one per key and batch
      assert.ok(
        throttledDuringStorm <= batches.length * keys.length * 4 * 2,
        `${throttledDuringStorm} throttled requests for ${batches.length} batches`,
      );
      if (retryAfter === '3600') assert.ok(codes.has('REGISTRY_RATE_LIMITED'), [...codes].join(','));
    });
  }
});
