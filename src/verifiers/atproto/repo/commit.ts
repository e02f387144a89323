/**
 * Repository commits (atproto.com/specs/repository, "Commit Objects"; atproto
 * `packages/repo/src/types.ts`, `util.ts` signing). A v3 commit is the DAG-CBOR map
 * `{did, version: 3, data, rev, prev, sig}`; the signature covers SHA-256 of the DAG-CBOR of the
 * same map without `sig`.
 */
import * as dagCbor from '@ipld/dag-cbor';
import type { CID } from 'multiformats/cid';
import { AtprotoFailure, malformed, shown } from '../failure.js';
import { asCid, decodeCanonical, isMap } from './cbor.js';
import { type AtprotoPublicKey, verifySignature } from './keys.js';

export interface Commit {
  readonly did: string;
  readonly version: number;
  /** CID of the MST root. */
  readonly data: CID;
  readonly rev: string;
  readonly prev: CID | null;
  readonly sig: Uint8Array;
  /** The exact bytes that were signed (DAG-CBOR of the commit without `sig`). */
  readonly unsignedBytes: Uint8Array;
}

const COMMIT_KEYS = new Set(['did', 'version', 'data', 'rev', 'prev', 'sig']);

/** Parses a commit block; only version 3 (the current format) is accepted unless `allowV2`. */
export function parseCommit(bytes: Uint8Array, options: { allowV2?: boolean } = {}): Commit {
  const value = decodeCanonical(bytes, 'the commit block');
  if (!isMap(value)) throw malformed('the commit block is not a map');
  for (const k of Object.keys(value)) {
    if (!COMMIT_KEYS.has(k)) throw malformed(`the commit has an unknown field "${k.slice(0, 30)}"`);
  }
  const { did, version, data, rev, prev, sig } = value;
  if (version !== 3 && !(options.allowV2 && version === 2)) {
    throw malformed(`the commit is version ${shown(version, 10)}, expected 3`);
  }
  if (typeof did !== 'string') throw malformed('the commit has no did');
  const dataCid = asCid(data);
  if (!dataCid) throw malformed('the commit has no data CID');
  if (
    version === 3 &&
    (typeof rev !== 'string' || !/^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$/.test(rev))
  ) {
    throw malformed('the commit rev is not a TID');
  }
  const prevCid = prev === null || prev === undefined ? null : asCid(prev);
  if (prevCid === undefined) throw malformed('the commit prev is neither null nor a CID');
  if (!(sig instanceof Uint8Array)) throw malformed('the commit has no signature bytes');
  const unsigned: Record<string, unknown> = { ...value };
  delete unsigned.sig;
  return {
    did,
    version,
    data: dataCid,
    rev: typeof rev === 'string' ? rev : '',
    prev: prevCid,
    sig,
    unsignedBytes: dagCbor.encode(unsigned),
  };
}

/**
 * Checks the commit signature with the DID's `#atproto` key; throws `high-s` or
 * `invalid-signature` (compact low-S required, atproto.com/specs/cryptography).
 */
export function verifyCommitSignature(commit: Commit, key: AtprotoPublicKey): void {
  const check = verifySignature(key, commit.unsignedBytes, commit.sig);
  if (check === 'high-s') {
    throw new AtprotoFailure(
      'high-s',
      'the commit signature is high-S; atproto accepts only low-S signatures',
    );
  }
  if (check !== 'ok') {
    throw new AtprotoFailure('invalid-signature', `the commit signature does not verify with ${key.didKey}`);
  }
}
