/**
 * vouch as a library: `import { … } from 'vouch'`.
 *
 * The path every decision takes is reference → registry → referrers → verifiers → policy; this
 * entry point exports each stage's public face. Everything exported here is API: names and
 * shapes change only with the package's major version.
 *
 * @example
 * ```ts
 * import { createRegistryClient, discoverArtifacts, parseAnyReference } from 'vouch';
 *
 * const ref = parseAnyReference('registry.example/app:v1');
 * const client = createRegistryClient({ insecureHosts: [] });
 * try {
 *   const repository = client.repository(ref);
 *   const subject = await repository.resolve(ref.digest ?? ref.tag ?? 'latest');
 *   const artifacts = await discoverArtifacts(repository, subject, { signal: AbortSignal.timeout(5000) });
 * } finally {
 *   await client.close();
 * }
 * ```
 *
 * @packageDocumentation
 */

// ── engine seams ────────────────────────────────────────────────────────────
/** What discovery returns and what verifiers, the policy and the engine exchange. */
export type {
  Artifact,
  ArtifactContent,
  ArtifactKind,
  ArtifactNeeds,
  ArtifactSource,
  Decision,
  FetchedLayer,
  LayerNeeds,
  Outcome,
  Report,
  RunContext,
  ScopePolicy,
  Subject,
  Verifier,
  VerifierSubject,
  VerifyContext,
} from './engine/types.js';
export type { VouchErrorCode } from './errors.js';
// ── errors ──────────────────────────────────────────────────────────────────
/**
 * The one error class vouch throws, with a stable `code` (`VouchErrorCode`) that callers and
 * exit codes key on, and a message for people.
 */
export { isVouchError, TRANSIENT_CODES, toVouchError, VouchError } from './errors.js';
// ── references ──────────────────────────────────────────────────────────────
/**
 * Image references (docker/distribution grammar, docker.io normalization) and OCI layout
 * references `oci:<dir>[:<tag>|@<digest>]`; digest validation (sha256, sha512).
 */
export {
  computeDigest,
  formatReference,
  isDigest,
  isLayoutReference,
  manifestReference,
  parseAnyReference,
  parseReference,
  pinnedReference,
  repositoryName,
  validateDigest,
  withDefaultTag,
} from './reference/index.js';
export type { ImageReference, LayoutReference } from './reference/types.js';
export type { AttachOptions, DiscoverOptions } from './referrers/index.js';
// ── referrers ───────────────────────────────────────────────────────────────
/**
 * Discovery of the artifacts attached to an image (OCI referrers and cosign's tag schema, nested)
 * and attaching artifacts (OCI 1.1 artifact manifests with `subject`, tag-schema fallback).
 */
export {
  attachArtifact,
  cosignTag,
  DEFAULT_DISCOVERY_DEPTH,
  discoverArtifacts,
  flattenArtifacts,
  referrersTag,
} from './referrers/index.js';
export type { Credential, CredentialStore } from './registry/auth/index.js';
/** Registry credentials: docker config.json (with credential helpers) and explicit ones. */
export {
  ChainCredentialStore,
  DockerConfigCredentialStore,
  StaticCredentialStore,
} from './registry/auth/index.js';
export type { RegistryClient } from './registry/client.js';
/** A client handing out Repositories: remote references to the registry client, `oci:` ones to the layout store. */
export { createRegistryClient } from './registry/client.js';
/** The OCI image layout store (image-spec `image-layout.md`), read and write. */
export { LayoutRepository, openLayoutRepository } from './registry/layout/index.js';
export type { RegistryRequestEvent, RemoteRegistryOptions } from './registry/remote/index.js';
/** The remote OCI distribution 1.1 client (auth, retries, limits, Referrers API with tag-schema fallback). */
export { RemoteRegistry } from './registry/remote/index.js';
export type {
  BlobReadOptions,
  Descriptor,
  FetchedManifest,
  ImageIndex,
  ImageManifest,
  Manifest,
  PushManifestOptions,
  PushManifestResult,
  ReadOptions,
  ReadonlyRepository,
  ReferrersListing,
  ReferrersOptions,
  ReferrersSource,
  Repository,
} from './registry/types.js';
// ── registry ────────────────────────────────────────────────────────────────
/**
 * The Registry seam: a `Repository` resolves, fetches (digest-checked, size-limited), lists
 * referrers and pushes, whether it is a remote OCI registry or an OCI image layout directory.
 */
export { MAX_MANIFEST_BYTES, MediaType } from './registry/types.js';

// ── deciding: engine, policy, configuration ────────────────────────────────────────────────

export { createMemoryCache } from './cache/memory.js';
/** The Cache seam and its in-process implementation. */
export type { Cache } from './cache/types.js';
export { type ComposeOptions, composeConfig } from './config/compose.js';
export { loadConfigFile, validateConfig } from './config/load.js';
export { buildRuntime, buildVerifiers, type Runtime, type RuntimeOptions } from './config/runtime.js';
/** The one vouch.yaml schema, its loader, flag composition and the runtime it describes. */
export { configSchema, type VouchConfig, type VouchConfigInput } from './config/schema.js';
/** The engine: reference → registry → referrers → verifiers → policy → decision. */
export { type DecideOptions, Engine, type EngineOptions, subjectName } from './engine/engine.js';
/** One verifier on one artifact, as the engine runs it: its needs read, then its verdict. */
export { verifyArtifact } from './engine/run.js';
/** vouch's policy: scoped rules, any/all, enforce/audit, a default. */
export { compilePolicy, type Policy, type SelectedRule, type Verdict } from './policy/policy.js';
export { type PolicyConfig, policySchema } from './policy/types.js';

// ── verifiers and signers, one per format ───────────────────────────────────────────────────

export { signAtproto } from './sign/atproto/index.js';
export { signCosign } from './sign/cosign/index.js';
export { signNotation } from './sign/notation/index.js';
export { loadAtprotoTrust } from './trust/atproto/load.js';
export { loadCosignTrust } from './trust/cosign/load.js';
export { loadNotationTrust } from './trust/notation/load.js';
export { createAtprotoVerifier } from './verifiers/atproto/index.js';
export { createCosignVerifier } from './verifiers/cosign/index.js';
export { createNotationVerifier } from './verifiers/notation/index.js';
