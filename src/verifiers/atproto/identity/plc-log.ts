/**
 * did:plc audit-log validation (github.com/did-method-plc/did-method-plc: `packages/lib/src/data.ts`
 * `assureValidNextOp`, `operations.ts`; interop vectors `interop_tests/audit_log`). The log of
 * `GET {plc}/{did}/log/audit` is replayed in order as the reference server does:
 * - the genesis operation has `prev: null`, is signed by one of its own rotation keys, and hashes
 *   to the DID (`did:plc:` + first 24 chars of base32(SHA-256(DAG-CBOR of the signed op)));
 * - every later operation names an operation still in the canonical history as `prev`; appending
 *   needs a signature by a rotation key of that operation; forking (nullifying later operations)
 *   needs a key of higher priority than the one that signed the first nullified operation, a later
 *   timestamp, and at most 72 h after the first nullified operation;
 * - nothing follows a tombstone; signatures are compact low-S, in unpadded canonical base64url.
 */
import { createHash } from 'node:crypto';
import * as dagCbor from '@ipld/dag-cbor';
import { base32 } from 'multiformats/bases/base32';
import { AtprotoFailure, malformed, shown } from '../failure.js';
import { cidForBlock } from '../repo/car.js';
import { parseDidKey, verifySignature } from '../repo/keys.js';

/** The state a valid log ends in (the last operation still in the canonical history). */
export interface PlcState {
  readonly atprotoKey: string | null;
  readonly pds: string | null;
  readonly alsoKnownAs: readonly string[];
}

interface Normalized {
  readonly rotationKeys: readonly string[];
  readonly state: PlcState;
}

interface Applied {
  readonly cid: string;
  readonly op: Record<string, unknown>;
  readonly createdAt: number;
  /** null for a tombstone */
  readonly normalized: Normalized | null;
}

const RECOVERY_WINDOW_MS = 72 * 3600 * 1000;

function invalid(message: string): AtprotoFailure {
  return new AtprotoFailure('malformed', `PLC audit log: ${message}`);
}

/** Strict base64url: no padding, no other characters, zero trailing bits. */
function decodeSig(sig: unknown): Uint8Array {
  if (typeof sig !== 'string' || !/^[A-Za-z0-9_-]*$/.test(sig) || sig.length % 4 === 1)
    throw invalid('signature is not base64url');
  const bytes = Buffer.from(sig, 'base64url');
  if (bytes.toString('base64url') !== sig) throw invalid('signature base64url has non-zero padding bits');
  return bytes;
}

function normalize(op: Record<string, unknown>): Normalized | null {
  if (op.type === 'plc_tombstone') return null;
  if (op.type === 'create') {
    const { signingKey, recoveryKey, handle, service } = op;
    if (
      typeof signingKey !== 'string' ||
      typeof recoveryKey !== 'string' ||
      typeof handle !== 'string' ||
      typeof service !== 'string'
    ) {
      throw invalid('legacy create operation lacks signingKey, recoveryKey, handle or service');
    }
    return {
      rotationKeys: [recoveryKey, signingKey],
      state: {
        atprotoKey: signingKey,
        pds: /^https?:\/\//.test(service) ? service : `https://${service}`,
        alsoKnownAs: [handle.startsWith('at://') ? handle : `at://${handle}`],
      },
    };
  }
  if (op.type !== 'plc_operation')
    throw invalid(`unknown operation type ${JSON.stringify(op.type)?.slice(0, 40)}`);
  const { rotationKeys, verificationMethods, alsoKnownAs, services } = op;
  if (!Array.isArray(rotationKeys) || !rotationKeys.every((k) => typeof k === 'string'))
    throw invalid('rotationKeys is not a list of strings');
  if (!Array.isArray(alsoKnownAs) || !alsoKnownAs.every((k) => typeof k === 'string'))
    throw invalid('alsoKnownAs is not a list of strings');
  if (typeof verificationMethods !== 'object' || verificationMethods === null)
    throw invalid('verificationMethods is not a map');
  if (typeof services !== 'object' || services === null) throw invalid('services is not a map');
  const atproto = (verificationMethods as Record<string, unknown>).atproto;
  const pds = (services as Record<string, { endpoint?: unknown } | undefined>).atproto_pds?.endpoint;
  return {
    rotationKeys: rotationKeys as string[],
    state: {
      atprotoKey: typeof atproto === 'string' ? atproto : null,
      pds: typeof pds === 'string' ? pds : null,
      alsoKnownAs: alsoKnownAs as string[],
    },
  };
}

/** Returns the rotation key (from `allowed`) whose signature over the op verifies, or throws. */
function signerOf(allowed: readonly string[], op: Record<string, unknown>): string {
  const sig = decodeSig(op.sig);
  const unsigned: Record<string, unknown> = { ...op };
  delete unsigned.sig;
  const data = dagCbor.encode(unsigned);
  for (const didKey of allowed) {
    let ok = false;
    try {
      ok = verifySignature(parseDidKey(didKey), data, sig) === 'ok';
    } catch {
      ok = false;
    }
    if (ok) return didKey;
  }
  throw invalid('invalid signature on operation');
}

function didForGenesis(op: Record<string, unknown>): string {
  const hash = createHash('sha256').update(dagCbor.encode(op)).digest();
  return `did:plc:${base32.baseEncode(hash).slice(0, 24)}`;
}

/**
 * Validates an audit log for `did`; returns the final state, or 'tombstoned'. Throws
 * `malformed` naming the first rule broken.
 */
export function validatePlcAuditLog(log: unknown, did: string): PlcState | 'tombstoned' {
  if (!Array.isArray(log) || log.length === 0) throw invalid('not a non-empty array');
  if (log.length > 10_000) throw invalid('too many entries');
  let history: Applied[] = [];
  for (const entry of log) {
    if (typeof entry !== 'object' || entry === null) throw invalid('an entry is not an object');
    const e = entry as Record<string, unknown>;
    if (e.did !== did) throw invalid(`an entry is for ${shown(e.did, 60)}, not ${did}`);
    const op = e.operation;
    if (typeof op !== 'object' || op === null || Array.isArray(op))
      throw invalid('an entry has no operation');
    const opMap = op as Record<string, unknown>;
    const createdAt = typeof e.createdAt === 'string' ? Date.parse(e.createdAt) : Number.NaN;
    if (Number.isNaN(createdAt)) throw invalid('an entry has no valid createdAt');
    let cid: string;
    try {
      cid = cidForBlock(dagCbor.encode(opMap)).toString();
    } catch (err) {
      throw malformed('PLC audit log: an operation is not encodable', err);
    }
    if (typeof e.cid === 'string' && e.cid !== cid)
      throw invalid(`entry cid ${e.cid.slice(0, 60)} does not match its operation`);
    const normalized = normalize(opMap);

    if (history.length === 0) {
      if (!normalized) throw invalid('operations not correctly ordered (log starts with a tombstone)');
      if (opMap.prev !== null && opMap.prev !== undefined) throw invalid('genesis operation has a prev');
      signerOf(normalized.rotationKeys, opMap);
      if (didForGenesis(opMap) !== did) throw invalid(`genesis operation does not hash to ${did}`);
      history = [{ cid, op: opMap, createdAt, normalized }];
      continue;
    }
    const prevIndex = typeof opMap.prev === 'string' ? history.findIndex((h) => h.cid === opMap.prev) : -1;
    if (prevIndex < 0)
      throw invalid('operations not correctly ordered (prev is not in the canonical history)');
    const kept = history.slice(0, prevIndex + 1);
    const nullified = history.slice(prevIndex + 1);
    const last = kept[kept.length - 1]!;
    if (!last.normalized) throw invalid('operations not correctly ordered (operation after a tombstone)');
    const firstNullified = nullified[0];
    if (!firstNullified) {
      signerOf(last.normalized.rotationKeys, opMap);
    } else {
      const disputed = signerOf(last.normalized.rotationKeys, firstNullified.op);
      const stronger = last.normalized.rotationKeys.slice(0, last.normalized.rotationKeys.indexOf(disputed));
      signerOf(stronger, opMap);
      const newest = history[history.length - 1]!;
      if (createdAt <= newest.createdAt) throw invalid('operations not correctly ordered (timestamps)');
      if (createdAt - firstNullified.createdAt > RECOVERY_WINDOW_MS) {
        throw invalid('recovery operation occurred outside of the allowed 72 hr recovery window');
      }
    }
    history = [...kept, { cid, op: opMap, createdAt, normalized }];
  }
  const final = history[history.length - 1]!;
  return final.normalized ? final.normalized.state : 'tombstoned';
}
