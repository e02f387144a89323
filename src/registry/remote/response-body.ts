/**
 * A registry response body collected from undici's dispatcher callbacks instead of a Node stream.
 *
 * Every body vouch reads from a registry is read whole and under a limit (manifests, blobs, token
 * and error bodies), so a Readable per response bought nothing and cost about half the CPU of a
 * request: `bench/registry-client-cpu.ts` measured ~170 µs per GET with `undici.request` and its
 * body stream against ~86 µs with the dispatcher API, on the same registry. The chunks go into an
 * array; the reader gets them concatenated once, after the last one.
 *
 * Limits hold while receiving: a reader's limit fails the read (and aborts the request) as soon as
 * the bytes pass it, and until a reader comes, the socket is paused once `PREREAD_BYTES` are held.
 */
import type { Readable } from 'node:stream';
import { VouchError } from '../../errors.js';

/** What a body needs of the request under it (undici's DispatchController, or a stream's). */
export interface BodySource {
  abort(reason: Error): void;
  pause(): void;
  resume(): void;
}

/** Bytes held before a reader asks for them; past this the socket is paused. */
const PREREAD_BYTES = 1024 * 1024;
/** What a discarded body may still drain (so its keep-alive connection is reused); past it, aborted. */
const DRAIN_BYTES = 64 * 1024;

interface Reader {
  readonly limit: number;
  /** Resolve with what arrived up to `limit` and stop, instead of failing past it (error bodies). */
  readonly truncate: boolean;
  readonly resolve: (bytes: Buffer) => void;
  readonly reject: (err: Error) => void;
}

export class ResponseBody {
  #chunks: Buffer[] = [];
  #received = 0;
  #state: 'open' | 'ended' | 'failed' | 'discarded' = 'open';
  #error: Error | undefined;
  #source: BodySource | undefined;
  #paused = false;
  #reader: Reader | undefined;
  /** Released unread: later bytes are dropped while a short rest drains. */
  #discarding = false;

  /** The body of a Node stream (tests, and anything not from the dispatcher), read the same way. */
  static fromStream(stream: Readable): ResponseBody {
    const body = new ResponseBody();
    body.attach({
      abort: (reason) => stream.destroy(reason),
      pause: () => stream.pause(),
      resume: () => stream.resume(),
    });
    stream.on('data', (chunk: Buffer | string) =>
      body.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk)),
    );
    stream.once('end', () => body.end());
    stream.once('error', (err) => body.fail(err));
    stream.once('close', () => {
      if (body.#state === 'open') body.fail(new Error('the stream closed before its end'));
    });
    return body;
  }

  /** Bytes received so far. */
  get received(): number {
    return this.#received;
  }

  /** True once the last byte arrived (or the body failed or was discarded). */
  get done(): boolean {
    return this.#state !== 'open';
  }

  // ---- fed by the request -------------------------------------------------------------------

  attach(source: BodySource): void {
    this.#source = source;
  }

  push(chunk: Buffer): void {
    if (this.#state !== 'open') return;
    this.#received += chunk.byteLength;
    const reader = this.#reader;
    if (reader && this.#received > reader.limit) {
      if (reader.truncate) {
        this.#chunks.push(chunk);
        this.#finish(reader, Buffer.concat(this.#chunks).subarray(0, reader.limit));
        this.#stop(new Error('the body passed what its reader wanted'));
        return;
      }
      this.#reader = undefined;
      this.#chunks = [];
      this.#state = 'failed';
      const err = new VouchError('CONTENT_TOO_LARGE', '');
      this.#error = err;
      this.#source?.abort(err);
      reader.reject(err);
      return;
    }
    if (this.#discarding) {
      if (this.#received > DRAIN_BYTES) this.#stop(new Error('a discarded body was too long to drain'));
      return; // a discarded body's bytes are dropped
    }
    this.#chunks.push(chunk);
    if (!reader && !this.#paused && this.#received > PREREAD_BYTES) {
      this.#paused = true;
      this.#source?.pause();
    }
  }

  end(): void {
    if (this.#state !== 'open') return;
    this.#state = 'ended';
    const reader = this.#reader;
    if (reader) this.#finish(reader, this.#concat());
  }

  fail(err: Error): void {
    if (this.#state !== 'open') return;
    this.#state = 'failed';
    this.#error = err;
    this.#chunks = [];
    const reader = this.#reader;
    this.#reader = undefined;
    reader?.reject(err);
  }

  // ---- read by the caller -------------------------------------------------------------------

  /**
   * All of the body. Rejects with VouchError CONTENT_TOO_LARGE (empty message: the caller words it)
   * as soon as more than `limit` bytes arrive, or with the transport's error if the body broke off.
   */
  readAll(limit: number): Promise<Buffer> {
    return this.#read(limit, false);
  }

  /** At most `limit` bytes of the body; what arrived before an error, never a rejection. */
  async readUpTo(limit: number): Promise<Buffer> {
    try {
      return await this.#read(limit, true);
    } catch {
      return Buffer.alloc(0);
    }
  }

  /**
   * Releases the body without reading it. A short rest drains in the background so the keep-alive
   * connection is reused; a long one aborts the request. Returns at once, never throws.
   */
  discard(): Promise<void> {
    if (this.#state !== 'open' || this.#discarding) return Promise.resolve();
    this.#discarding = true;
    this.#chunks = [];
    const reader = this.#reader;
    this.#reader = undefined;
    reader?.reject(new VouchError('INTERNAL', 'the response body was discarded while being read'));
    if (this.#received > DRAIN_BYTES) this.#stop(new Error('a discarded body was too long to drain'));
    else if (this.#paused) {
      this.#paused = false;
      this.#source?.resume();
    }
    return Promise.resolve();
  }

  #read(limit: number, truncate: boolean): Promise<Buffer> {
    if (this.#reader || this.#discarding)
      return Promise.reject(new VouchError('INTERNAL', 'a response body can be read once'));
    if (this.#state === 'failed') return Promise.reject(this.#error as Error);
    if (this.#received > limit) {
      if (truncate) {
        const bytes = this.#concat().subarray(0, limit);
        if (this.#state === 'open') this.#stop(new Error('the body passed what its reader wanted'));
        return Promise.resolve(bytes);
      }
      const err = new VouchError('CONTENT_TOO_LARGE', '');
      this.#chunks = [];
      if (this.#state === 'open') {
        this.#state = 'failed';
        this.#error = err;
        this.#source?.abort(err);
      }
      return Promise.reject(err);
    }
    if (this.#state === 'ended') return Promise.resolve(this.#concat());
    return new Promise<Buffer>((resolve, reject) => {
      this.#reader = { limit, truncate, resolve, reject };
      if (this.#paused) {
        this.#paused = false;
        this.#source?.resume();
      }
    });
  }

  #finish(reader: Reader, bytes: Buffer): void {
    this.#reader = undefined;
    this.#chunks = [];
    reader.resolve(bytes);
  }

  /** Ends the request under a body nobody will read further. */
  #stop(reason: Error): void {
    this.#state = 'discarded';
    this.#chunks = [];
    this.#source?.abort(reason);
  }

  /** The chunks as one new buffer: a copy even of one chunk, which is a view of a socket read that
   * may hold the headers and more, and would keep all of it alive as long as the body is kept. */
  #concat(): Buffer {
    const chunks = this.#chunks;
    this.#chunks = [];
    return Buffer.concat(chunks, this.#received);
  }
}
