/**
 * Merkle Search Tree reading (atproto.com/specs/repository, "Merkle Search Tree"; atproto
 * `packages/repo/src/mst/`). Keys are `<collection>/<rkey>`; a node is `{l, e: [{p, k, v, t}]}`
 * with prefix-compressed keys. `proveKey` walks from the commit's `data` root to a key and
 * returns the record CID it maps to, or null for a proof of absence. Every node on the path must
 * be present; keys in a node must be valid and strictly increasing.
 */
import { createHash } from 'node:crypto';
import type { CID } from 'multiformats/cid';
import { malformed } from '../failure.js';
import { asCid, decodeCanonical, isMap } from './cbor.js';

/** An MST key check (atproto `mst/util.ts` isValidMstKey). */
export function isValidMstKey(key: string): boolean {
  const parts = key.split('/');
  return (
    key.length <= 1024 &&
    parts.length === 2 &&
    parts.every((p) => p.length > 0 && /^[a-zA-Z0-9_~\-:.]+$/.test(p))
  );
}

/** The MST layer of a key: leading zero 2-bit groups of SHA-256(key) (fanout 4). */
export function keyHeight(key: string | Uint8Array): number {
  const hash = createHash('sha256').update(key).digest();
  let zeros = 0;
  for (const byte of hash) {
    if (byte < 64) zeros++;
    if (byte < 16) zeros++;
    if (byte < 4) zeros++;
    if (byte !== 0) break;
    zeros++;
  }
  return zeros;
}

/** Byte-wise common prefix length (the `p` of an entry). */
export function commonPrefixLength(a: string, b: string): number {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  let i = 0;
  while (i < ab.length && i < bb.length && ab[i] === bb[i]) i++;
  return i;
}

export interface MstEntry {
  readonly key: string;
  readonly value: CID;
  readonly right: CID | null;
}

export interface MstNode {
  readonly left: CID | null;
  readonly entries: readonly MstEntry[];
}

/** Parses one MST node block, rebuilding full keys. */
export function parseMstNode(bytes: Uint8Array): MstNode {
  const value = decodeCanonical(bytes, 'an MST node');
  if (!isMap(value) || !Array.isArray(value.e)) throw malformed('an MST node is not {l, e}');
  const left = value.l === null ? null : asCid(value.l);
  if (left === undefined) throw malformed('an MST node has an invalid l pointer');
  const entries: MstEntry[] = [];
  let previous = '';
  for (const raw of value.e) {
    if (!isMap(raw) || typeof raw.p !== 'number' || !(raw.k instanceof Uint8Array)) {
      throw malformed('an MST entry is not {p, k, v, t}');
    }
    if (!Number.isInteger(raw.p) || raw.p < 0 || raw.p > previous.length)
      throw malformed('an MST entry has a bad prefix length');
    const suffix = Buffer.from(raw.k);
    if (suffix.some((b) => b > 0x7e || b < 0x21)) throw malformed('an MST key has non-ASCII bytes');
    const key = previous.slice(0, raw.p) + suffix.toString('latin1');
    if (!isValidMstKey(key)) throw malformed(`"${key.slice(0, 80)}" is not a valid MST key`);
    if (entries.length > 0 && key <= previous)
      throw malformed('MST keys are not in strictly increasing order');
    const v = asCid(raw.v);
    const t = raw.t === null ? null : asCid(raw.t);
    if (!v || t === undefined) throw malformed('an MST entry has an invalid value or subtree pointer');
    entries.push({ key, value: v, right: t });
    previous = key;
  }
  return { left, entries };
}

/** Largest MST depth walked (a fanout-4 tree of 2^64 keys is 32 deep). */
const MAX_DEPTH = 64;

/**
 * Walks from `root` to `key` through `blocks`; returns the record CID, or null when the tree
 * proves the key absent. Missing nodes and cycles are `malformed`.
 */
export function proveKey(blocks: ReadonlyMap<string, Uint8Array>, root: CID, key: string): CID | null {
  if (!isValidMstKey(key)) throw malformed(`"${key.slice(0, 80)}" is not a valid MST key`);
  let pointer: CID | null = root;
  const seen = new Set<string>();
  for (let depth = 0; pointer !== null; depth++) {
    const id = pointer.toString();
    if (depth >= MAX_DEPTH || seen.has(id)) throw malformed('the MST path is cyclic or too deep');
    seen.add(id);
    const bytes = blocks.get(id);
    if (!bytes) throw malformed(`MST node ${id} is missing from the proof`);
    const node = parseMstNode(bytes);
    let next: CID | null = node.left;
    let found: CID | undefined;
    for (const entry of node.entries) {
      if (entry.key === key) {
        found = entry.value;
        break;
      }
      if (entry.key > key) break;
      next = entry.right;
    }
    if (found) return found;
    pointer = next;
  }
  return null;
}
