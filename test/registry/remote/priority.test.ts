import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyedLimiter } from '../../../src/concurrency.js';
import {
  currentRegistryPriority,
  DEFAULT_PRIORITY,
  withRegistryPriority,
} from '../../../src/registry/remote/priority.js';

const never = new AbortController().signal;

/** A task that records its start and finishes when released. */
function gate() {
  let open: () => void = () => {};
  const done = new Promise<void>((r) => {
    open = r;
  });
  return { open, done };
}

describe('registry request priority', () => {
  it('serves waiting requests lowest priority number first, then in arrival order', async () => {
    const limiter = new KeyedLimiter(1);
    const order: string[] = [];
    const first = gate();
    const running = limiter.run('h', never, async () => {
      order.push('first');
      await first.done;
    });
    const waiting = [
      ['late-b', 7],
      ['early', 1],
      ['late-a', 7],
      ['middle', 3],
    ].map(([name, p]) => limiter.run('h', never, async () => void order.push(name as string), p as number));
    first.open();
    await Promise.all([running, ...waiting]);
    assert.deepEqual(order, ['first', 'early', 'middle', 'late-b', 'late-a']);
  });

  it('takes the priority from the async context, through awaits', async () => {
    assert.equal(currentRegistryPriority(), DEFAULT_PRIORITY);
    const seen = await withRegistryPriority(4, async () => {
      await new Promise((r) => setTimeout(r, 1));
      return currentRegistryPriority();
    });
    assert.equal(seen, 4);
    const limiter = new KeyedLimiter(1);
    const order: number[] = [];
    const first = gate();
    const running = limiter.run('h', never, () => first.done);
    const waiting = [9, 2, 5].map((p) =>
      withRegistryPriority(p, () =>
        limiter.run('h', never, async () => void order.push(p), currentRegistryPriority()),
      ),
    );
    first.open();
    await Promise.all([running, ...waiting]);
    assert.deepEqual(order, [2, 5, 9]);
  });

  it('keeps hosts apart, and a waiter whose signal aborts leaves the queue', async () => {
    const limiter = new KeyedLimiter(1);
    const first = gate();
    const running = limiter.run('a', never, () => first.done);
    let otherHost = false;
    await limiter.run('b', never, async () => {
      otherHost = true;
    });
    assert.equal(otherHost, true, 'host b waited for host a');
    const abort = new AbortController();
    const aborted = limiter.run('a', abort.signal, async () => 'ran', 1);
    const after = limiter.run('a', never, async () => 'next', 2);
    abort.abort(new Error('gone'));
    await assert.rejects(aborted, /gone/);
    first.open();
    assert.equal(await after, 'next');
    await running;
  });
});
