/** The Notary Project trust material, loaded and validated once and handed to the verifier. */
import type { StoreType, TrustPolicyDocument } from './policy.js';
import type { NamedTrustStore } from './store.js';

export interface NotationTrust {
  readonly policy: TrustPolicyDocument;
  /** Loaded stores by type and name (only those the policy references, plus those configured explicitly). */
  readonly stores: Readonly<Record<StoreType, ReadonlyMap<string, NamedTrustStore>>>;
  /** Hash of the policy and every trusted certificate: changes whenever the trust material changes. */
  readonly generation: string;
  readonly revocation: {
    readonly timeoutMs: number;
    /** Contact OCSP/CRL addresses on loopback, private and link-local networks (default false). */
    readonly allowPrivateNetwork?: boolean;
  };
}
