/**
 * Verifying a `com.atproto.sync.getRecord` answer: a CAR whose single root is the repository's
 * current signed commit, holding the MST nodes on the path to the record and the record itself
 * (atproto.com/specs/sync; atproto `packages/repo/src/sync/consumer.ts` verifyProofs).
 */
import type { CID } from 'multiformats/cid';
import { AtprotoFailure, malformed } from '../failure.js';
import { type CarLimits, GET_RECORD_LIMITS, readCar } from './car.js';
import { decodeCanonical, isMap } from './cbor.js';
import { type Commit, parseCommit, verifyCommitSignature } from './commit.js';
import type { AtprotoPublicKey } from './keys.js';
import { proveKey } from './mst.js';

/** What a verified proof establishes. */
export interface RecordProof {
  readonly commit: Commit;
  readonly commitCid: CID;
  /** The record's CID in the signed tree, or null when the proof shows it absent. */
  readonly recordCid: CID | null;
  /** The decoded record (a map with `$type` = the collection) when present. */
  readonly record?: Record<string, unknown>;
}

/**
 * Checks, in order: CAR well-formed and every block hashing to its CID; root is a v3 commit for
 * `did` (`did-mismatch` otherwise); the commit signature under `key` (`invalid-signature`,
 * `high-s`); the MST path from `commit.data` to `collection/rkey`; the record block.
 */
export function verifyRecordProof(
  car: Uint8Array,
  expected: {
    readonly did: string;
    readonly key: AtprotoPublicKey;
    readonly collection: string;
    readonly rkey: string;
  },
  limits: CarLimits = GET_RECORD_LIMITS,
): RecordProof {
  const { root, blocks } = readCar(car, limits);
  const commitBytes = blocks.get(root.toString());
  if (!commitBytes) throw malformed(`the CAR root block ${root} is missing`);
  const commit = parseCommit(commitBytes);
  if (commit.did !== expected.did) {
    throw new AtprotoFailure(
      'did-mismatch',
      `the proof's commit is for ${commit.did.slice(0, 80)}, not ${expected.did}`,
    );
  }
  verifyCommitSignature(commit, expected.key);
  const recordCid = proveKey(blocks, commit.data, `${expected.collection}/${expected.rkey}`);
  if (!recordCid) return { commit, commitCid: root, recordCid: null };
  const recordBytes = blocks.get(recordCid.toString());
  if (!recordBytes) throw malformed(`the record block ${recordCid} is missing from the proof`);
  const record = decodeCanonical(recordBytes, 'the record');
  if (!isMap(record)) throw malformed('the record is not a map');
  if (record.$type !== expected.collection) {
    throw malformed(
      `the record's $type is ${JSON.stringify(record.$type)?.slice(0, 60)}, not ${expected.collection}`,
    );
  }
  return { commit, commitCid: root, recordCid, record };
}
