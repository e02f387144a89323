/**
 * The three inputs of cosign verification, kept apart (STYLE habit 2): trust material (what is
 * trusted: CAs, log keys, a sigstore TrustMaterial for bundles), the policy (which signers and
 * identities, which attestations, how many) and the per-call options (time, limits).
 */
import type { X509Certificate } from '@sigstore/core';
import type { TrustMaterial } from '@sigstore/verify';
import type { CertificateAuthority, LogKey } from './certificate.js';
import type { ContentPredicatePolicy } from './content-predicate.js';
import type { IdentityMatcher } from './identity.js';
import type { ProvenanceExpectation } from './provenance.js';
import type { CosignPublicKey } from './public-key.js';

/** Trust material shared by every scope: loaded once, validated at start. */
export interface CosignTrustMaterial {
  readonly certificateAuthorities: readonly CertificateAuthority[];
  /** Configured intermediates (private PKI) usable to build chains, never trusted by themselves. */
  readonly intermediates: readonly X509Certificate[];
  readonly rekorKeys: readonly LogKey[];
  readonly ctLogs: readonly LogKey[];
  /** The same material in @sigstore/verify's form, for bundles; absent without a trusted root. */
  readonly sigstore?: TrustMaterial;
}

/** A declarative condition on an attestation predicate, compiled at load time. */
export interface PredicateCondition {
  /** The path as written, e.g. `buildDefinition.externalParameters.workflow.repository`. */
  readonly path: string;
  readonly segments: readonly (string | number)[];
  readonly equals?: string | number | boolean;
  /** Anchored. */
  readonly matches?: RegExp;
}

/** An attestation the policy requires: its predicate type and conditions. */
export interface AttestationRequirement {
  readonly predicateType: string;
  readonly conditions: readonly PredicateCondition[];
  /** SLSA provenance fields the predicate must name (provenance.ts). */
  readonly provenance?: ProvenanceExpectation;
  /** SBOM / vulnerability policy on an attested SBOM or report (content-predicate.ts). */
  readonly content?: ContentPredicatePolicy;
}

/** What one scope of the policy requires of cosign artifacts. */
export interface CosignPolicy {
  /** Trusted keys; when non-empty, signatures are verified with keys (certificates are ignored). */
  readonly keys: readonly CosignPublicKey[];
  /** Accepted certificate identities (keyless / PKI); any one must match. */
  readonly identities: readonly IdentityMatcher[];
  /** Distinct signers needed (distinct keys; verifying signatures with certificates). */
  readonly threshold: number;
  /** A Rekor entry (SET or bundle tlog entry) must verify. */
  readonly requireTlog: boolean;
  /** Embedded SCTs must verify against the CT logs (on by default for certificates). */
  readonly requireSct: boolean;
  /** When set, the payload's `critical.identity.docker-reference` must equal it. */
  readonly dockerReference?: string;
  readonly attestations: readonly AttestationRequirement[];
}
