/** What the pure Notary Project verification core returns. */
import type { VerificationCheck } from '../../trust/notation/policy.js';

/**
 * Fine-grained failure codes. `reasonFor` maps them to the verifier's stable report reasons; the interop
 * handlers map them to the vector vocabulary.
 */
export type NotationFailureCode =
  | 'malformed'
  | 'integrity'
  | 'digest-mismatch'
  | 'unsupported'
  | 'untrusted-chain'
  | 'identity'
  | 'expired'
  | 'cert-expired'
  | 'cert-not-yet-valid'
  | 'timestamp'
  | 'revoked'
  | 'revocation-unknown';

export interface NotationFailure {
  readonly check: VerificationCheck;
  readonly code: NotationFailureCode;
  readonly message: string;
}

export interface NotationResult {
  readonly verified: boolean;
  /** The enforced failure that stopped verification (absent when verified). */
  readonly failure?: NotationFailure;
  /** Failures of checks whose action is `log` (verification continued). */
  readonly logged: readonly NotationFailure[];
  /** Facts for the report: signer, times, chain thumbprints, level, statement. */
  readonly details: Readonly<Record<string, unknown>>;
  /** The parsed chain, DER leaf first, for a revocation check the caller performs (absent when not needed). */
  readonly revocationPending?: {
    readonly chain: readonly Uint8Array[];
    /**
     * How many certificates, from the leaf, are anchored (up to the highest one in a trust store).
     * Only their OCSP and CRL addresses may be contacted: a certificate above the anchor was
     * supplied by the signer and could name any URL.
     */
    readonly anchored: number;
    readonly action: 'enforce' | 'log';
    readonly signingTime?: Date;
  };
}

/** The report reason for a failure code. */
export function reasonFor(code: NotationFailureCode): string {
  switch (code) {
    case 'untrusted-chain':
    case 'identity':
      return 'untrusted-signer';
    case 'cert-expired':
      return 'expired';
    case 'cert-not-yet-valid':
      return 'not-yet-valid';
    default:
      return code;
  }
}
