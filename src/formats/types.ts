/**
 * The format seam (docs/architecture.md, "Formats"): one descriptor per format says what its
 * `verifiers.<name>` section is, which command-line flags configure it, how its verifier is built
 * from a validated section and, for a format vouch can sign, where its signer is. Config, runtime,
 * CLI and docs walk the one list of them (src/formats/index.ts).
 *
 * A leaf: this file declares types and imports types only, so trust/, verifiers/ and sign/ may
 * name them without an import reaching back up.
 */
import type { z } from 'zod';
import type { Verifier } from '../engine/types.js';
import type { Descriptor, Repository } from '../registry/types.js';
import type { SignatureArtifact } from '../sign/signature-artifact.js';

/** What building a verifier gets besides its own validated section. */
export interface BuildContext {
  /** The folder relative paths of the section are resolved against (vouch.yaml's folder). */
  readonly baseDir: string;
  /** Where the section is, for messages: `verifiers.<name>`. */
  readonly configPath: string;
  /**
   * The verifiers whose signature a content document must carry when its section sets no
   * `requireSignature`: every configured signature format (notation and cosign when none is).
   */
  readonly defaultSigners: readonly string[];
}

/** One flag of `vouch verify`, `vouch serve` and `vouch config` that configures a format. */
export interface FormatFlag {
  /** commander's spelling: `--key <file>`, `--insecure-ignore-tlog`. */
  readonly flag: string;
  readonly help: string;
  /** Each use adds one value to a list (the value is a list, empty when the flag is not given). */
  readonly repeatable?: boolean;
  /** The value from the flag's text (`Number`); the text itself without one. */
  readonly parse?: (text: string) => unknown;
  /** Printed on stderr when the flag is given: the flag weakens verification. */
  readonly warning?: string;
}

/**
 * Flag values by commander's attribute name (`--certificate-oidc-issuer` → `certificateOidcIssuer`).
 * Untyped on purpose: the section a format makes of them is validated by its config schema.
 */
export type FlagValues = Readonly<Record<string, unknown>>;

/** The flags of one format and the config section they describe. */
export interface FormatFlags {
  /** In the order `--help` lists them. */
  readonly options: readonly FormatFlag[];
  /**
   * The `verifiers.<name>` section the given flags describe, paths made absolute (flags are
   * relative to the working directory); undefined when they configure nothing.
   */
  toConfig(values: FlagValues): Record<string, unknown> | undefined;
}

/** What `vouch sign` hands every format's signer: the repository, the resolved subject, the name. */
export interface SignTarget {
  readonly repository: Repository;
  readonly subject: Descriptor;
  /** `registry/repository` (or `oci:<dir>`), the name the signature is bound to. */
  readonly name: string;
  /** The repository path alone (`acme/app`), for formats that record it. */
  readonly repositoryPath: string;
  readonly signal: AbortSignal;
}

/**
 * The flags of `vouch sign`, as commander read them. They are declared once, in src/cli/sign.ts,
 * because formats share some of them (`--key`); each signer reads the ones it needs.
 */
export interface SignFlags {
  readonly format: string;
  readonly key?: string;
  readonly cert?: string;
  readonly envelope: string;
  readonly timestampUrl?: string;
  readonly passwordFile?: string;
  readonly registryReferrers?: boolean;
  readonly bundle?: boolean;
  readonly keyless?: boolean;
  readonly fulcioUrl?: string;
  readonly rekorUrl?: string;
  readonly identityToken?: string;
  readonly identityTokenFile?: string;
  readonly tsaUrl?: string;
  readonly pds?: string;
  readonly identifier?: string;
  readonly appPasswordFile?: string;
  readonly holdDid?: string;
  readonly allowPrivateNetwork?: boolean;
  readonly outputSignature?: string;
  readonly uploadSignatures?: boolean;
  readonly legacy?: boolean;
  readonly insecureRegistry: readonly string[];
}

/** A format's signer behind `vouch sign --format <name>`. */
export interface FormatSigner {
  /** Signs the subject and attaches the signature to it; the signature's descriptor. */
  sign(target: SignTarget, flags: SignFlags): Promise<Descriptor>;
  /** The signature alone, not placed anywhere (`--output-signature`); absent when there is no file form. */
  signature?(target: SignTarget, flags: SignFlags): Promise<SignatureArtifact>;
  /** Attaches a signature `signature` made (`--upload-signatures`); an OCI referrer without one. */
  upload?(target: SignTarget, flags: SignFlags, signature: SignatureArtifact): Promise<Descriptor>;
}

/** A format's way to sign, whose code is imported only when `vouch sign` uses it. */
export interface SignerDescriptor {
  /** Whether the signer can write its signature to a file (`--output-signature`). */
  readonly detached: boolean;
  load(): Promise<FormatSigner>;
}

/**
 * One format. Only the settings schema and the flags are loaded with the list; `build` and the
 * signer import the format's code when called, so a process pays only for the formats it uses
 * (a CLI or Ratify plugin call is a new process each time).
 */
export interface FormatDescriptor<Name extends string = string, Schema extends z.ZodType = z.ZodType> {
  /** The verifier's name: its key under `verifiers:`, in policy rules and in reports. */
  readonly name: Name;
  /**
   * `signature`: its verified reports are signatures, which content documents may be required to
   * carry; `content`: it judges documents (SBOMs, vulnerability reports).
   */
  readonly kind: 'signature' | 'content';
  /** The `verifiers.<name>` section; its `.describe()` texts are docs/configuration.md. */
  readonly configSchema: Schema;
  /** What the section configures, one sentence (the section's row in docs/configuration.md). */
  readonly summary: string;
  /** Loads the format's trust material (files are read here, once) and builds its verifier. */
  build(settings: z.output<Schema>, ctx: BuildContext): Promise<Verifier>;
  readonly flags?: FormatFlags;
  readonly signer?: SignerDescriptor;
}
