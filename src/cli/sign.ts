/**
 * `vouch sign <ref> --format notation|cosign|atproto …`: signs an image and attaches the signature
 * to it in its registry (or OCI layout). Each format's signer lives in src/sign/<format>/.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { VouchError } from '../errors.js';
import { createLogger } from '../observability/logger.js';
import { parseAnyReference } from '../reference/parse.js';
import { createRegistryClient } from '../registry/client.js';
import type { Descriptor, Repository } from '../registry/types.js';
import { collect } from './io.js';

interface SignOptions {
  format: string;
  key?: string;
  cert?: string;
  envelope: string;
  timestampUrl?: string;
  passwordFile?: string;
  registryReferrers?: boolean;
  bundle?: boolean;
  keyless?: boolean;
  fulcioUrl?: string;
  rekorUrl?: string;
  identityToken?: string;
  identityTokenFile?: string;
  tsaUrl?: string;
  pds?: string;
  identifier?: string;
  appPasswordFile?: string;
  holdDid?: string;
  allowPrivateNetwork?: boolean;
  outputSignature?: string;
  uploadSignatures?: boolean;
  legacy?: boolean;
  insecureRegistry: string[];
}

/** What every format's signer gets: the repository, the resolved subject and the reference as given. */
export interface SignTarget {
  readonly repository: Repository;
  readonly subject: Descriptor;
  /** `registry/repository` (or `oci:<dir>`), the name the signature is bound to. */
  readonly name: string;
  /** The repository path alone (`acme/app`), for formats that record it. */
  readonly repositoryPath: string;
  readonly signal: AbortSignal;
}

export function register(program: Command): void {
  program
    .command('sign')
    .argument('<reference>', 'image to sign (registry/repo:tag, …@sha256:…, or oci:<dir>[:tag|@digest])')
    .description('sign an image and attach the signature to it')
    .option('--format <format>', 'notation, cosign or atproto', 'notation')
    .option('--key <file>', 'notation: PKCS#8 private key; cosign: cosign.key (encrypted)')
    .option('--cert <file>', 'notation: signing certificate chain (PEM, leaf first)')
    .option('--envelope <type>', 'notation: jws or cose', 'jws')
    .option('--timestamp-url <url>', 'notation: RFC 3161 timestamp authority')
    .option('--password-file <file>', 'cosign: password of cosign.key (else $COSIGN_PASSWORD)')
    .option('--registry-referrers', 'cosign: attach as an OCI referrer instead of the .sig tag')
    .option('--bundle', 'cosign: attach a sigstore bundle referrer')
    .option('--keyless', 'cosign: sign with a Fulcio certificate for an OIDC identity, logged in Rekor')
    .option('--fulcio-url <url>', 'cosign --keyless: Fulcio', 'https://fulcio.sigstore.dev')
    .option('--rekor-url <url>', 'cosign --keyless: Rekor', 'https://rekor.sigstore.dev')
    .option('--identity-token <jwt>', 'cosign --keyless: OIDC identity token (else $SIGSTORE_ID_TOKEN)')
    .option('--identity-token-file <file>', 'cosign --keyless: file holding the OIDC identity token')
    .option('--tsa-url <url>', 'cosign --keyless: sigstore timestamp authority (base URL)')
    .option('--pds <url>', 'atproto: the PDS of the signing account')
    .option('--identifier <handle-or-did>', 'atproto: the signing account')
    .option('--app-password-file <file>', 'atproto: app password of the account')
    .option(
      '--hold-did <did>',
      "atproto: the ATCR hold that stores the image's blobs and scans (the record's holdDid)",
    )
    .option('--allow-private-network', 'atproto: allow a loopback/private PDS address')
    .option(
      '--output-signature <path>',
      'cosign, notation: write the signature to this file and push nothing (see --upload-signatures)',
    )
    .option('--upload-signatures', 'with --output-signature: also attach the signature to the image')
    .option(
      '--legacy',
      'cosign --output-signature: write the base64 signature and PATH.payload instead of a sigstore bundle',
    )
    .option(
      '--insecure-registry <host>',
      'reach this registry host[:port] over plain HTTP (repeatable)',
      collect,
      [],
    )
    .action(async (reference: string, opts: SignOptions) => {
      if (!opts.outputSignature && (opts.uploadSignatures || opts.legacy))
        throw new VouchError(
          'USAGE',
          `--${opts.legacy ? 'legacy' : 'upload-signatures'} goes with --output-signature`,
        );
      const ref = parseAnyReference(reference);
      const logger = createLogger({ level: process.env.VOUCH_LOG_LEVEL ?? 'warn' });
      const registry = createRegistryClient({ insecureHosts: opts.insecureRegistry, logger });
      try {
        const signal = AbortSignal.timeout(120_000);
        const repository = registry.repository(ref);
        const subject = await repository.resolve(ref.digest ?? ref.tag ?? 'latest', { signal });
        const name = 'kind' in ref ? `oci:${ref.dir}` : `${ref.registry}/${ref.repository}`;
        const repositoryPath = 'kind' in ref ? ref.dir : ref.repository;
        const target: SignTarget = { repository, subject, name, repositoryPath, signal };
        if (opts.outputSignature) {
          const { runDetachedSign } = await import('./sign-detached.js');
          const { files, uploaded } = await runDetachedSign(opts, target, opts.outputSignature);
          process.stdout.write(
            `signed ${name}@${subject.digest}\n${files.map((f) => `  wrote ${f}\n`).join('')}${
              uploaded ? `  signature ${uploaded.digest} (${opts.format})\n` : ''
            }`,
          );
          return;
        }
        const signature = await signWith(opts, target);
        process.stdout.write(
          `signed ${name}@${subject.digest}\n  signature ${signature.digest} (${opts.format})\n`,
        );
      } finally {
        await registry.close();
      }
    });
}

async function signWith(opts: SignOptions, t: SignTarget): Promise<Descriptor> {
  switch (opts.format) {
    case 'notation': {
      const { signNotation } = await import('../sign/notation/index.js');
      const envelope = opts.envelope;
      if (envelope !== 'jws' && envelope !== 'cose')
        throw new VouchError('USAGE', `--envelope must be jws or cose, not "${envelope}"`);
      return signNotation({
        repository: t.repository,
        subject: t.subject,
        keyPem: await readRequired(opts.key, '--key'),
        certChainPem: await readRequired(opts.cert, '--cert'),
        envelope,
        ...(opts.timestampUrl ? { timestampUrl: opts.timestampUrl } : {}),
        signal: t.signal,
      });
    }
    case 'cosign': {
      const { runCosignSign } = await import('./sign-cosign.js');
      return runCosignSign(t, opts);
    }
    case 'atproto': {
      const { runAtprotoSign } = await import('./sign-atproto.js');
      return runAtprotoSign(t, opts);
    }
    default:
      throw new VouchError('USAGE', `unknown --format "${opts.format}" (notation, cosign or atproto)`);
  }
}

/** Reads a file a flag names; a missing flag or file is a usage error naming the flag. */
export async function readRequired(file: string | undefined, flag: string): Promise<string> {
  if (!file) throw new VouchError('USAGE', `${flag} is required for this format`);
  try {
    return await readFile(file, 'utf8');
  } catch {
    throw new VouchError('USAGE', `${flag} ${file}: file not found or unreadable`);
  }
}

export type { SignOptions };
