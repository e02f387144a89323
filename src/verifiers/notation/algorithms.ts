/**
 * The Notary Project's signature algorithms and how a certificate's key selects one.
 * Spec: specs/signature-specification.md "Signature Algorithm Requirements" and "Algorithm Selection";
 * specs/signature-envelope-jws.md and -cose.md "Supported alg header values".
 */
import { constants, createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import type { ParsedCertificate } from '../../trust/notation/certificate.js';

export type SignatureAlgorithm = 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512';

/** COSE `alg` labels (RFC 9053 / IANA) for the Notary Project algorithms. */
export const COSE_ALG: Readonly<Record<SignatureAlgorithm, number>> = {
  PS256: -37,
  PS384: -38,
  PS512: -39,
  ES256: -7,
  ES384: -35,
  ES512: -36,
};

export function algorithmFromCoseLabel(label: unknown): SignatureAlgorithm | undefined {
  for (const [name, value] of Object.entries(COSE_ALG))
    if (value === label) return name as SignatureAlgorithm;
  return undefined;
}

export function isJwsAlgorithm(alg: unknown): alg is SignatureAlgorithm {
  return typeof alg === 'string' && alg in COSE_ALG;
}

const HASH: Readonly<Record<SignatureAlgorithm, 'sha256' | 'sha384' | 'sha512'>> = {
  PS256: 'sha256',
  PS384: 'sha384',
  PS512: 'sha512',
  ES256: 'sha256',
  ES384: 'sha384',
  ES512: 'sha512',
};

const HASH_BYTES = { sha256: 32, sha384: 48, sha512: 64 } as const;

/**
 * The algorithm a key must use (RSA 2048/3072/4096 -> PS256/384/512, P-256/384/521 -> ES256/384/512),
 * or a sentence saying why the key is not allowed.
 */
export function algorithmForKey(key: KeyObject): SignatureAlgorithm | { error: string } {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa') {
    switch (details.modulusLength) {
      case 2048:
        return 'PS256';
      case 3072:
        return 'PS384';
      case 4096:
        return 'PS512';
      default:
        return {
          error: `RSA key size ${details.modulusLength ?? 'unknown'} is not supported (2048, 3072 or 4096 bits)`,
        };
    }
  }
  if (key.asymmetricKeyType === 'ec') {
    switch (details.namedCurve) {
      case 'prime256v1':
        return 'ES256';
      case 'secp384r1':
        return 'ES384';
      case 'secp521r1':
        return 'ES512';
      default:
        return {
          error: `EC curve ${details.namedCurve ?? 'unknown'} is not supported (P-256, P-384 or P-521)`,
        };
    }
  }
  return { error: `key type ${key.asymmetricKeyType ?? 'unknown'} is not supported (RSA or EC)` };
}

const algorithmByCertificate = new WeakMap<ParsedCertificate, SignatureAlgorithm | { error: string }>();

/** The algorithm a certificate's key selects, or an error sentence (memoized: reading key details is costly). */
export function algorithmForCertificate(cert: ParsedCertificate): SignatureAlgorithm | { error: string } {
  const known = algorithmByCertificate.get(cert);
  if (known) return known;
  const alg = algorithmForKey(cert.publicKey);
  const result = typeof alg === 'string' ? alg : { error: `certificate "${cert.subject}": ${alg.error}` };
  algorithmByCertificate.set(cert, result);
  return result;
}

const HASH_OID_DER: Readonly<Record<'sha256' | 'sha384' | 'sha512', string>> = {
  sha256: '0609608648016503040201',
  sha384: '0609608648016503040202',
  sha512: '0609608648016503040203',
};
const EC_FIELD_BYTES: Readonly<Record<string, number>> = { ES256: 32, ES384: 48, ES512: 66 };

function derTlv(tag: number, body: Buffer): Buffer {
  const n = body.length;
  const len =
    n < 0x80
      ? Buffer.of(n)
      : n < 0x100
        ? Buffer.of(0x81, n)
        : n < 0x10000
          ? Buffer.of(0x82, n >> 8, n & 0xff)
          : Buffer.of(0x83, n >> 16, (n >> 8) & 0xff, n & 0xff);
  return Buffer.concat([Buffer.of(tag), len, body]);
}

/** Splits a DER TLV at `offset`: where its value starts and ends. */
function derValue(der: Uint8Array, offset: number): { start: number; end: number } {
  const first = der[offset + 1] ?? 0;
  if (first < 0x80) return { start: offset + 2, end: offset + 2 + first };
  let len = 0;
  const count = first & 0x7f;
  for (let i = 0; i < count; i++) len = len * 256 + (der[offset + 2 + i] ?? 0);
  return { start: offset + 2 + count, end: offset + 2 + count + len };
}

/**
 * The certificate's RSA key as an `rsa-pss` key restricted to one hash, MGF1 with that hash, and a
 * salt as long as the hash (RFC 4055 RSASSA-PSS-params): OpenSSL then verifies PSS with exactly
 * those parameters (a different salt length fails), and `crypto.verify` takes the KeyObject itself.
 * Passing `{ key, padding, saltLength }` instead costs Node two internal exceptions per call
 * (isKeyObject / isCryptoKey on the options object), a fixed overhead of ~15 µs per verification.
 */
const pssKeys = new WeakMap<KeyObject, Map<string, KeyObject | null>>();
function pssKeyFor(key: KeyObject, hash: 'sha256' | 'sha384' | 'sha512'): KeyObject | null {
  let byHash = pssKeys.get(key);
  if (!byHash) {
    byHash = new Map();
    pssKeys.set(key, byHash);
  }
  const known = byHash.get(hash);
  if (known !== undefined) return known;
  let pss: KeyObject | null = null;
  try {
    const spki = key.export({ format: 'der', type: 'spki' });
    const outer = derValue(spki, 0);
    const alg = derValue(spki, outer.start);
    const bitString = spki.subarray(alg.end, outer.end);
    const hashAlg = derTlv(
      0x30,
      Buffer.concat([Buffer.from(HASH_OID_DER[hash], 'hex'), Buffer.of(0x05, 0x00)]),
    );
    const mgf1 = derTlv(0x30, Buffer.concat([Buffer.from('06092a864886f70d010108', 'hex'), hashAlg]));
    const params = derTlv(
      0x30,
      Buffer.concat([
        derTlv(0xa0, hashAlg),
        derTlv(0xa1, mgf1),
        derTlv(0xa2, derTlv(0x02, Buffer.of(HASH_BYTES[hash]))),
      ]),
    );
    const algorithm = derTlv(0x30, Buffer.concat([Buffer.from('06092a864886f70d01010a', 'hex'), params]));
    pss = createPublicKey({
      key: derTlv(0x30, Buffer.concat([algorithm, bitString])),
      format: 'der',
      type: 'spki',
    });
  } catch {
    pss = null;
  }
  byHash.set(hash, pss);
  return pss;
}

/** An unsigned big-endian integer as the body of a DER INTEGER (minimal, positive). */
function derInteger(bytes: Uint8Array): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const body = Buffer.from(bytes.subarray(i));
  return derTlv(0x02, (body[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.of(0), body]) : body);
}

/**
 * Verifies a primitive signature. ECDSA signatures are the raw r||s form both JWS (RFC 7518 3.4) and
 * COSE (RFC 9053 2.1) use, exactly twice the field size long; RSASSA-PSS uses MGF1 with the same hash
 * and a salt as long as the hash.
 */
export function verifySignature(
  alg: SignatureAlgorithm,
  key: KeyObject,
  data: Uint8Array,
  signature: Uint8Array,
): boolean {
  const hash = HASH[alg];
  try {
    if (alg.startsWith('PS')) {
      const pss = pssKeyFor(key, hash);
      if (pss) return verify(hash, data, pss, signature);
      return verify(
        hash,
        data,
        { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: HASH_BYTES[hash] },
        signature,
      );
    }
    const n = EC_FIELD_BYTES[alg] ?? 0;
    if (signature.length !== 2 * n) return false;
    const der = derTlv(
      0x30,
      Buffer.concat([derInteger(signature.subarray(0, n)), derInteger(signature.subarray(n))]),
    );
    return verify(hash, data, key, der);
  } catch {
    return false;
  }
}

/** Signs with the algorithm's parameters (the signer's half of `verifySignature`). */
export function createSignature(alg: SignatureAlgorithm, key: KeyObject, data: Uint8Array): Uint8Array {
  const hash = HASH[alg];
  if (alg.startsWith('PS')) {
    return sign(hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: HASH_BYTES[hash] });
  }
  return sign(hash, data, { key, dsaEncoding: 'ieee-p1363' });
}

/** Parses a PEM private key (PKCS#8, PKCS#1 or SEC1). */
export function parsePrivateKey(pem: string): KeyObject {
  return createPrivateKey({ key: pem, format: 'pem' });
}
