/** The trust and registry flags `vouch verify` and `vouch serve` share (mirroring notation and cosign). */
import type { Command } from 'commander';
import type { TrustFlags } from '../config/flags.js';
import { collect } from './io.js';

export function addTrustOptions(cmd: Command): Command {
  return cmd
    .option('--config <file>', 'vouch.yaml with registries, trust material and policy')
    .option(
      '--insecure-registry <host>',
      'reach this registry host[:port] over plain HTTP (repeatable)',
      collect,
      [],
    )
    .option('--notation-dir <dir>', "notation's config dir: trustpolicy.json and truststore/x509/…")
    .option('--key <file>', 'cosign public key (PEM), repeatable', collect, [])
    .option('--threshold <n>', 'distinct trusted keys that must have signed (with several --key)', (v) =>
      Number(v),
    )
    .option('--certificate-identity <id>', 'keyless: the certificate identity (exact)')
    .option('--certificate-identity-regexp <re>', 'keyless: the certificate identity (anchored regexp)')
    .option('--certificate-oidc-issuer <url>', 'keyless: the OIDC issuer (exact)')
    .option('--certificate-oidc-issuer-regexp <re>', 'keyless: the OIDC issuer (anchored regexp)')
    .option('--certificate-github-workflow-repository <repo>', 'keyless: the GitHub workflow repository')
    .option('--trusted-root <file>', 'sigstore trusted_root.json (offline)')
    .option('--insecure-ignore-tlog', 'do not require a transparency log entry (weakens verification)')
    .option('--insecure-ignore-sct', 'do not require a certificate transparency SCT (weakens verification)')
    .option(
      '--attestation-type <type>',
      'require an attestation with this predicate type (repeatable)',
      collect,
      [],
    )
    .option('--atproto-policy <file>', 'ATCR trust policy (YAML or JSON)')
    .option('--plc-url <url>', 'PLC directory for did:plc (default https://plc.directory)')
    .option(
      '--allow-private-network',
      'allow loopback/private addresses for did:web hosts and PDS endpoints',
    );
}

interface RawTrustOptions {
  insecureRegistry?: string[];
  notationDir?: string;
  key?: string[];
  threshold?: number;
  certificateIdentity?: string;
  certificateIdentityRegexp?: string;
  certificateOidcIssuer?: string;
  certificateOidcIssuerRegexp?: string;
  certificateGithubWorkflowRepository?: string;
  trustedRoot?: string;
  insecureIgnoreTlog?: boolean;
  insecureIgnoreSct?: boolean;
  attestationType?: string[];
  atprotoPolicy?: string;
  plcUrl?: string;
  allowPrivateNetwork?: boolean;
}

export function trustFlagsFrom(opts: RawTrustOptions): TrustFlags {
  if (opts.insecureIgnoreSct)
    process.stderr.write('vouch: WARNING: --insecure-ignore-sct: SCTs are not checked\n');
  if (opts.insecureIgnoreTlog) {
    process.stderr.write(
      'vouch: WARNING: --insecure-ignore-tlog: transparency log entries are not required\n',
    );
  }
  return { ...opts };
}
