/**
 * Interop handlers for the `atproto` family (../shared/interop/atproto/README.md documents the kinds):
 * signature, didkey, mst, car-commit, plc-log. Each runs the case through vouch's own ATProto code.
 * The vectors' `expect.reason` strings are upstream error texts for people, so the judge compares
 * the boolean outcome only (README: "match on category, not on exact upstream error strings").
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { base58btc } from 'multiformats/bases/base58';
import { CID } from 'multiformats/cid';
import { AtprotoFailure } from '../../../src/verifiers/atproto/failure.js';
import { parseDidDocument } from '../../../src/verifiers/atproto/identity/did-document.js';
import { validatePlcAuditLog } from '../../../src/verifiers/atproto/identity/plc-log.js';
import { readCar, writeCar } from '../../../src/verifiers/atproto/repo/car.js';
import { parseCommit, verifyCommitSignature } from '../../../src/verifiers/atproto/repo/commit.js';
import {
  type AtprotoPublicKey,
  didKeyFromPrivateKey,
  keyFromVerificationMethod,
  parseDidKey,
  verifySignature,
} from '../../../src/verifiers/atproto/repo/keys.js';
import {
  commonPrefixLength,
  isValidMstKey,
  keyHeight,
  proveKey,
} from '../../../src/verifiers/atproto/repo/mst.js';
import { verifyRecordProof } from '../../../src/verifiers/atproto/repo/proof.js';
import {
  buildFromItems,
  buildTree,
  coveringProof,
  deleteItem,
  flatten,
  insertItem,
} from '../../verifiers/atproto/support/mst-build.js';
import type { CaseEnv, CaseResult, FamilyHandlers, InteropCase } from '../types.js';

const ok = (detail?: string): CaseResult => ({ verified: true, reason: 'ok', ...(detail ? { detail } : {}) });
const fail = (reason: string, detail: string): CaseResult => ({ verified: false, reason, detail });

/** Runs `fn`; an AtprotoFailure (or a mismatch thrown as Error) becomes a failed result. */
async function run(fn: () => Promise<CaseResult> | CaseResult): Promise<CaseResult> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof AtprotoFailure) return fail(err.reason, err.message);
    return fail('mismatch', err instanceof Error ? err.message : String(err));
  }
}

function expectEqual(actual: unknown, expected: unknown, what: string): void {
  if (actual !== expected) throw new Error(`${what}: got ${String(actual)}, expected ${String(expected)}`);
}

const file = (env: CaseEnv, rel: unknown) => readFile(path.join(env.dir, String(rel)));
const json = async (env: CaseEnv, rel: unknown): Promise<unknown> =>
  JSON.parse((await file(env, rel)).toString('utf8'));
const b64 = (s: unknown) => Buffer.from(String(s), 'base64');

async function signature(c: InteropCase): Promise<CaseResult> {
  return run(() => {
    const key = parseDidKey(String(c.publicKeyDid));
    const legacy = keyFromVerificationMethod(
      c.algorithm === 'ES256' ? 'EcdsaSecp256r1VerificationKey2019' : 'EcdsaSecp256k1VerificationKey2019',
      String(c.publicKeyMultibase),
    );
    expectEqual(legacy.didKey, key.didKey, 'legacy multibase key');
    const check = verifySignature(key, b64(c.messageBase64), b64(c.signatureBase64));
    return check === 'ok' ? ok() : fail(check === 'high-s' ? 'high-s' : 'invalid-signature', check);
  });
}

async function didkey(c: InteropCase, env: CaseEnv): Promise<CaseResult> {
  return run(async () => {
    if (typeof c.privateKeyHex === 'string') {
      expectEqual(
        didKeyFromPrivateKey('k256', Buffer.from(c.privateKeyHex, 'hex')),
        c.publicDidKey,
        'did:key',
      );
      return ok();
    }
    if (typeof c.privateKeyBase58 === 'string') {
      expectEqual(
        didKeyFromPrivateKey('p256', base58btc.baseDecode(c.privateKeyBase58)),
        c.publicDidKey,
        'did:key',
      );
      return ok();
    }
    if (Array.isArray(c.pairs)) {
      for (const p of c.pairs as { publicKeyDid: string; publicKeyMultibase: string; algorithm: string }[]) {
        const type =
          p.algorithm === 'ES256' ? 'EcdsaSecp256r1VerificationKey2019' : 'EcdsaSecp256k1VerificationKey2019';
        expectEqual(
          keyFromVerificationMethod(type, p.publicKeyMultibase).didKey,
          parseDidKey(p.publicKeyDid).didKey,
          'pair',
        );
        expectEqual(parseDidKey(p.publicKeyDid).didKey, p.publicKeyDid, 'did:key round trip');
      }
      return ok();
    }
    const identity = parseDidDocument(await json(env, c.file), String(c.expectDid));
    if (c.expectSigningKey) expectEqual(identity.signingKey, c.expectSigningKey, 'signing key');
    if (c.expectPds) expectEqual(identity.pds, c.expectPds, 'PDS');
    if (c.expectHandle) expectEqual(identity.handle, c.expectHandle, 'handle');
    return ok();
  });
}

function permutations<T>(xs: readonly T[]): T[][] {
  if (xs.length <= 1) return [[...xs]];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
}

async function mst(c: InteropCase, env: CaseEnv): Promise<CaseResult> {
  return run(async () => {
    if (Array.isArray(c.entries)) {
      for (const e of c.entries as { key: string; height: number }[])
        expectEqual(keyHeight(e.key), e.height, `height of "${e.key}"`);
      return ok();
    }
    if (c.id === 'mst-common-prefix') {
      for (const e of (await json(env, c.file)) as { left: string; right: string; len: number }[]) {
        expectEqual(commonPrefixLength(e.left, e.right), e.len, `prefix of "${e.left}"/"${e.right}"`);
      }
      return ok();
    }
    if (Array.isArray(c.validKeys) && Array.isArray(c.invalidKeys)) {
      for (const k of c.validKeys as string[]) expectEqual(isValidMstKey(k), true, `valid key "${k}"`);
      for (const k of c.invalidKeys as string[]) expectEqual(isValidMstKey(k), false, `invalid key "${k}"`);
      expectEqual(isValidMstKey(`coll/${'a'.repeat(1020)}`), false, 'key over 1024 chars');
      return ok();
    }
    if (Array.isArray(c.keys)) {
      const { root } = buildTree(c.keys as string[], CID.parse(String(c.leafValue)));
      expectEqual(root.toString(), c.expectRoot, 'root');
      return ok();
    }
    const fixtures = (await json(env, c.file)) as {
      leafValue: string;
      keys: string[];
      adds: string[];
      dels: string[];
      rootBeforeCommit: string;
      rootAfterCommit: string;
      blocksInProof: string[];
    }[];
    const f = fixtures[Number(c.index)]!;
    const leaf = CID.parse(f.leafValue);
    expectEqual(buildTree(f.keys, leaf).root.toString(), f.rootBeforeCommit, 'root before');
    const afterKeys = [...f.keys, ...f.adds].filter((k) => !f.dels.includes(k));
    const after = buildTree(afterKeys, leaf);
    expectEqual(after.root.toString(), f.rootAfterCommit, 'root after');
    const proof = new Map<string, Uint8Array>();
    for (const k of [...f.adds, ...f.dels]) {
      for (const id of coveringProof(after.root, k, after.blocks)) proof.set(id, after.blocks.get(id)!);
    }
    for (const id of f.blocksInProof) if (!proof.has(id)) throw new Error(`covering proof lacks ${id}`);
    const inverse = [
      ...f.adds.map((k) => (items: ReturnType<typeof flatten>) => deleteItem(items, k)),
      ...f.dels.map((k) => (items: ReturnType<typeof flatten>) => insertItem(items, k, leaf)),
    ];
    for (const order of permutations(inverse)) {
      let items = flatten(after.root, new Map(proof));
      for (const op of order) items = op(items);
      expectEqual(
        buildFromItems(items, new Map(proof)).toString(),
        f.rootBeforeCommit,
        'root after inverting on the proof',
      );
    }
    return ok();
  });
}

async function keyFor(c: InteropCase, env: CaseEnv, did: string): Promise<AtprotoPublicKey> {
  const key = parseDidKey(String(c.signingKey));
  for (const doc of [c.didDoc, c.didDocLegacy]) {
    if (typeof doc !== 'string') continue;
    const docJson = (await json(env, doc)) as { id?: string };
    const identity = parseDidDocument(docJson, docJson.id ?? did);
    expectEqual(identity.signingKey, key.didKey, `key in ${doc}`);
  }
  return key;
}

async function carCommit(c: InteropCase, env: CaseEnv): Promise<CaseResult> {
  return run(async () => {
    if (c.id === 'car-v1-roundtrip') {
      const f = (
        (await json(env, c.file)) as { root: string; blocks: { cid: string; bytes: string }[]; car: string }[]
      )[Number(c.index)]!;
      const car = readCar(b64(f.car));
      expectEqual(car.root.toString(), c.expectRoot, 'root');
      expectEqual([...car.blocks.keys()].join(), f.blocks.map((b) => b.cid).join(), 'blocks in order');
      const again = writeCar(
        car.root,
        f.blocks.map((b) => [CID.parse(b.cid), b64(b.bytes)] as const),
      );
      expectEqual(Buffer.from(again).toString('base64').replace(/=+$/, ''), f.car, 'written CAR');
      return ok();
    }
    const bytes = await file(env, c.car);
    if (typeof c.commitDid === 'string' && !c.recordCid && !c.claimCid && c.claimCid !== null) {
      // whole-repository CARs (getRepo): commit signature, DID binding, listed records
      const did = String(c.expectedDid ?? c.commitDid);
      const { root, blocks } = readCar(bytes, {
        maxBlockBytes: 2 * 1024 * 1024,
        maxBlocks: 10_000,
        allowRepeatedBlocks: true,
      });
      const commit = parseCommit(blocks.get(root.toString()) ?? new Uint8Array(), { allowV2: true });
      if (commit.did !== did) return fail('did-mismatch', `commit is for ${commit.did}, not ${did}`);
      verifyCommitSignature(commit, await keyFor(c, env, did));
      if (c.commitCid) expectEqual(root.toString(), c.commitCid, 'commit CID');
      for (const [k, v] of Object.entries((c.records as Record<string, string>) ?? {})) {
        expectEqual(proveKey(blocks, commit.data, k)?.toString(), v, `record ${k}`);
      }
      return ok();
    }
    const did = String(c.expectedDid ?? c.did);
    const key = await keyFor(c, env, did);
    const collection = String(c.collection ?? 'io.atcr.manifest');
    const rkey = String(c.rkey ?? '3zzzzzzzzzzzz');
    const proof = verifyRecordProof(bytes, { did, key, collection, rkey });
    const root = proof.commitCid.toString();
    if (c.carRoot) expectEqual(root, c.carRoot, 'CAR root');
    if (c.proofCommitCid) expectEqual(root, c.proofCommitCid, 'proof commit');
    else if (c.commitCid) expectEqual(root, c.commitCid, 'commit CID');
    if (c.claimCid === null)
      return proof.recordCid ? fail('mismatch', 'record exists') : ok('absent, proven');
    const want = c.claimCid ?? c.recordCid;
    if (!proof.recordCid)
      return fail('record-not-found', `${collection}/${rkey} is absent in the signed tree`);
    if (want) expectEqual(proof.recordCid.toString(), want, 'record CID');
    if (c.imageDigest && proof.record?.digest !== c.imageDigest) {
      return fail(
        'digest-mismatch',
        `record names ${String(proof.record?.digest)}, image is ${String(c.imageDigest)}`,
      );
    }
    if (c.plcAuditLog) {
      const state = validatePlcAuditLog(await json(env, c.plcAuditLog), did);
      if (state === 'tombstoned') return fail('did-resolution-failed', 'tombstoned');
      expectEqual(state.atprotoKey, key.didKey, 'PLC log key');
    }
    return ok(
      c.artifactCommitCid
        ? `artifact commit ${String(c.artifactCommitCid)}, proof commit ${root}`
        : undefined,
    );
  });
}

async function plcLog(c: InteropCase, env: CaseEnv): Promise<CaseResult> {
  return run(async () => {
    const log = await json(env, c.file);
    if (typeof c.entries === 'number') expectEqual((log as unknown[]).length, c.entries, 'entries');
    const state = validatePlcAuditLog(log, String(c.did));
    const want = c.finalState as
      | 'tombstoned'
      | { atprotoKey: string | null; pds: string | null; alsoKnownAs: string[] }
      | undefined;
    if (want === 'tombstoned' || state === 'tombstoned') {
      expectEqual(state, want, 'final state');
      return ok();
    }
    if (want) {
      expectEqual(state.atprotoKey, want.atprotoKey, 'atproto key');
      expectEqual(state.pds, want.pds, 'PDS');
      expectEqual(JSON.stringify(state.alsoKnownAs), JSON.stringify(want.alsoKnownAs), 'alsoKnownAs');
    }
    if (typeof c.didDoc === 'string') {
      const identity = parseDidDocument(await json(env, c.didDoc), String(c.did));
      expectEqual(identity.signingKey, state.atprotoKey, 'DID document key');
    }
    return ok();
  });
}

export const atprotoFamily: FamilyHandlers = {
  family: 'atproto',
  handlers: { signature, didkey, mst, 'car-commit': carCommit, 'plc-log': plcLog },
  judge: (testCase, result) => (testCase.expect.valid ?? testCase.expect.verified) === result.verified,
};
