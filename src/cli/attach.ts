/**
 * `vouch attach --artifact-type TYPE --file PATH [--annotation K=V]… IMAGE`: pushes a file as a
 * one-layer OCI artifact whose `subject` is the image (Referrers API, or the referrers tag schema
 * index as `oras attach` does), stamped with `org.opencontainers.image.created`, and prints the
 * artifact's digest-pinned reference, so that `vouch sign … <that reference>` signs it.
 */
import { readFile, stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { VouchError } from '../errors.js';
import { createLogger } from '../observability/logger.js';
import { parseAnyReference } from '../reference/parse.js';
import { attachArtifact } from '../referrers/attach.js';
import { createRegistryClient } from '../registry/client.js';
import { CREATED_ANNOTATION } from '../verifiers/content/age.js';
import { DEFAULT_MAX_CONTENT_BYTES } from '../verifiers/content/artifact.js';
import { collect } from './io.js';

interface AttachOptions {
  artifactType: string;
  file: string;
  mediaType?: string;
  annotation: string[];
  insecureRegistry: string[];
  maxBytes: string;
  output: string;
}

/** Artifact types whose layer carries the same media type (SARIF, SPDX, CycloneDX documents). */
const DOCUMENT_TYPES = new Set([
  'application/sarif+json',
  'application/spdx+json',
  'application/vnd.cyclonedx+json',
]);

/** `K=V` pairs into annotations; a pair without `=` or with an empty key is a usage error. */
export function parseAnnotations(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new VouchError('USAGE', `--annotation "${pair}" is not KEY=VALUE`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

export function register(program: Command): void {
  program
    .command('attach')
    .argument('<reference>', 'image to attach to (registry/repo:tag, …@sha256:…, or oci:<dir>[:tag|@digest])')
    .description('attach a file (a vulnerability report, an SBOM, …) to an image as an OCI artifact')
    .requiredOption('--artifact-type <type>', 'artifact type, e.g. application/sarif+json')
    .requiredOption('--file <path>', 'the file to attach')
    .option(
      '--media-type <type>',
      'media type of the layer (default: the artifact type for SARIF/SPDX/CycloneDX)',
    )
    .option('--annotation <key=value>', 'manifest annotation (repeatable)', collect, [])
    .option(
      '--insecure-registry <host>',
      'reach this registry host[:port] over plain HTTP (repeatable)',
      collect,
      [],
    )
    .option('--max-bytes <n>', 'largest file accepted', String(DEFAULT_MAX_CONTENT_BYTES))
    .option('-o, --output <format>', 'text or json', 'text')
    .action(async (reference: string, opts: AttachOptions) => {
      const annotations = parseAnnotations(opts.annotation);
      const maxBytes = Number(opts.maxBytes);
      if (!Number.isInteger(maxBytes) || maxBytes <= 0)
        throw new VouchError('USAGE', `--max-bytes "${opts.maxBytes}" is not a positive integer`);
      if (opts.output !== 'text' && opts.output !== 'json')
        throw new VouchError('USAGE', `-o must be text or json, not "${opts.output}"`);
      const size = await stat(opts.file).then(
        (s) => s.size,
        () => {
          throw new VouchError('USAGE', `--file ${opts.file}: file not found or unreadable`);
        },
      );
      if (size > maxBytes)
        throw new VouchError(
          'USAGE',
          `--file ${opts.file} is ${size} bytes, more than --max-bytes ${maxBytes}`,
        );
      const bytes = await readFile(opts.file);
      const ref = parseAnyReference(reference);
      const logger = createLogger({ level: process.env.VOUCH_LOG_LEVEL ?? 'warn' });
      const registry = createRegistryClient({ insecureHosts: opts.insecureRegistry, logger });
      try {
        const signal = AbortSignal.timeout(120_000);
        const repository = registry.repository(ref);
        const subject = await repository.resolve(ref.digest ?? ref.tag ?? 'latest', { signal });
        const mediaType =
          opts.mediaType ??
          (DOCUMENT_TYPES.has(opts.artifactType) ? opts.artifactType : 'application/octet-stream');
        const artifact = await attachArtifact(repository, {
          subject,
          artifactType: opts.artifactType,
          layers: [{ bytes, mediaType }],
          annotations: { [CREATED_ANNOTATION]: new Date().toISOString(), ...annotations },
          signal,
        });
        const name = 'kind' in ref ? `oci:${ref.dir}` : `${ref.registry}/${ref.repository}`;
        const pinned = `${name}@${artifact.digest}`;
        if (opts.output === 'json')
          process.stdout.write(
            `${JSON.stringify({ reference: pinned, digest: artifact.digest, artifactType: opts.artifactType, subject: `${name}@${subject.digest}` })}\n`,
          );
        else process.stdout.write(`${pinned}\n`);
      } finally {
        await registry.close();
      }
    });
}
