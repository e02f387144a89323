/**
 * Test support: builds signed atproto repositories and getRecord-style proof CARs from a private
 * key, so unit tests can craft valid proofs and precise corruptions of them.
 */
import { createHash } from 'node:crypto';
import * as dagCbor from '@ipld/dag-cbor';
import { p256 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import type { CID } from 'multiformats/cid';
import { cidForBlock, writeCar } from '../../../../src/verifiers/atproto/repo/car.js';
import type { Curve } from '../../../../src/verifiers/atproto/repo/keys.js';
import { buildFromItems, leafItem } from './mst-build.js';

export interface BuiltRepo {
  readonly commitCid: CID;
  readonly commitBytes: Uint8Array;
  readonly blocks: Map<string, Uint8Array>;
  readonly recordCids: Map<string, CID>;
}

/** Signs `data` (SHA-256 applied) in compact form; `highS` returns the malleated twin. */
export function signCompact(curve: Curve, key: Uint8Array, data: Uint8Array, highS = false): Uint8Array {
  const c = curve === 'k256' ? secp256k1 : p256;
  const digest = createHash('sha256').update(data).digest();
  const sig = c.sign(digest, key, { prehash: false, lowS: true, format: 'compact' });
  if (!highS) return sig;
  const n = c.Point.CURVE().n;
  const s = BigInt(`0x${Buffer.from(sig.subarray(32)).toString('hex')}`);
  const out = new Uint8Array(sig);
  out.set(Buffer.from((n - s).toString(16).padStart(64, '0'), 'hex'), 32);
  return out;
}

export function buildRepo(options: {
  did: string;
  curve: Curve;
  key: Uint8Array;
  records: Record<string, Record<string, unknown>>;
  commit?: (c: Record<string, unknown>) => Record<string, unknown>;
  highS?: boolean;
}): BuiltRepo {
  const blocks = new Map<string, Uint8Array>();
  const recordCids = new Map<string, CID>();
  for (const [key, record] of Object.entries(options.records)) {
    const bytes = dagCbor.encode(record);
    const cid = cidForBlock(bytes);
    blocks.set(cid.toString(), bytes);
    recordCids.set(key, cid);
  }
  const items = [...recordCids.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => leafItem(k, v));
  const data = buildFromItems(items, blocks);
  let unsigned: Record<string, unknown> = {
    did: options.did,
    version: 3,
    data,
    rev: '3n2vatqtnlk2o',
    prev: null,
  };
  if (options.commit) unsigned = options.commit(unsigned);
  const sig = signCompact(options.curve, options.key, dagCbor.encode(unsigned), options.highS);
  const commitBytes = dagCbor.encode({ ...unsigned, sig });
  const commitCid = cidForBlock(commitBytes);
  blocks.set(commitCid.toString(), commitBytes);
  return { commitCid, commitBytes, blocks, recordCids };
}

/** A CAR of every block of the repository (a superset of any getRecord proof). */
export function repoCar(repo: BuiltRepo, drop: readonly string[] = []): Uint8Array {
  const entries: [CID, Uint8Array][] = [[repo.commitCid, repo.commitBytes]];
  for (const [id, bytes] of repo.blocks) {
    if (id === repo.commitCid.toString() || drop.includes(id)) continue;
    entries.push([cidForBlock(bytes), bytes]);
  }
  return writeCar(repo.commitCid, entries);
}
