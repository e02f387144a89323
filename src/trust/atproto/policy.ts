/**
 * The ATCR trust policy, validated and compiled: which DIDs may sign which images, and when.
 * Scope globs are matched against the normalized image name (`registry/repository`): `*` matches
 * within one path segment, `**` across segments. The first policy whose scope matches applies
 * (file order, as ATCR's provider reads them). Validity windows are evaluated at verification time.
 */

export interface TrustedDid {
  readonly did: string;
  readonly name?: string;
  readonly validFrom?: Date;
  readonly expiresAt?: Date;
}

export interface ScopedPolicy {
  readonly name: string;
  readonly scope: string;
  readonly regex: RegExp;
  readonly requireSignature: boolean;
  readonly trustedDIDs: readonly string[];
  readonly action: 'enforce' | 'audit';
}

export interface AtcrTrustPolicy {
  readonly trustedDIDs: ReadonlyMap<string, TrustedDid>;
  readonly policies: readonly ScopedPolicy[];
  /** Holds whose scan records count (each also in `trustedDIDs`); empty: scans are not read. */
  readonly trustedHolds: readonly string[];
}

/** Compiles a scope glob to an anchored regular expression. */
export function compileScopeGlob(scope: string): RegExp {
  let source = '';
  for (let i = 0; i < scope.length; i++) {
    const ch = scope[i]!;
    if (ch === '*' && scope[i + 1] === '*') {
      source += '.*';
      i++;
    } else if (ch === '*') {
      source += '[^/]*';
    } else {
      source += ch.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${source}$`);
}

/** The policy that applies to `imageName`, if any. */
export function policyFor(policy: AtcrTrustPolicy, imageName: string): ScopedPolicy | undefined {
  return policy.policies.find((p) => p.regex.test(imageName));
}

export type SignerDecision =
  | { readonly trusted: true; readonly entry: TrustedDid; readonly policy?: ScopedPolicy }
  | {
      readonly trusted: false;
      readonly message: string;
      readonly entry?: TrustedDid;
      readonly policy?: ScopedPolicy;
    };

/** Decides whether `did` may sign `imageName` at `now`. */
export function decideSigner(
  policy: AtcrTrustPolicy,
  imageName: string,
  did: string,
  now: Date,
): SignerDecision {
  const scoped = policyFor(policy, imageName);
  const entry = policy.trustedDIDs.get(did);
  const withPolicy = scoped ? { policy: scoped } : {};
  if (scoped && !scoped.trustedDIDs.includes(did)) {
    return {
      trusted: false,
      message: `${did} is not trusted by policy "${scoped.name}" for ${imageName}`,
      ...withPolicy,
    };
  }
  if (!entry) return { trusted: false, message: `${did} is not in trustedDIDs`, ...withPolicy };
  if (entry.validFrom && now < entry.validFrom) {
    return {
      trusted: false,
      entry,
      message: `${did} is trusted only from ${entry.validFrom.toISOString()}`,
      ...withPolicy,
    };
  }
  if (entry.expiresAt && now > entry.expiresAt) {
    return {
      trusted: false,
      entry,
      message: `trust in ${did} expired at ${entry.expiresAt.toISOString()}`,
      ...withPolicy,
    };
  }
  return { trusted: true, entry, ...withPolicy };
}

/**
 * Decides whether the hold `did` may vouch for scan results at `now`: listed in `trustedHolds`
 * and in `trustedDIDs` within its validity window. A hold is never a signer of images by this.
 */
export function decideHold(
  policy: AtcrTrustPolicy,
  did: string,
  now: Date,
):
  | { readonly trusted: true; readonly entry: TrustedDid }
  | { readonly trusted: false; readonly message: string } {
  const entry = policy.trustedDIDs.get(did);
  if (!policy.trustedHolds.includes(did) || !entry)
    return { trusted: false, message: `the hold ${did} is not in the ATCR policy's trustedHolds` };
  if (entry.validFrom && now < entry.validFrom)
    return {
      trusted: false,
      message: `the hold ${did} is trusted only from ${entry.validFrom.toISOString()}`,
    };
  if (entry.expiresAt && now > entry.expiresAt)
    return {
      trusted: false,
      message: `trust in the hold ${did} expired at ${entry.expiresAt.toISOString()}`,
    };
  return { trusted: true, entry };
}
