/**
 * Shared set-up of the property-based fuzz tests (fast-check): the seed and the number of runs
 * (env VOUCH_FUZZ_SEED / VOUCH_FUZZ_RUNS, so a failure reproduces and `npm run fuzz` runs longer),
 * what counts as a classified error, and arbitraries that mutate valid inputs.
 *
 * Classified errors are the project's error base (`VouchError`, with a stable code) and the
 * layer-local failures the verifiers turn into reports (each with a stable kind or reason). A raw
 * TypeError, RangeError or SyntaxError escaping a parser is a defect: the engine would report it
 * as INTERNAL instead of naming what is wrong with the input.
 */
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { VouchError } from '../../src/errors.js';
import { RatifyPluginError } from '../../src/ratify/protocol.js';
import { CertificateParseError } from '../../src/trust/notation/certificate.js';
import { AtprotoFailure } from '../../src/verifiers/atproto/failure.js';
import { ContentFailure } from '../../src/verifiers/content/failure.js';
import { CosignCheckFailure } from '../../src/verifiers/cosign/failure.js';
import { EnvelopeError } from '../../src/verifiers/notation/envelope.js';
import { TimestampError } from '../../src/verifiers/notation/timestamp.js';

/** Default seed of the run in the test command: fixed, so the default run is the same every time. */
export const DEFAULT_SEED = 20261207;
/** Default number of runs of one property (scaled per property by its cost). */
export const DEFAULT_RUNS = 100;

function envInt(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new Error(`${name}=${raw} is not an integer`);
  return n;
}

export const SEED = envInt('VOUCH_FUZZ_SEED') ?? DEFAULT_SEED;
export const RUNS = envInt('VOUCH_FUZZ_RUNS') ?? DEFAULT_RUNS;

/** Cases run by this process, written to $VOUCH_FUZZ_REPORT (one line per property) when set. */
function record(name: string, runs: number): void {
  const report = process.env.VOUCH_FUZZ_REPORT;
  if (report) appendFileSync(path.resolve(report), `${JSON.stringify({ name, runs })}\n`);
}

/** fast-check parameters of one property: the seed, and `RUNS × scale` runs (at least 1). */
export function params(scale = 1): { seed: number; numRuns: number } {
  return { seed: SEED, numRuns: Math.max(1, Math.round(RUNS * scale)) };
}

/** Checks a synchronous property; `scale` weights its cost against the others. */
export function check<Ts extends [unknown, ...unknown[]]>(
  name: string,
  arbitraries: { [K in keyof Ts]: fc.Arbitrary<Ts[K]> },
  predicate: (...args: Ts) => void,
  scale = 1,
): void {
  const p = params(scale);
  fc.assert(fc.property(...arbitraries, predicate), p);
  record(name, p.numRuns);
}

/** Checks an asynchronous property. */
export async function checkAsync<Ts extends [unknown, ...unknown[]]>(
  name: string,
  arbitraries: { [K in keyof Ts]: fc.Arbitrary<Ts[K]> },
  predicate: (...args: Ts) => Promise<void>,
  scale = 1,
): Promise<void> {
  const p = params(scale);
  await fc.assert(fc.asyncProperty(...arbitraries, predicate), p);
  record(name, p.numRuns);
}

/** Counts fixed regression cases run outside fast-check. */
export function recordFixed(name: string, cases: number): void {
  record(name, cases);
}

/** The stable code of a classified error (`VouchError:CODE`, `EnvelopeError:malformed`, …), else undefined. */
export function classification(err: unknown): string | undefined {
  if (err instanceof VouchError) return `VouchError:${err.code}`;
  if (err instanceof EnvelopeError) return `EnvelopeError:${err.kind}`;
  if (err instanceof CosignCheckFailure) return `CosignCheckFailure:${err.reason}`;
  if (err instanceof AtprotoFailure) return `AtprotoFailure:${err.reason}`;
  if (err instanceof ContentFailure) return `ContentFailure:${err.reason}`;
  if (err instanceof RatifyPluginError) return `RatifyPluginError:${err.code}`;
  if (err instanceof TimestampError) return 'TimestampError';
  if (err instanceof CertificateParseError) return 'CertificateParseError';
  return undefined;
}

/** Unclassified: what the property forbids. Rethrown so fast-check shrinks and reports it. */
function unclassified(err: unknown, allowed: readonly string[] | undefined): never {
  const e = err instanceof Error ? err : new Error(String(err));
  const cls = classification(err);
  const why = cls ? `${cls} is not one of ${allowed?.join(', ')}` : `unclassified ${e.name}: ${e.message}`;
  throw new Error(`parser threw ${why}`, { cause: err });
}

function allowedBy(cls: string, allowed: readonly string[] | undefined): boolean {
  return allowed === undefined || allowed.some((a) => cls === a || cls.startsWith(`${a}:`));
}

/**
 * Runs `fn`; returns `ok` or the classification of what it threw. Anything unclassified (or a
 * classification outside `allowed`, when given: `VouchError:REFERENCE_INVALID`, `EnvelopeError`) fails.
 */
export function outcome(fn: () => unknown, allowed?: readonly string[]): string {
  try {
    fn();
    return 'ok';
  } catch (err) {
    const cls = classification(err);
    if (cls === undefined || !allowedBy(cls, allowed)) unclassified(err, allowed);
    return cls;
  }
}

/** `outcome` for an async function. */
export async function outcomeAsync(fn: () => Promise<unknown>, allowed?: readonly string[]): Promise<string> {
  try {
    await fn();
    return 'ok';
  } catch (err) {
    const cls = classification(err);
    if (cls === undefined || !allowedBy(cls, allowed)) unclassified(err, allowed);
    return cls;
  }
}

// ---------------------------------------------------------------------------------------------
// Arbitraries

/** Arbitrary bytes: random, or random UTF-8 text, or JSON text (most parsers start with JSON). */
export function arbitraryBytes(maxLength = 512): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    fc.uint8Array({ maxLength }),
    fc.string({ unit: 'binary', maxLength }).map((s) => Buffer.from(s, 'utf8')),
    fc.json({ maxDepth: 4 }).map((s) => Buffer.from(s, 'utf8')),
  );
}

/** Values JSON (or YAML, or CBOR) can hand a validator, including awkward ones. */
export function hostileValue(): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
    fc.constantFrom(
      null,
      undefined,
      '',
      0,
      -1,
      1e308,
      Number.NaN,
      Number.MAX_SAFE_INTEGER + 2,
      true,
      [],
      {},
      [[[]]],
      'x'.repeat(5000),
      '\u0000',
      '\ud800',
      '__proto__',
      { __proto__: null },
      { toString: 1 },
      { constructor: 'x' },
    ),
    fc.string({ unit: 'binary', maxLength: 40 }),
  );
}

type Path = readonly (string | number)[];

function pathsOf(value: unknown, prefix: Path = [], out: Path[] = [], depth = 0): Path[] {
  out.push(prefix);
  if (depth > 12 || value === null || typeof value !== 'object') return out;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) pathsOf(value[i], [...prefix, i], out, depth + 1);
  } else for (const [k, v] of Object.entries(value)) pathsOf(v, [...prefix, k], out, depth + 1);
  return out;
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

function setAt(
  root: unknown,
  at: Path,
  edit: (parent: Record<string | number, unknown>, key: string | number) => void,
): unknown {
  if (at.length === 0) return root;
  let parent = root as Record<string | number, unknown>;
  for (const key of at.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  edit(parent, at[at.length - 1] as string | number);
  return root;
}

/** One edit of a JSON-like value at a random place: replace, delete, or add a member. */
export type JsonEdit = { kind: 'replace' | 'delete' | 'add'; pick: number; value: unknown; key: string };

const jsonEdit: fc.Arbitrary<JsonEdit> = fc.record({
  kind: fc.constantFrom('replace', 'replace', 'delete', 'add'),
  pick: fc.nat(),
  value: hostileValue(),
  key: fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('__proto__', 'constructor', 'mediaType')),
});

/** Applies `edits` to a copy of `value`. */
export function applyJsonEdits(value: unknown, edits: readonly JsonEdit[]): unknown {
  let root = clone(value);
  for (const e of edits) {
    const paths = pathsOf(root);
    const at = paths[e.pick % paths.length] as Path;
    if (at.length === 0) {
      if (e.kind === 'replace') root = clone(e.value);
      continue;
    }
    root = setAt(root, at, (parent, key) => {
      if (e.kind === 'replace') parent[key] = clone(e.value);
      else if (e.kind === 'delete') {
        if (Array.isArray(parent)) parent.splice(Number(key), 1);
        else delete parent[key];
      } else {
        const target = parent[key];
        if (Array.isArray(target)) target.push(clone(e.value));
        else if (target && typeof target === 'object')
          Object.defineProperty(target, e.key, {
            value: clone(e.value),
            enumerable: true,
            writable: true,
            configurable: true,
          });
        else parent[key] = clone(e.value);
      }
    });
  }
  return root;
}

/** A valid JSON-like value with 1–4 random edits. */
export function mutatedJson(valid: unknown): fc.Arbitrary<unknown> {
  return fc.array(jsonEdit, { minLength: 1, maxLength: 4 }).map((edits) => applyJsonEdits(valid, edits));
}

/** `mutatedJson`, serialized to UTF-8 JSON bytes. */
export function mutatedJsonBytes(valid: unknown): fc.Arbitrary<Uint8Array> {
  return mutatedJson(valid).map((v) => Buffer.from(JSON.stringify(v) ?? 'null', 'utf8'));
}

/** One byte-level edit: flip bits of a byte, overwrite, insert, delete, truncate. */
export type ByteEdit = {
  kind: 'flip' | 'set' | 'insert' | 'delete' | 'truncate';
  pick: number;
  byte: number;
  length: number;
};

const byteEdit: fc.Arbitrary<ByteEdit> = fc.record({
  kind: fc.constantFrom('flip', 'flip', 'flip', 'set', 'insert', 'delete', 'truncate'),
  pick: fc.nat(),
  byte: fc.integer({ min: 1, max: 255 }),
  length: fc.integer({ min: 1, max: 8 }),
});

/** Applies `edits` to a copy of `bytes`. A flip always changes the byte (xor with 1–255). */
export function applyByteEdits(bytes: Uint8Array, edits: readonly ByteEdit[]): Uint8Array {
  let out = Buffer.from(bytes);
  for (const e of edits) {
    const at = out.length === 0 ? 0 : e.pick % out.length;
    switch (e.kind) {
      case 'flip':
        if (out.length > 0) out[at] = (out[at] as number) ^ e.byte;
        break;
      case 'set':
        if (out.length > 0) out[at] = e.byte;
        break;
      case 'insert':
        out = Buffer.concat([out.subarray(0, at), Buffer.alloc(e.length, e.byte), out.subarray(at)]);
        break;
      case 'delete':
        out = Buffer.concat([out.subarray(0, at), out.subarray(at + e.length)]);
        break;
      case 'truncate':
        out = out.subarray(0, at);
        break;
    }
  }
  return new Uint8Array(out);
}

/** A valid byte string with 1–3 random edits. */
export function mutatedBytes(valid: Uint8Array): fc.Arbitrary<Uint8Array> {
  return fc.array(byteEdit, { minLength: 1, maxLength: 3 }).map((edits) => applyByteEdits(valid, edits));
}

/** A valid byte string with exactly one byte changed (bit flips): never equal to the original. */
export function flippedByte(valid: Uint8Array, from = 0, to = valid.length): fc.Arbitrary<Uint8Array> {
  return fc
    .record({ at: fc.integer({ min: from, max: to - 1 }), x: fc.integer({ min: 1, max: 255 }) })
    .map(({ at, x }) => {
      const out = new Uint8Array(valid);
      out[at] = (out[at] as number) ^ x;
      return out;
    });
}

/** A string with 1–3 character edits (for references, DIDs, durations). */
export function mutatedString(valid: string): fc.Arbitrary<string> {
  const edit = fc.record({
    kind: fc.constantFrom('insert', 'delete', 'replace', 'truncate'),
    pick: fc.nat(),
    text: fc.oneof(
      fc.string({ minLength: 1, maxLength: 3 }),
      fc.constantFrom(':', '/', '@', '.', '-', '_', '[', ']', '%', '\u0000', 'A', ' '),
    ),
  });
  return fc.array(edit, { minLength: 1, maxLength: 3 }).map((edits) => {
    let s = valid;
    for (const e of edits) {
      const at = s.length === 0 ? 0 : e.pick % (s.length + 1);
      if (e.kind === 'insert') s = s.slice(0, at) + e.text + s.slice(at);
      else if (e.kind === 'delete') s = s.slice(0, at) + s.slice(at + e.text.length);
      else if (e.kind === 'replace') s = s.slice(0, at) + e.text + s.slice(at + e.text.length);
      else s = s.slice(0, at);
    }
    return s;
  });
}
