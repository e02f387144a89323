/**
 * A bounded, verifying CAR v1 reader (ipld.io/specs/transport/car/carv1; atproto
 * `packages/repo/src/car.ts`). Every block must be a CIDv1 dag-cbor block with a SHA-256
 * multihash that matches its bytes; duplicate blocks, oversize blocks, more blocks than allowed,
 * trailing garbage and truncation are all `malformed`.
 */
import { createHash } from 'node:crypto';
import * as dagCbor from '@ipld/dag-cbor';
import { CID } from 'multiformats/cid';
import { malformed } from '../failure.js';
import { decodeCanonical, isMap } from './cbor.js';

export const DAG_CBOR = 0x71;
const SHA2_256 = 0x12;

export interface CarLimits {
  /** Largest block accepted (atproto records are at most 1 MiB). */
  readonly maxBlockBytes: number;
  readonly maxBlocks: number;
  /**
   * Whole-repository exports from real servers sometimes repeat a block (same CID, same bytes);
   * a getRecord proof never needs to, so there a repeat is `malformed`.
   */
  readonly allowRepeatedBlocks?: boolean;
}

/** Limits for a `com.atproto.sync.getRecord` proof: a commit, a path of MST nodes, one record. */
export const GET_RECORD_LIMITS: CarLimits = { maxBlockBytes: 1024 * 1024 + 1024, maxBlocks: 256 };

/** A CAR file read and checked: its single root and its blocks by CID string. */
export interface VerifiedCar {
  readonly root: CID;
  readonly blocks: ReadonlyMap<string, Uint8Array>;
}

function readVarint(bytes: Uint8Array, offset: number): [value: number, next: number] {
  let value = 0;
  let shift = 1;
  for (let i = 0; i < 8; i++) {
    const b = bytes[offset + i];
    if (b === undefined) throw malformed('the CAR ends inside a length prefix');
    value += (b & 0x7f) * shift;
    if ((b & 0x80) === 0) {
      if (i > 0 && b === 0) throw malformed('the CAR has a non-minimal length prefix');
      return [value, offset + i + 1];
    }
    shift *= 128;
  }
  throw malformed('the CAR has a length prefix longer than 8 bytes');
}

/** The SHA-256 CIDv1 (dag-cbor) of `bytes`. */
export function cidForBlock(bytes: Uint8Array): CID {
  const digest = createHash('sha256').update(bytes).digest();
  const mh = new Uint8Array(2 + digest.length);
  mh[0] = SHA2_256;
  mh[1] = digest.length;
  mh.set(digest, 2);
  return CID.decode(new Uint8Array([0x01, DAG_CBOR, ...mh]));
}

/** Reads and verifies a CAR v1 with exactly one root. */
export function readCar(bytes: Uint8Array, limits: CarLimits = GET_RECORD_LIMITS): VerifiedCar {
  const [headerLength, headerStart] = readVarint(bytes, 0);
  if (headerLength === 0 || headerStart + headerLength > bytes.length)
    throw malformed('the CAR header is truncated');
  const header = decodeCanonical(bytes.subarray(headerStart, headerStart + headerLength), 'the CAR header');
  if (!isMap(header) || header.version !== 1 || !Array.isArray(header.roots)) {
    throw malformed('the CAR header is not {version: 1, roots: [...]}');
  }
  if (header.roots.length !== 1) throw malformed(`the CAR has ${header.roots.length} roots, expected 1`);
  const root = CID.asCID(header.roots[0]);
  if (!root) throw malformed('the CAR root is not a CID');

  const blocks = new Map<string, Uint8Array>();
  let offset = headerStart + headerLength;
  while (offset < bytes.length) {
    const [sectionLength, sectionStart] = readVarint(bytes, offset);
    const end = sectionStart + sectionLength;
    if (sectionLength === 0 || end > bytes.length) throw malformed('a CAR block is truncated');
    if (blocks.size >= limits.maxBlocks) throw malformed(`the CAR has more than ${limits.maxBlocks} blocks`);
    let cid: CID;
    let data: Uint8Array;
    try {
      [cid, data] = CID.decodeFirst(bytes.subarray(sectionStart, end));
    } catch (err) {
      throw malformed('a CAR block does not start with a valid CID', err);
    }
    if (cid.version !== 1 || cid.code !== DAG_CBOR || cid.multihash.code !== SHA2_256) {
      throw malformed(`CAR block ${cid} is not a CIDv1 dag-cbor sha2-256 block`);
    }
    if (data.length > limits.maxBlockBytes)
      throw malformed(`CAR block ${cid} has ${data.length} bytes, over the limit`);
    const key = cid.toString();
    if (!cidForBlock(data).equals(cid)) throw malformed(`CAR block ${key}: its bytes do not hash to its CID`);
    if (blocks.has(key) && !limits.allowRepeatedBlocks) throw malformed(`the CAR holds block ${key} twice`);
    blocks.set(key, data);
    offset = end;
  }
  return { root, blocks };
}

/** Writes a CAR v1 (for tests, the fault server and the interop round-trip). */
export function writeCar(root: CID, blocks: Iterable<readonly [CID, Uint8Array]>): Uint8Array {
  const parts: Uint8Array[] = [];
  const varint = (n: number) => {
    const out: number[] = [];
    let v = n;
    while (v >= 0x80) {
      out.push((v % 128) | 0x80);
      v = Math.floor(v / 128);
    }
    out.push(v);
    return new Uint8Array(out);
  };
  const header = dagCbor.encode({ version: 1, roots: [root] });
  parts.push(varint(header.length), header);
  for (const [cid, data] of blocks) {
    parts.push(varint(cid.bytes.length + data.length), cid.bytes, data);
  }
  return Buffer.concat(parts);
}
