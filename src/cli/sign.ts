/**
 * `vouch sign <ref> --format notation|cosign|atproto …`: signs an image and attaches the signature
 * to it in its registry (or OCI layout). The formats that sign are those of the format list with a
 * signer (src/formats/index.ts); each signer lives in src/sign/<format>/. The flags are declared
 * here, once, because formats share some of them (`--key`).
 */
import type { Command } from 'commander';
import { VouchError } from '../errors.js';
import type { SignFlags, SignTarget } from '../formats/types.js';
import { createLogger } from '../observability/logger.js';
import { parseAnyReference } from '../reference/parse.js';
import { createRegistryClient } from '../registry/client.js';
import { collect } from './io.js';
import { signerFor, signingList } from './signers.js';

type SignOptions = SignFlags & { insecureRegistry: string[] };

export function register(program: Command): void {
  program
    .command('sign')
    .argument('<reference>', 'image to sign (registry/repo:tag, …@sha256:…, or oci:<dir>[:tag|@digest])')
    .description('sign an image and attach the signature to it')
    .option('--format <format>', signingList, 'notation')
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

async function signWith(opts: SignOptions, t: SignTarget) {
  return (await signerFor(opts.format)).sign(t, opts);
}
