/**
 * Fault: the registry (real distribution 2.8) is killed (SIGKILL) in the middle of a cold batch
 * and restarted on the same port and storage a few seconds later.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { cosignConfig, createSignedImages, type SignedImages } from '../server/harness.js';
import {
  allowed,
  assertNeverAllowed,
  reportRecovery,
  sleep,
  startVouch,
  timeToRecover,
  type VouchUnderTest,
  verify,
  watchServing,
} from './fault-harness.js';

const SIGNED = 24;
const UNSIGNED = 4;

describe('when the registry is killed in the middle of a cold batch and restarted', {
  timeout: 60_000,
}, () => {
  let registry: TestRegistry;
  let images: SignedImages;
  let vouch: VouchUnderTest;
  let signedKeys: string[];
  let unsignedKeys: string[];
  let warmKey: string;

  before(async () => {
    registry = await startRegistry();
    images = await createSignedImages(registry.host);
    signedKeys = [];
    unsignedKeys = [];
    for (let i = 0; i < SIGNED; i++) {
      await images.push(`cold${i}`, 'v1', true);
      signedKeys.push(`${registry.host}/cold${i}:v1`);
    }
    for (let i = 0; i < UNSIGNED; i++) {
      await images.push(`bare${i}`, 'v1', false);
      unsignedKeys.push(`${registry.host}/bare${i}:v1`);
    }
    await images.push('warm', 'v1', true);
    warmKey = `${registry.host}/warm:v1`;
    vouch = await startVouch(cosignConfig([registry.host], images.publicKeyFile));
  });
  after(async () => {
    await vouch?.stop();
    await images?.close();
    await registry?.stop();
  });

  it('never allows an unsigned image, keeps serving health and warm decisions, and decides every image once it is back', async () => {
    const { client, vouch: server } = vouch;
    const denied = new Set(unsignedKeys);
    const warm = await verify(client, server.url, [warmKey]);
    assert.ok(allowed(warm.items[0]), `warm image not allowed: ${JSON.stringify(warm.items[0])}`);

    // unsigned keys spread through the batch, so some are in flight when the registry dies
    const batch = signedKeys.flatMap((k, i) =>
      i % 6 === 5 ? [k, unsignedKeys[(i - 5) / 6] as string] : [k],
    );
    const watch = watchServing(client, server.url, warmKey);
    const cold = verify(client, server.url, batch);
    await sleep(250);
    await registry.kill();
    const killedAt = performance.now();
    const during = await cold;
    assertNeverAllowed(during, denied, 'the batch the registry died in');
    const decidedBefore = during.items.filter((i) => i.value).length;
    const undecided = during.items.filter((i) => i.error !== undefined);
    // a batch with undecided images carries systemError, so Gatekeeper caches none of it
    if (undecided.length > 0) assert.match(during.systemError ?? '', /could not be decided/);

    // while it is down: every new attempt is an error or a denial, never an allow
    let downAttempts = 0;
    while (performance.now() - killedAt < 3000) {
      const res = await verify(client, server.url, [...unsignedKeys, ...signedKeys.slice(-4)]);
      assertNeverAllowed(res, denied, 'while the registry is down');
      downAttempts++;
      await sleep(200);
    }
    const serving = await watch.stop();

    const restarting = performance.now();
    await registry.restart();
    const restartedAt = performance.now();
    let last: Awaited<ReturnType<typeof verify>> | undefined;
    let attempts = 0;
    const recoveryMs = await timeToRecover(restartedAt, async () => {
      attempts++;
      last = await verify(client, server.url, batch);
      assertNeverAllowed(last, denied, 'after the restart');
      return last.items.every((item) => (denied.has(item.key) ? item.value !== undefined : allowed(item)));
    });
    // the true decision for everything: signed allowed, unsigned denied (a value, not an error)
    for (const item of last?.items ?? []) {
      assert.equal(allowed(item), !denied.has(item.key), `${item.key}: ${JSON.stringify(item)}`);
    }
    reportRecovery('registry-restart', {
      batch: batch.length,
      decidedBeforeKill: decidedBefore,
      undecidedInBatch: undecided.length,
      batchMs: during.ms,
      downAttempts,
      servingRounds: serving.rounds,
      maxHealthMs: serving.maxHealthMs,
      maxWarmMs: serving.maxWarmMs,
      registryStartMs: restartedAt - restarting,
      recoveryAttempts: attempts,
      recoveryMs,
    });
    assert.deepEqual(serving.failures, [], 'health or warm decision failed while the registry was down');
    assert.ok(serving.rounds >= 5, `only ${serving.rounds} serving rounds`);
  });
});
