/**
 * The seams between the engine, the verifiers and the policy.
 * Verifiers are plain objects handed to the engine in an array; nothing registers itself.
 */
import type { Cache } from '../cache/types.js';
import type { Logger } from '../observability/logger.js';
import type { ImageReference, LayoutReference } from '../reference/types.js';
import type {
  Descriptor,
  FetchedManifest,
  ImageManifest,
  ReadonlyRepository,
  ReferrersSource,
} from '../registry/types.js';

/** The image being decided on, resolved to a digest. */
export interface Subject {
  /** Normalized reference without tag or digest, e.g. `docker.io/library/alpine` or `oci:/dir`. */
  readonly name: string;
  /** The reference as parsed. */
  readonly reference: ImageReference | LayoutReference;
  /** The manifest descriptor the reference resolved to (digest checked). */
  readonly descriptor: Descriptor;
  /** Where the image and its artifacts are read from (reads only: nothing on this path pushes). */
  readonly repository: ReadonlyRepository;
}

/**
 * The subject as a verifier sees it: named and resolved, without the repository (the engine reads
 * the artifact for the verifier; see `Verifier.reads`).
 */
export type VerifierSubject = Omit<Subject, 'repository'>;

/** How an artifact was found: the listing that named it (`ReferrersSource`), or cosign's tag schema. */
export type ArtifactSource = ReferrersSource | 'cosign-tag';

/** The cosign tag schema's kinds (`sha256-<hex>.sig|.att|.sbom`); `referrer` for OCI referrers. */
export type ArtifactKind = 'referrer' | 'cosign-signature' | 'cosign-attestation' | 'cosign-sbom';

/** A supply-chain artifact attached to a subject (or to another artifact). */
export interface Artifact {
  /** Descriptor of the artifact's manifest; `artifactType` set from the manifest when known. */
  readonly descriptor: Descriptor;
  readonly kind: ArtifactKind;
  readonly source: ArtifactSource;
  /** Artifacts attached to this artifact (signatures of an SBOM), to the configured depth. */
  readonly referrers: readonly Artifact[];
}

export type Outcome = 'verified' | 'failed' | 'inconclusive';

/**
 * Stable reason codes. Verifiers may add their own (kebab-case); these are the shared ones.
 */
export type CommonReason =
  | 'ok'
  | 'no-signature'
  | 'untrusted-signer'
  | 'invalid-signature'
  | 'integrity'
  | 'digest-mismatch'
  | 'expired'
  | 'not-yet-valid'
  | 'revoked'
  | 'malformed'
  | 'unsupported'
  | 'timeout'
  | 'unreachable'
  | 'error'
  | 'policy-skip';

/** One verifier's verdict on one artifact. */
export interface Report {
  readonly verifier: string;
  readonly artifact: Pick<Descriptor, 'digest' | 'mediaType' | 'artifactType'> & { readonly size?: number };
  readonly outcome: Outcome;
  /** Short stable code (`CommonReason` or verifier-specific kebab-case). */
  readonly reason: string;
  /** A sentence a person can act on. */
  readonly message: string;
  /** Facts about what was verified: signer identity, timestamps, predicate, … (no secrets). */
  readonly details: Readonly<Record<string, unknown>>;
  /** Reports on artifacts attached to this one. */
  readonly nested: readonly Report[];
}

/**
 * What the engine reads of an artifact for a verifier (`Verifier.reads`): its manifest, then the
 * layers chosen here, each digest-checked and size-limited. Whatever goes wrong is reported by the
 * engine, never by the verifier: a registry or transport error through the one table
 * (classify.ts), the refusals below as `failed` with the reason named.
 */
export interface ArtifactNeeds {
  /** What the artifact is, in messages: `the signature`, `the SBOM`. */
  readonly what: string;
  /** The layers to read; a function when the choice depends on the manifest (cosign). */
  readonly layers: LayerNeeds | ((manifest: ImageManifest) => LayerNeeds);
  /**
   * The manifest's `subject`, when it has one, must be the subject being verified; otherwise the
   * artifact fails with this reason (`digest-mismatch`, `subject-mismatch`).
   */
  readonly subjectMismatch?: string;
  /** Added to the details of every report the engine makes for this artifact. */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** Which layers of an artifact manifest a verifier reads, and how much of each. */
export interface LayerNeeds {
  /** The layer media types read (named in messages). */
  readonly mediaTypes: readonly string[];
  /** Whether a layer's media type is one of `mediaTypes`; default exact equality. */
  readonly matches?: (mediaType: string) => boolean;
  /**
   * `first`: the first matching layer; `one`: exactly one matching layer (more is `malformed`);
   * `{ max }`: every matching layer, at most `max` (more is `malformed`). None is always
   * `media-type-mismatch`.
   */
  readonly count: 'first' | 'one' | { readonly max: number };
  /** Largest layer read; a larger one is `too-large` (before it is fetched). */
  readonly maxBytes: number;
  /** The manifest must have exactly this many layers in all, else `malformed` (notation: 1). */
  readonly totalLayers?: number;
}

/** An artifact as the engine read it for a verifier: every byte digest-checked. */
export interface ArtifactContent {
  readonly manifest: ImageManifest;
  /** The layers chosen by `LayerNeeds`, in manifest order, with their bytes. */
  readonly layers: readonly FetchedLayer[];
}

export interface FetchedLayer {
  readonly descriptor: Descriptor;
  readonly bytes: Uint8Array;
}

/** What a verifier gets besides the subject and the artifact. Trust material is in the verifier itself. */
export interface VerifyContext {
  /** The deadline of the whole decision. */
  readonly signal: AbortSignal;
  readonly cache: Cache;
  /** The verification time (wall clock unless the caller fixes it, e.g. for tests and vectors). */
  readonly now: Date;
  readonly logger: Logger;
  /**
   * The subject's own manifest (digest-checked), for a verifier whose signature signs its bytes
   * (a cosign message-signature bundle). Bound to the deadline; a registry error it throws is
   * reported by the engine through the one table, like a failed read of the artifact.
   */
  readSubjectManifest(): Promise<FetchedManifest>;
}

/**
 * What the engine's `verifyArtifact` is given to run a verifier on one artifact: the repository it
 * reads from (read-only) and the rest of the `VerifyContext`.
 */
export interface RunContext {
  readonly repository: ReadonlyRepository;
  readonly signal: AbortSignal;
  readonly cache: Cache;
  readonly now: Date;
  readonly logger: Logger;
}

/** A verifier of one artifact format. */
export interface Verifier {
  /** Stable name used by policies and reports: `notation`, `cosign`, `atproto`, … */
  readonly name: string;
  /** True when this verifier understands `artifact` (by artifactType / media types / kind). */
  accepts(artifact: Artifact): boolean;
  /**
   * What the verifier needs of `artifact` (the engine fetches and checks it, then calls
   * `verify`), or a Report when it can answer without reading anything (notation's `skip` level,
   * no trust policy statement for the image).
   */
  reads(subject: VerifierSubject, artifact: Artifact): ArtifactNeeds | Report;
  /**
   * Decides on one artifact, read as `reads` asked, against `subject`. Returns a Report for every
   * failure it can name; throws only for bugs (the engine turns a throw into an inconclusive
   * report).
   */
  verify(
    subject: VerifierSubject,
    artifact: Artifact,
    content: ArtifactContent,
    ctx: VerifyContext,
  ): Promise<Report>;
  /**
   * A hash of the trust material this verifier holds; part of every cached decision's key so a
   * change of trust material cannot serve a stale allow.
   */
  readonly generation: string;
  /**
   * The format's own trust policy for one image, when it has scopes of its own (notation's
   * `registryScopes`, the ATCR trust policy's `scope`): whether a verified artifact is required
   * at all, and in which mode. `undefined` means the format's policy says nothing about the image,
   * and vouch's policy applies unchanged.
   */
  scopePolicy?(imageName: string): ScopePolicy | undefined;
  /**
   * For verifiers of content (SBOMs, vulnerability reports): the verifiers one of which must have
   * verified a signature attached to the artifact itself for this verifier's verdict to stand. The
   * engine discovers the artifact's own referrers, verifies them against the artifact, and turns a
   * verified report without such a signature into `failed` / `unsigned-report`. Empty: unsigned
   * content is accepted.
   */
  readonly signedBy?: readonly string[];
  /** True when this verifier reads cosign's tag schema (`sha256-<hex>.sig|.att`); only then is it probed. */
  readonly usesCosignTags?: boolean;
  /**
   * Documents about the subject that this verifier found and proved outside the registry, given
   * its own reports on the subject (ATCR: the `io.atcr.hold.scan` record of the hold a verified
   * manifest record names, and its SBOM and vulnerability blobs). Each document carries the report
   * of the signature that proves it; content verifiers judge it as if it were attached.
   */
  externalDocuments?(
    subject: VerifierSubject,
    reports: readonly Report[],
    ctx: VerifyContext,
  ): Promise<ExternalFinding[]>;
  /**
   * For content verifiers: judges a document that did not come from the registry (see
   * `externalDocuments`). Undefined when the document's media type is not this verifier's.
   */
  judgeDocument?(document: ExternalDocument, ctx: VerifyContext): Report | undefined;
}

/** A document proven outside the registry, with the signature report that proves it. */
export interface ExternalDocument {
  readonly kind: 'document';
  /** What reports name as the artifact: the blob's digest and media type. */
  readonly descriptor: Pick<Descriptor, 'digest' | 'mediaType' | 'size'> & { readonly artifactType: string };
  readonly bytes: Uint8Array;
  /** ISO 8601 creation time (the scan time), for `maximumAge`. */
  readonly created?: string;
  /** Where it came from (an AT-URI), for the report's details. */
  readonly source: string;
  /** The verified (or failed) signature over the document, nested under the content report. */
  readonly signature: Report;
}

/**
 * A source of external documents that could not be read or trusted: every content verifier of
 * the decision reports it (failed or inconclusive), so a required report is never silently absent.
 */
export interface ExternalFailure {
  readonly kind: 'failure';
  readonly outcome: Exclude<Outcome, 'verified'>;
  readonly reason: string;
  readonly message: string;
  readonly source: string;
  readonly details: Readonly<Record<string, unknown>>;
}

export type ExternalFinding = ExternalDocument | ExternalFailure;

/** What a format's own trust policy says about one image (see `Verifier.scopePolicy`). */
export interface ScopePolicy {
  /** Name of the format policy's entry that matched. */
  readonly name: string;
  /** False: this verifier need not verify anything for this image (e.g. notation level `skip`). */
  readonly required: boolean;
  /** `audit`: failures are reported but do not deny. */
  readonly mode: 'enforce' | 'audit';
}

/** The engine's answer for one image. */
export interface Decision {
  /** Whether the image may run (in audit mode: true, with `wouldDeny`). */
  readonly allowed: boolean;
  /** `verified` in the JSON output: true only when every required verification succeeded. */
  readonly verified: boolean;
  readonly mode: 'enforce' | 'audit';
  /** In audit mode, whether enforce would have denied. */
  readonly wouldDeny: boolean;
  /** The reference as given and the subject it resolved to. */
  readonly reference: string;
  readonly subject: {
    readonly name: string;
    readonly digest: string;
    readonly mediaType: string;
    readonly size: number;
  };
  /** Name of the policy rule that applied (`default` when none matched). */
  readonly rule: string;
  /** Human-readable reasons for the decision (one line each). */
  readonly why: readonly string[];
  readonly reports: readonly Report[];
  /**
   * For a multi-arch image decided per platform (`platforms:` a list or `all`): each platform's
   * manifest, its verdict and reports. `reports` then holds the index's own reports.
   */
  readonly platforms?: readonly PlatformResult[];
  /** ISO 8601 time the decision was made. */
  readonly decidedAt: string;
}

/** One platform of a multi-arch image, decided on its own manifest. */
export interface PlatformResult {
  /** `os/arch[/variant]`. */
  readonly platform: string;
  /** The platform manifest's digest; absent when the index lacks the platform. */
  readonly digest?: string;
  readonly allowed: boolean;
  readonly verified: boolean;
  /** `platform-missing` when the index lacks it; else `ok` or `policy`. */
  readonly reason: 'ok' | 'policy' | 'platform-missing';
  readonly why: readonly string[];
  readonly reports: readonly Report[];
}
