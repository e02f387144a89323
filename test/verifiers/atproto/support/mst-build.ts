/**
 * Test support: builds canonical MSTs (atproto.com/specs/repository) from keys, and replays
 * inserts/deletes on a partial tree (only the blocks of a proof), the way the firehose
 * commit-proof vectors require. The tree is flattened to an ordered list of leaves and unloaded
 * subtrees; rebuilding a layer needs the contents of every subtree it must split or merge, so a
 * proof that lacks a needed block fails here as it would upstream.
 */
import * as dagCbor from '@ipld/dag-cbor';
import type { CID } from 'multiformats/cid';
import { cidForBlock } from '../../../../src/verifiers/atproto/repo/car.js';
import { commonPrefixLength, keyHeight, parseMstNode } from '../../../../src/verifiers/atproto/repo/mst.js';

type Item =
  | { readonly kind: 'leaf'; readonly key: string; readonly value: CID; readonly height: number }
  | { readonly kind: 'tree'; readonly cid: CID; readonly layer: number };

export type Blocks = Map<string, Uint8Array>;

function put(blocks: Blocks, data: unknown): CID {
  const bytes = dagCbor.encode(data);
  const cid = cidForBlock(bytes);
  blocks.set(cid.toString(), bytes);
  return cid;
}

/** Serializes one node from its layer items (leaves at this layer, pointers below). */
function writeNode(
  left: CID | null,
  entries: { key: string; value: CID; right: CID | null }[],
  blocks: Blocks,
): CID {
  let previous = '';
  const e = entries.map((entry) => {
    const p = commonPrefixLength(previous, entry.key);
    previous = entry.key;
    return { p, k: Buffer.from(entry.key.slice(p), 'latin1'), v: entry.value, t: entry.right };
  });
  return put(blocks, { l: left, e });
}

function subtreeAt(items: readonly Item[], layer: number, blocks: Blocks): CID {
  if (items.length === 1 && items[0]!.kind === 'tree') {
    const t = items[0]!;
    if (t.layer === layer) return t.cid;
  }
  for (const it of items) {
    if (it.kind === 'tree' && it.layer >= layer)
      throw new Error(`proof lacks the contents of subtree ${it.cid}`);
    if (it.kind === 'leaf' && it.height > layer) throw new Error('leaf above its layer');
  }
  return nodeAt(items, layer, blocks);
}

function nodeAt(items: readonly Item[], layer: number, blocks: Blocks): CID {
  const groups: Item[][] = [[]];
  const leaves: Extract<Item, { kind: 'leaf' }>[] = [];
  for (const it of items) {
    if (it.kind === 'leaf' && it.height === layer) {
      leaves.push(it);
      groups.push([]);
    } else {
      groups[groups.length - 1]!.push(it);
    }
  }
  const pointer = (g: Item[]) => (g.length === 0 ? null : subtreeAt(g, layer - 1, blocks));
  const left = pointer(groups[0]!);
  const entries = leaves.map((leaf, i) => ({
    key: leaf.key,
    value: leaf.value,
    right: pointer(groups[i + 1]!),
  }));
  return writeNode(left, entries, blocks);
}

/** Builds the canonical tree of `items`; returns the root CID (blocks written to `blocks`). */
export function buildFromItems(items: readonly Item[], blocks: Blocks): CID {
  if (items.length === 0) return put(blocks, { l: null, e: [] });
  let maxLeaf = -1;
  let maxTree = -1;
  for (const it of items) {
    if (it.kind === 'leaf') maxLeaf = Math.max(maxLeaf, it.height);
    else maxTree = Math.max(maxTree, it.layer);
  }
  return maxLeaf > maxTree ? nodeAt(items, maxLeaf, blocks) : subtreeAt(items, maxTree, blocks);
}

export function leafItem(key: string, value: CID): Item {
  return { kind: 'leaf', key, value, height: keyHeight(key) };
}

/** Builds a full tree from keys all mapping to `value`. */
export function buildTree(
  keys: readonly string[],
  value: CID,
  blocks: Blocks = new Map(),
): { root: CID; blocks: Blocks } {
  const items = [...new Set(keys)].sort().map((k) => leafItem(k, value));
  return { root: buildFromItems(items, blocks), blocks };
}

function layerOf(cid: CID, blocks: Blocks): number {
  const bytes = blocks.get(cid.toString());
  if (!bytes) throw new Error(`missing block ${cid}`);
  const node = parseMstNode(bytes);
  if (node.entries[0]) return keyHeight(node.entries[0].key);
  return node.left ? layerOf(node.left, blocks) + 1 : 0;
}

/** Flattens a (possibly partial) tree into ordered items. */
export function flatten(root: CID, blocks: Blocks): Item[] {
  const out: Item[] = [];
  const walk = (cid: CID, layer: number) => {
    const bytes = blocks.get(cid.toString());
    if (!bytes) {
      out.push({ kind: 'tree', cid, layer });
      return;
    }
    const node = parseMstNode(bytes);
    if (node.left) walk(node.left, layer - 1);
    for (const e of node.entries) {
      out.push({ kind: 'leaf', key: e.key, value: e.value, height: keyHeight(e.key) });
      if (e.right) walk(e.right, layer - 1);
    }
  };
  const node = parseMstNode(blocks.get(root.toString()) ?? new Uint8Array());
  if (node.entries.length === 0 && !node.left) return [];
  walk(root, layerOf(root, blocks));
  return out;
}

/** Inserts a leaf; fails when its position is next to an unloaded subtree. */
export function insertItem(items: Item[], key: string, value: CID): Item[] {
  let i = 0;
  while (i < items.length) {
    const it = items[i]!;
    if (it.kind === 'leaf' && it.key >= key) break;
    i++;
  }
  if (items[i - 1]?.kind === 'tree') throw new Error(`proof lacks the subtree around ${key}`);
  if (items[i]?.kind === 'leaf' && (items[i] as { key: string }).key === key)
    throw new Error(`${key} exists`);
  return [...items.slice(0, i), leafItem(key, value), ...items.slice(i)];
}

export function deleteItem(items: Item[], key: string): Item[] {
  const i = items.findIndex((it) => it.kind === 'leaf' && it.key === key);
  if (i < 0) throw new Error(`${key} is not in the tree`);
  return [...items.slice(0, i), ...items.slice(i + 1)];
}

type Entry = { kind: 'leaf'; key: string } | { kind: 'tree'; cid: CID };

function entriesOf(cid: CID, blocks: Blocks): Entry[] {
  const node = parseMstNode(blocks.get(cid.toString())!);
  const out: Entry[] = [];
  if (node.left) out.push({ kind: 'tree', cid: node.left });
  for (const e of node.entries) {
    out.push({ kind: 'leaf', key: e.key });
    if (e.right) out.push({ kind: 'tree', cid: e.right });
  }
  return out;
}

/** atproto `MST.getCoveringProof`: the path to a key plus the paths to its neighbours. */
export function coveringProof(root: CID, key: string, blocks: Blocks): Set<string> {
  const out = new Set<string>();
  const idxOf = (es: Entry[]) => {
    const i = es.findIndex((e) => e.kind === 'leaf' && e.key >= key);
    return i >= 0 ? i : es.length;
  };
  const forKey = (cid: CID): boolean => {
    const es = entriesOf(cid, blocks);
    const i = idxOf(es);
    const found = es[i];
    if (!(found?.kind === 'leaf' && found.key === key)) {
      const prev = es[i - 1];
      if (!prev || prev.kind === 'leaf') return false;
      forKey(prev.cid);
    }
    out.add(cid.toString());
    return true;
  };
  const leftSib = (cid: CID) => {
    const es = entriesOf(cid, blocks);
    const prev = es[idxOf(es) - 1];
    if (prev?.kind === 'tree') leftSib(prev.cid);
    out.add(cid.toString());
  };
  const rightSib = (cid: CID) => {
    const es = entriesOf(cid, blocks);
    const i = idxOf(es);
    const found = es[i] ?? es[i - 1];
    if (found?.kind === 'tree') rightSib(found.cid);
    else if (found?.kind === 'leaf') {
      const next = found.key === key ? es[i + 1] : es[i - 1];
      if (next?.kind === 'tree') rightSib(next.cid);
    }
    out.add(cid.toString());
  };
  forKey(root);
  leftSib(root);
  rightSib(root);
  return out;
}
