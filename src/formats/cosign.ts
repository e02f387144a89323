/**
 * cosign / sigstore signatures and attestations (`verifiers.cosign`): keys, keyless identities and
 * the trusted root (src/trust/cosign), the verifier (src/verifiers/cosign), the signer
 * (src/sign/cosign). The flags mirror `cosign verify`'s.
 */
import { cosignConfigSchema } from '../trust/cosign/config.js';
import { absolute, flagList, flagSet, flagText } from './flags.js';
import type { FlagValues, FormatDescriptor } from './types.js';

/** The `verifiers.cosign` section `--key`, `--certificate-*`, `--trusted-root`, … describe. */
function cosignFromFlags(values: FlagValues): Record<string, unknown> | undefined {
  const keys = flagList(values, 'key');
  const subject = flagText(values, 'certificateIdentity');
  const subjectRegExp = flagText(values, 'certificateIdentityRegexp');
  const issuer = flagText(values, 'certificateOidcIssuer');
  const issuerRegExp = flagText(values, 'certificateOidcIssuerRegexp');
  const workflowRepository = flagText(values, 'certificateGithubWorkflowRepository');
  const trustedRoot = flagText(values, 'trustedRoot');
  const keyless = subject || subjectRegExp || issuer || issuerRegExp;
  if (keys.length === 0 && !keyless && !trustedRoot) return undefined;
  const cosign: Record<string, unknown> = {};
  if (keys.length > 0) cosign.keys = keys.map(absolute);
  if (values.threshold !== undefined) cosign.threshold = values.threshold;
  if (trustedRoot) cosign.trustedRoot = absolute(trustedRoot);
  if (keyless) {
    const identity: Record<string, string> = {};
    if (subject) identity.subject = subject;
    if (subjectRegExp) identity.subjectRegExp = subjectRegExp;
    if (issuer) identity.issuer = issuer;
    if (issuerRegExp) identity.issuerRegExp = issuerRegExp;
    if (workflowRepository) identity.githubWorkflowRepository = workflowRepository;
    cosign.identities = [identity];
  }
  if (flagSet(values, 'insecureIgnoreTlog')) cosign.ignoreTlog = true;
  if (flagSet(values, 'insecureIgnoreSct')) cosign.ignoreSct = true;
  const attestationTypes = flagList(values, 'attestationType');
  if (attestationTypes.length > 0) cosign.attestations = attestationTypes.map((t) => ({ predicateType: t }));
  return cosign;
}

export const cosignFormat: FormatDescriptor<'cosign', typeof cosignConfigSchema> = {
  name: 'cosign',
  kind: 'signature',
  configSchema: cosignConfigSchema,
  summary:
    'cosign / sigstore signatures and attestations: keys, keyless identities, trusted root. See docs/cosign.md.',
  async build(settings, ctx) {
    const [{ loadCosignTrust }, { createCosignVerifier }] = await Promise.all([
      import('../trust/cosign/load.js'),
      import('../verifiers/cosign/index.js'),
    ]);
    return createCosignVerifier(
      await loadCosignTrust(settings, { baseDir: ctx.baseDir, configPath: ctx.configPath }),
    );
  },
  flags: {
    options: [
      { flag: '--key <file>', help: 'cosign public key (PEM), repeatable', repeatable: true },
      {
        flag: '--threshold <n>',
        help: 'distinct trusted keys that must have signed (with several --key)',
        parse: Number,
      },
      { flag: '--certificate-identity <id>', help: 'keyless: the certificate identity (exact)' },
      {
        flag: '--certificate-identity-regexp <re>',
        help: 'keyless: the certificate identity (anchored regexp)',
      },
      { flag: '--certificate-oidc-issuer <url>', help: 'keyless: the OIDC issuer (exact)' },
      { flag: '--certificate-oidc-issuer-regexp <re>', help: 'keyless: the OIDC issuer (anchored regexp)' },
      {
        flag: '--certificate-github-workflow-repository <repo>',
        help: 'keyless: the GitHub workflow repository',
      },
      { flag: '--trusted-root <file>', help: 'sigstore trusted_root.json (offline)' },
      {
        flag: '--insecure-ignore-tlog',
        help: 'do not require a transparency log entry (weakens verification)',
        warning: '--insecure-ignore-tlog: transparency log entries are not required',
      },
      {
        flag: '--insecure-ignore-sct',
        help: 'do not require a certificate transparency SCT (weakens verification)',
        warning: '--insecure-ignore-sct: SCTs are not checked',
      },
      {
        flag: '--attestation-type <type>',
        help: 'require an attestation with this predicate type (repeatable)',
        repeatable: true,
      },
    ],
    toConfig: cosignFromFlags,
  },
  signer: { detached: true, load: async () => (await import('../sign/cosign/command.js')).cosignSigner },
};
