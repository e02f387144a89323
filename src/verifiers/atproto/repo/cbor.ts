/**
 * Strict DAG-CBOR for repository blocks. The atproto data model (atproto.com/specs/data-model)
 * requires canonical DAG-CBOR: a block whose bytes are not exactly the canonical encoding of what
 * they decode to is rejected, since two encodings of one value would give two CIDs.
 */
import * as dagCbor from '@ipld/dag-cbor';
import { CID } from 'multiformats/cid';
import { malformed } from '../failure.js';

/** Decodes canonical DAG-CBOR; throws `malformed` for invalid or non-canonical bytes. */
export function decodeCanonical(bytes: Uint8Array, what: string): unknown {
  let value: unknown;
  try {
    value = dagCbor.decode(bytes);
  } catch (err) {
    throw malformed(
      `${what} is not valid DAG-CBOR: ${err instanceof Error ? err.message : String(err)}`,
      err,
    );
  }
  let again: Uint8Array;
  try {
    again = dagCbor.encode(value);
  } catch (err) {
    throw malformed(`${what} holds values DAG-CBOR cannot encode`, err);
  }
  if (!Buffer.from(again).equals(Buffer.from(bytes))) throw malformed(`${what} is not canonical DAG-CBOR`);
  return value;
}

/** True for a plain CBOR map decoded as an object (not an array, CID or byte string). */
export function isMap(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof Uint8Array) &&
    CID.asCID(value) === null
  );
}

/** The CID in `value`, or undefined. */
export function asCid(value: unknown): CID | undefined {
  return CID.asCID(value) ?? undefined;
}
