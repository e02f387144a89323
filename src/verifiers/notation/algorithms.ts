/**
 * The Notary Project's signature algorithms and how a certificate's key selects one.
 * Spec: specs/signature-specification.md "Signature Algorithm Requirements" and "Algorithm Selection";
 * specs/signature-envelope-jws.md and -cose.md "Supported alg header values".
 */
import { constants, createPrivateKey, type KeyObject, sign, verify } from 'node:crypto';
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

/**
 * Verifies a primitive signature. ECDSA signatures are the raw r||s form both JWS (RFC 7518 3.4) and
 * COSE (RFC 9053 2.1) use; RSASSA-PSS uses MGF1 with the same hash and a salt as long as the hash.
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
      return verify(
        hash,
        data,
        { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: HASH_BYTES[hash] },
        signature,
      );
    }
    return verify(hash, data, { key, dsaEncoding: 'ieee-p1363' }, signature);
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
