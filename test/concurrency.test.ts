/**
 * The concurrency bounds (src/concurrency.ts) that the engine, discovery, the remote client's
 * per-host bound and the index writers share.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createKeyedQueue, createLimiter, KeyedLimiter } from '../src/concurrency.js';

/** A task that reports how many run at once, finishing when `release` is called. */
function gauge() {
  let running = 0;
  let peak = 0;
  const started: number[] = [];
  const releases: Array<() => void> = [];
  const task = (id: number) => async () => {
    running += 1;
    peak = Math.max(peak, running);
    started.push(id);
    await new Promise<void>((resolve) => releases.push(resolve));
    running -= 1;
    return id;
  };
  return { task, started, releases, peak: () => peak };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('createLimiter', () => {
  it('runs at most max tasks at once, the rest in arrival order', async () => {
    const limit = createLimiter(2);
    const g = gauge();
    const results = [1, 2, 3, 4, 5].map((id) => limit(g.task(id)));
    await tick();
    assert.deepEqual(g.started, [1, 2]);
    while (g.started.length < 5 || g.releases.length > 0) {
      g.releases.shift()?.();
      await tick();
    }
    assert.deepEqual(await Promise.all(results), [1, 2, 3, 4, 5]);
    assert.deepEqual(g.started, [1, 2, 3, 4, 5]);
    assert.equal(g.peak(), 2);
  });

  it('frees the slot of a task that throws', async () => {
    const limit = createLimiter(1);
    await assert.rejects(
      limit(async () => {
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.equal(await limit(async () => 'next'), 'next');
  });

  it('refuses a bound that is not a positive integer (it would wait forever)', () => {
    assert.throws(() => createLimiter(0), RangeError);
  });
});

describe('KeyedLimiter', () => {
  it('bounds each key separately', async () => {
    const limiter = new KeyedLimiter(1);
    const signal = new AbortController().signal;
    const a = gauge();
    const b = gauge();
    const runs = [
      limiter.run('a', signal, a.task(1)),
      limiter.run('a', signal, a.task(2)),
      limiter.run('b', signal, b.task(3)),
    ];
    await tick();
    assert.deepEqual([a.started, b.started], [[1], [3]]);
    a.releases.shift()?.();
    b.releases.shift()?.();
    await tick();
    a.releases.shift()?.();
    assert.deepEqual(await Promise.all(runs), [1, 2, 3]);
  });

  it('stops waiting when the signal aborts, and the aborted task never runs', async () => {
    const limiter = new KeyedLimiter(1);
    const g = gauge();
    const first = limiter.run('h', new AbortController().signal, g.task(1));
    const controller = new AbortController();
    const second = limiter.run('h', controller.signal, g.task(2));
    controller.abort(new Error('deadline'));
    await assert.rejects(second, /deadline/);
    await tick();
    g.releases.shift()?.();
    assert.equal(await first, 1);
    assert.deepEqual(g.started, [1]);
  });
});

describe('createKeyedQueue', () => {
  it('runs tasks of one key one after another, other keys alongside, past failures', async () => {
    const queue = createKeyedQueue();
    const g = gauge();
    const x1 = queue('x', g.task(1));
    const x2 = queue('x', async () => {
      throw new Error('x2 failed');
    });
    const x3 = queue('x', g.task(3));
    const y = queue('y', g.task(4));
    await tick();
    assert.deepEqual(g.started, [1, 4]);
    g.releases.shift()?.();
    await assert.rejects(x2, /x2 failed/);
    await tick();
    assert.deepEqual(g.started, [1, 4, 3]);
    g.releases.shift()?.();
    g.releases.shift()?.();
    assert.deepEqual(await Promise.all([x1, x3, y]), [1, 3, 4]);
  });
});
