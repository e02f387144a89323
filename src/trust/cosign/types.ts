/**
 * The three inputs of cosign verification, kept apart (STYLE habit 2): trust material (what is
 * trusted: CAs, log keys, a sigstore TrustMaterial for bundles), the policy (which signers and
 * identities, which attestations, how many) and the per-call options (time, limits). Types only:
 * trust/cosign builds these values when the config loads, verifiers/cosign reads them.
 */
import type { crypto as sigstoreCrypto, X509Certificate } from '@sigstore/core';
import type { TrustMaterial } from '@sigstore/verify';
import type { SbomPolicy, VulnerabilityPolicy } from '../../policy/content.js';
import type { CosignPublicKey } from './public-key.js';

/** A certificate authority from the trusted root (or configured roots): its chain, leaf-most first. */
export interface CertificateAuthority {
  readonly certChain: readonly X509Certificate[];
  readonly validFor: { readonly start: Date; readonly end: Date };
}

/** A CT log (or Rekor) key from the trusted root. */
export interface LogKey {
  readonly logId: Buffer;
  readonly publicKey: ReturnType<typeof sigstoreCrypto.createPublicKey>;
  readonly spki: Buffer;
  readonly validFor: { readonly start: Date; readonly end: Date };
}

/** The GitHub workflow facts Fulcio records in certificate extensions (verifiers/cosign/identity.ts). */
export type GithubField =
  | 'githubWorkflowTrigger'
  | 'githubWorkflowSha'
  | 'githubWorkflowName'
  | 'githubWorkflowRepository'
  | 'githubWorkflowRef';

/** A policy identity constraint, compiled (regexps anchored) at load time. */
export interface IdentityMatcher {
  readonly issuer?: string;
  readonly issuerRegExp?: RegExp;
  readonly subject?: string;
  readonly subjectRegExp?: RegExp;
  /** A DNS SAN the certificate must carry (private PKI certificates). */
  readonly hostname?: string;
  readonly github?: Partial<Record<GithubField, string>>;
}

/** SLSA provenance fields an attestation must name (verifiers/cosign/provenance.ts). */
export interface ProvenanceExpectation {
  readonly builderId?: string;
  readonly sourceRepository?: string;
  readonly sourceRef?: string;
  readonly buildType?: string;
}

/** The content policy of an attested SBOM or vulnerability report (verifiers/cosign/content-predicate.ts). */
export interface ContentPredicatePolicy {
  readonly sbom?: SbomPolicy;
  readonly vulnerabilities?: VulnerabilityPolicy;
}

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
