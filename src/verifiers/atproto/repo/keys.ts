/**
 * ATProto signing keys: `did:key` strings, DID-document key layouts, and signature checks.
 *
 * atproto cryptography (atproto.com/specs/cryptography): two curves, P-256 ("ES256") and
 * secp256k1 ("ES256K"); signatures are ECDSA over SHA-256 in compact 64-byte `r || s` form with
 * `s <= n/2` (low-S) required — DER and high-S signatures are rejected even though they are
 * mathematically valid (atproto `packages/crypto/src/p256/operations.ts`).
 */
import { createPublicKey, type KeyObject, verify as nodeVerify } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { base58btc } from 'multiformats/bases/base58';
import { malformed } from '../failure.js';

export type Curve = 'k256' | 'p256';

/** A public key of one of the two atproto curves, compressed (33 bytes). */
export interface AtprotoPublicKey {
  readonly curve: Curve;
  readonly compressed: Uint8Array;
  /** `did:key:z…` form (multicodec-prefixed, compressed, base58btc). */
  readonly didKey: string;
}

/** Multicodec varint prefixes (atproto `packages/crypto/src/const.ts`). */
const PREFIX: Record<Curve, readonly [number, number]> = { k256: [0xe7, 0x01], p256: [0x80, 0x24] };
const CURVES = { k256: secp256k1, p256 } as const;
const JWK_CRV: Record<Curve, string> = { k256: 'secp256k1', p256: 'P-256' };
const ORDER: Record<Curve, bigint> = { k256: secp256k1.Point.CURVE().n, p256: p256.Point.CURVE().n };

function decodeBase58Multibase(value: string, what: string): Uint8Array {
  if (!value.startsWith('z') || value.length > 200)
    throw malformed(`${what} is not a base58btc multibase string`);
  try {
    return base58btc.decode(value);
  } catch (err) {
    throw malformed(`${what} is not valid base58btc`, err);
  }
}

/** Builds a key from raw point bytes (33 compressed or 65 uncompressed), checking it is on the curve. */
export function keyFromRawPoint(curve: Curve, raw: Uint8Array): AtprotoPublicKey {
  if (raw.length !== 33 && raw.length !== 65)
    throw malformed(`a ${curve} public key has ${raw.length} bytes`);
  let compressed: Uint8Array;
  try {
    compressed = CURVES[curve].Point.fromBytes(raw).toBytes(true);
  } catch (err) {
    throw malformed(`the ${curve} public key is not a point on the curve`, err);
  }
  const prefixed = new Uint8Array(2 + compressed.length);
  prefixed.set(PREFIX[curve]);
  prefixed.set(compressed, 2);
  return { curve, compressed, didKey: `did:key:${base58btc.encode(prefixed)}` };
}

/** Parses multicodec-prefixed key bytes (the body of a `did:key` or a Multikey). */
function keyFromPrefixed(bytes: Uint8Array, what: string): AtprotoPublicKey {
  for (const curve of ['k256', 'p256'] as const) {
    const [a, b] = PREFIX[curve];
    if (bytes[0] === a && bytes[1] === b) return keyFromRawPoint(curve, bytes.subarray(2));
  }
  throw malformed(`${what} names a key type other than P-256 or secp256k1`);
}

/** Parses `did:key:z…` (atproto supports only the two curves above). */
export function parseDidKey(didKey: string): AtprotoPublicKey {
  if (!didKey.startsWith('did:key:')) throw malformed(`"${didKey.slice(0, 40)}" is not a did:key`);
  return keyFromPrefixed(
    decodeBase58Multibase(didKey.slice('did:key:'.length), 'the did:key'),
    'the did:key',
  );
}

/**
 * Parses a DID document verification method in either layout found in the wild
 * (atproto `packages/identity/src/did/atproto-data.ts`): `Multikey` with a multicodec-prefixed
 * compressed key, or the legacy `EcdsaSecp256k1VerificationKey2019` /
 * `EcdsaSecp256r1VerificationKey2019` with the raw (often uncompressed) point and no prefix.
 */
export function keyFromVerificationMethod(type: string, publicKeyMultibase: string): AtprotoPublicKey {
  const bytes = decodeBase58Multibase(publicKeyMultibase, 'publicKeyMultibase');
  switch (type) {
    case 'Multikey':
      return keyFromPrefixed(bytes, 'the Multikey');
    case 'EcdsaSecp256k1VerificationKey2019':
      return keyFromRawPoint('k256', bytes);
    case 'EcdsaSecp256r1VerificationKey2019':
      return keyFromRawPoint('p256', bytes);
    default:
      throw malformed(`verification method type "${type.slice(0, 60)}" is not an atproto key type`);
  }
}

/** The did:key of a private key (used by the interop vectors and the test signer). */
export function didKeyFromPrivateKey(curve: Curve, privateKey: Uint8Array): string {
  return keyFromRawPoint(curve, CURVES[curve].getPublicKey(privateKey, true)).didKey;
}

export type SignatureCheck = 'ok' | 'high-s' | 'invalid';

const keyObjects = new WeakMap<AtprotoPublicKey, KeyObject>();

function keyObjectOf(key: AtprotoPublicKey): KeyObject {
  let ko = keyObjects.get(key);
  if (!ko) {
    const { x, y } = CURVES[key.curve].Point.fromBytes(key.compressed).toAffine();
    const b64 = (n: bigint) => Buffer.from(n.toString(16).padStart(64, '0'), 'hex').toString('base64url');
    ko = createPublicKey({
      key: { kty: 'EC', crv: JWK_CRV[key.curve], x: b64(x), y: b64(y) },
      format: 'jwk',
    });
    keyObjects.set(key, ko);
  }
  return ko;
}

/**
 * Verifies an atproto signature over `data` (SHA-256 is applied here). Only the compact 64-byte
 * form is accepted; `high-s` when s > n/2 (atproto's low-S rule), `invalid` for anything else.
 */
export function verifySignature(key: AtprotoPublicKey, data: Uint8Array, sig: Uint8Array): SignatureCheck {
  if (sig.length !== 64) return 'invalid';
  const n = ORDER[key.curve];
  const r = BigInt(`0x${Buffer.from(sig.subarray(0, 32)).toString('hex')}`);
  const s = BigInt(`0x${Buffer.from(sig.subarray(32)).toString('hex')}`);
  if (r === 0n || s === 0n || r >= n || s >= n) return 'invalid';
  if (s > n >> 1n) return 'high-s';
  const ok = nodeVerify('sha256', data, { key: keyObjectOf(key), dsaEncoding: 'ieee-p1363' }, sig);
  return ok ? 'ok' : 'invalid';
}
