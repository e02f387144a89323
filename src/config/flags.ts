/**
 * The trust flags `vouch verify` and `vouch serve` share, turned into a config fragment so that
 * flags and vouch.yaml go through the one schema and the one loader. Paths become absolute here
 * (flags are relative to the working directory, the file's paths to the file's folder).
 */
import path from 'node:path';
import type { VouchConfigInput } from './schema.js';

export interface TrustFlags {
  readonly insecureRegistry?: readonly string[];
  readonly notationDir?: string;
  readonly key?: readonly string[];
  readonly threshold?: number;
  readonly certificateIdentity?: string;
  readonly certificateIdentityRegexp?: string;
  readonly certificateOidcIssuer?: string;
  readonly certificateOidcIssuerRegexp?: string;
  readonly certificateGithubWorkflowRepository?: string;
  readonly trustedRoot?: string;
  readonly insecureIgnoreTlog?: boolean;
  readonly insecureIgnoreSct?: boolean;
  readonly attestationType?: readonly string[];
  readonly atprotoPolicy?: string;
  readonly plcUrl?: string;
  readonly allowPrivateNetwork?: boolean;
}

const abs = (p: string) => path.resolve(p);

/** The config fragment the flags describe; `verifierNames` lists the verifiers they configure. */
export function configFromFlags(flags: TrustFlags): { fragment: VouchConfigInput; verifierNames: string[] } {
  const verifiers: Record<string, unknown> = {};
  if (flags.notationDir) verifiers.notation = { configDir: abs(flags.notationDir) };
  const keyless =
    flags.certificateIdentity ||
    flags.certificateIdentityRegexp ||
    flags.certificateOidcIssuer ||
    flags.certificateOidcIssuerRegexp;
  if ((flags.key && flags.key.length > 0) || keyless || flags.trustedRoot) {
    const cosign: Record<string, unknown> = {};
    if (flags.key?.length) cosign.keys = flags.key.map(abs);
    if (flags.threshold !== undefined) cosign.threshold = flags.threshold;
    if (flags.trustedRoot) cosign.trustedRoot = abs(flags.trustedRoot);
    if (keyless) {
      const identity: Record<string, string> = {};
      if (flags.certificateIdentity) identity.subject = flags.certificateIdentity;
      if (flags.certificateIdentityRegexp) identity.subjectRegExp = flags.certificateIdentityRegexp;
      if (flags.certificateOidcIssuer) identity.issuer = flags.certificateOidcIssuer;
      if (flags.certificateOidcIssuerRegexp) identity.issuerRegExp = flags.certificateOidcIssuerRegexp;
      if (flags.certificateGithubWorkflowRepository) {
        identity.githubWorkflowRepository = flags.certificateGithubWorkflowRepository;
      }
      cosign.identities = [identity];
    }
    if (flags.insecureIgnoreTlog) cosign.ignoreTlog = true;
    if (flags.insecureIgnoreSct) cosign.ignoreSct = true;
    if (flags.attestationType?.length)
      cosign.attestations = flags.attestationType.map((t) => ({ predicateType: t }));
    verifiers.cosign = cosign;
  }
  if (flags.atprotoPolicy) {
    const atproto: Record<string, unknown> = { trustPolicyFile: abs(flags.atprotoPolicy) };
    if (flags.plcUrl) atproto.plcUrl = flags.plcUrl;
    if (flags.allowPrivateNetwork) atproto.allowPrivateNetwork = true;
    verifiers.atproto = atproto;
  }
  const fragment: Record<string, unknown> = {};
  if (Object.keys(verifiers).length > 0) fragment.verifiers = verifiers;
  if (flags.insecureRegistry?.length) fragment.registries = { insecure: [...flags.insecureRegistry] };
  return { fragment: fragment as VouchConfigInput, verifierNames: Object.keys(verifiers) };
}

/**
 * The policy used when the flags configure verifiers and no config file gives rules:
 * every image must carry a verified artifact of every verifier the flags configure.
 */
export function policyForFlags(verifierNames: readonly string[]): VouchConfigInput['policy'] {
  return {
    default: 'deny',
    rules: [
      {
        name: 'command-line',
        scope: '*',
        mode: 'enforce',
        match: 'all',
        require: verifierNames.map((verifier) => ({ verifier, artifacts: 'any' as const })),
      },
    ],
  };
}
