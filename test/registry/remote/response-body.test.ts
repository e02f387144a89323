/**
 * The collected response body (src/registry/remote/response-body.ts) on its own: limits while
 * receiving, pausing until a reader comes, discarding without waiting, one read only. The same
 * body under real requests is exercised by faults.test.ts (oversize, truncation, slow drip) and
 * keepalive.test.ts (connections reused after discarded bodies).
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { isVouchError } from '../../../src/errors.js';
import { ResponseBody } from '../../../src/registry/remote/response-body.js';

/** A body with a recording source (what undici's controller would be told). */
function fed() {
  const calls: string[] = [];
  const body = new ResponseBody();
  body.attach({
    abort: (reason) => calls.push(`abort: ${reason.message || (reason as { code?: string }).code}`),
    pause: () => calls.push('pause'),
    resume: () => calls.push('resume'),
  });
  return { body, calls };
}

describe('ResponseBody', () => {
  it('gives all chunks as one copied buffer once the body ends', async () => {
    const { body } = fed();
    const first = Buffer.from('hello ');
    body.push(first);
    const reading = body.readAll(100);
    body.push(Buffer.from('world'));
    body.end();
    const bytes = await reading;
    assert.equal(bytes.toString(), 'hello world');
    first.fill(0); // the socket's buffer may be reused or kept: the body is a copy
    assert.equal(bytes.toString(), 'hello world');
  });

  it('fails with CONTENT_TOO_LARGE and aborts the request as soon as the bytes pass the limit', async () => {
    const { body, calls } = fed();
    const reading = body.readAll(10);
    body.push(Buffer.alloc(8));
    assert.deepEqual(calls, []);
    body.push(Buffer.alloc(8));
    await assert.rejects(reading, (err) => isVouchError(err, 'CONTENT_TOO_LARGE'));
    assert.equal(calls.length, 1);
    assert.match(String(calls.at(0)), /^abort/);
    body.push(Buffer.alloc(8)); // late chunks are ignored
    assert.equal(body.received, 16);
  });

  it('fails at once when more than the limit arrived before the read', async () => {
    const { body, calls } = fed();
    body.push(Buffer.alloc(20));
    await assert.rejects(body.readAll(10), (err) => isVouchError(err, 'CONTENT_TOO_LARGE'));
    assert.equal(calls.filter((c) => c.startsWith('abort')).length, 1);
  });

  it('pauses the socket past 1 MiB without a reader and resumes when one comes', async () => {
    const { body, calls } = fed();
    for (let i = 0; i < 17; i++) body.push(Buffer.alloc(64 * 1024));
    assert.deepEqual(calls, ['pause']);
    const reading = body.readAll(4 * 1024 * 1024);
    assert.deepEqual(calls, ['pause', 'resume']);
    body.end();
    assert.equal((await reading).byteLength, 17 * 64 * 1024);
  });

  it('passes on the transport error of a body that broke off', async () => {
    const { body } = fed();
    const reading = body.readAll(100);
    body.push(Buffer.from('par'));
    body.fail(new Error('other side closed'));
    await assert.rejects(reading, /other side closed/);
    assert.equal(body.received, 3);
  });

  it('readUpTo truncates, stops the request, and never rejects', async () => {
    const a = fed();
    const upTo = a.body.readUpTo(4);
    a.body.push(Buffer.from('0123456789'));
    assert.equal((await upTo).toString(), '0123');
    assert.equal(a.calls.filter((c) => c.startsWith('abort')).length, 1);
    const b = fed();
    const broken = b.body.readUpTo(100);
    b.body.fail(new Error('reset'));
    assert.equal((await broken).byteLength, 0);
  });

  it('discard drains a short rest and aborts a long one, without waiting', async () => {
    const short = fed();
    short.body.push(Buffer.alloc(100));
    await short.body.discard();
    short.body.push(Buffer.alloc(100));
    short.body.end();
    assert.deepEqual(short.calls, [], 'a short body drains: the connection is kept');
    const long = fed();
    await long.body.discard();
    long.body.push(Buffer.alloc(65 * 1024));
    assert.equal(long.calls.filter((c) => c.startsWith('abort')).length, 1);
  });

  it('can be read once', async () => {
    const { body } = fed();
    const first = body.readAll(10);
    await assert.rejects(body.readAll(10), (err) => isVouchError(err, 'INTERNAL'));
    body.end();
    assert.equal((await first).byteLength, 0);
  });

  it('reads a Node stream the same way', async () => {
    const ok = ResponseBody.fromStream(Readable.from([Buffer.from('ab'), Buffer.from('cd')]));
    assert.equal((await ok.readAll(10)).toString(), 'abcd');
    const big = ResponseBody.fromStream(Readable.from([Buffer.alloc(6), Buffer.alloc(6)]));
    await assert.rejects(big.readAll(10), (err) => isVouchError(err, 'CONTENT_TOO_LARGE'));
  });
});
