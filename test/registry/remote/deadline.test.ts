/**
 * Transport.deadline: the caller's signal combined with the request timeout, made once per caller
 * signal and timeout slice (one AbortSignal.any per image, not per registry operation).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Transport } from '../../../src/registry/remote/transport.js';

describe('Transport.deadline', () => {
  it('combines a caller signal once per timeout slice, and still follows both sources', async () => {
    const transport = new Transport({ requestTimeoutMs: 200 });
    try {
      const image = new AbortController();
      const first = transport.deadline(image.signal);
      assert.equal(transport.deadline(image.signal), first, 'the same caller signal: the same combination');
      const other = new AbortController();
      assert.notEqual(transport.deadline(other.signal), first, 'another caller gets its own');
      image.abort(new Error('image deadline'));
      assert.equal(first.aborted, true);
      assert.equal((first.reason as Error).message, 'image deadline');
      assert.equal(transport.deadline(other.signal).aborted, false, 'one caller aborting leaves the other');
      // the request timeout (200 ms, plus its slice of 20) ends the other caller's operations
      const pending = transport.deadline(other.signal);
      await new Promise((resolve) => pending.addEventListener('abort', resolve, { once: true }));
      assert.equal((pending.reason as Error).name, 'TimeoutError');
      assert.equal(other.signal.aborted, false, "the caller's own signal is not aborted by the timeout");
      // a new slice after the timeout fired: a fresh, live combination
      assert.equal(transport.deadline(other.signal).aborted, false);
    } finally {
      await transport.close();
    }
  });
});
