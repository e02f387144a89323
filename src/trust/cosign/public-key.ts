/**
 * Public keys as cosign trusts them: PEM `PUBLIC KEY` (SPKI) of ECDSA P-256/P-384/P-521, RSA
 * (PKCS#1 v1.5 or PSS) or Ed25519, parsed once when the trust material loads (`--key`,
 * `verifiers.cosign.keys`) and given a stable id. The signature checks with them are
 * verifiers/cosign/public-key.ts.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { VouchError } from '../../errors.js';

/** A trusted (or certificate-embedded) public key with a stable id for reports and thresholds. */
export interface CosignPublicKey {
  /** `sha256:<hex>` of the SPKI DER: the same key always has the same id. */
  readonly id: string;
  readonly key: KeyObject;
  /** `ecdsa-p256`, `ecdsa-p384`, `ecdsa-p521`, `rsa`, `ed25519`, … */
  readonly algorithm: string;
  /** SPKI DER, for comparing with keys named in Rekor entries. */
  readonly spki: Buffer;
  /** Where the key came from (file path, `certificate`, …), for messages. */
  readonly source: string;
}

/** Parses one PEM `PUBLIC KEY` (or a certificate-less SPKI DER); throws TRUST_MATERIAL_INVALID. */
export function parsePublicKey(input: string | Buffer, source: string): CosignPublicKey {
  let key: KeyObject;
  try {
    key =
      typeof input === 'string'
        ? createPublicKey({ key: input, format: 'pem' })
        : createPublicKey({ key: input, format: 'der', type: 'spki' });
  } catch (err) {
    throw new VouchError('TRUST_MATERIAL_INVALID', `${source}: not a PEM public key`, { cause: err });
  }
  return describeKey(key, source);
}

/** Wraps a KeyObject (e.g. from a certificate) in the same shape as a configured key. */
export function describeKey(key: KeyObject, source: string): CosignPublicKey {
  const algorithm = keyAlgorithm(key);
  if (algorithm === undefined) {
    throw new VouchError(
      'TRUST_MATERIAL_INVALID',
      `${source}: unsupported key type ${String(key.asymmetricKeyType)}`,
    );
  }
  const spki = key.export({ format: 'der', type: 'spki' });
  return { id: `sha256:${createHash('sha256').update(spki).digest('hex')}`, key, algorithm, spki, source };
}

function keyAlgorithm(key: KeyObject): string | undefined {
  switch (key.asymmetricKeyType) {
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      if (curve === 'prime256v1') return 'ecdsa-p256';
      if (curve === 'secp384r1') return 'ecdsa-p384';
      if (curve === 'secp521r1') return 'ecdsa-p521';
      return undefined;
    }
    case 'rsa':
      return (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048 ? 'rsa' : undefined;
    case 'rsa-pss':
      return 'rsa-pss';
    case 'ed25519':
      return 'ed25519';
    default:
      return undefined;
  }
}

/** Splits a PEM bundle into its blocks of the given label (e.g. `CERTIFICATE`, `PUBLIC KEY`). */
export function pemBlocks(text: string, label: string): string[] {
  const re = new RegExp(`-----BEGIN ${label}-----[\\s\\S]*?-----END ${label}-----`, 'g');
  return text.match(re) ?? [];
}
