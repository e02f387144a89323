/**
 * Raw signature checks with cosign public keys, over exact bytes.
 *
 * cosign `verify --key` loads the key with sigstore's `signature.LoadVerifier(pub, crypto.SHA256)`:
 * ECDSA signatures are ASN.1 DER over SHA-256, RSA is PKCS#1 v1.5 over SHA-256 (PSS when the
 * signer chose it), Ed25519 is pure (no pre-hash). sigstore-go picks SHA-384 for P-384 keys, so
 * both digests are accepted for that curve. The keys themselves are parsed in
 * trust/cosign/public-key.ts (re-exported here for the callers that check signatures).
 */
import { constants as cryptoConstants, verify } from 'node:crypto';
import type { CosignPublicKey } from '../../trust/cosign/public-key.js';

export {
  type CosignPublicKey,
  describeKey,
  parsePublicKey,
  pemBlocks,
} from '../../trust/cosign/public-key.js';

/**
 * Verifies `signature` over the exact `data` bytes with `key`, using the digests cosign and
 * sigstore-go use for that key type. Returns false for a bad or unparseable signature.
 */
export function verifyRawSignature(key: CosignPublicKey, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    switch (key.algorithm) {
      case 'ed25519':
        return verify(null, data, key.key, signature);
      case 'ecdsa-p256':
        return verify('sha256', data, key.key, signature);
      case 'ecdsa-p384':
        return verify('sha256', data, key.key, signature) || verify('sha384', data, key.key, signature);
      case 'ecdsa-p521':
        return verify('sha256', data, key.key, signature) || verify('sha512', data, key.key, signature);
      case 'rsa':
        return (
          verify('sha256', data, { key: key.key, padding: cryptoConstants.RSA_PKCS1_PADDING }, signature) ||
          verify(
            'sha256',
            data,
            {
              key: key.key,
              padding: cryptoConstants.RSA_PKCS1_PSS_PADDING,
              saltLength: cryptoConstants.RSA_PSS_SALTLEN_AUTO,
            },
            signature,
          )
        );
      case 'rsa-pss':
        return verify('sha256', data, key.key, signature);
      default:
        return false;
    }
  } catch {
    return false;
  }
}
