/**
 * `vouch discover <ref>`: the artifacts attached to an image (signatures, attestations, SBOMs),
 * nested, as a tree like `oras discover` or as JSON. Parsing and printing only; the work is
 * `discoverArtifacts` (src/referrers/discover.ts).
 *
 * Exit codes: 0 listed (also when nothing is attached); 2 bad reference or option;
 * 3 could not complete — unknown tag or digest, unreachable registry, authentication refused,
 * deadline (each with its own message and error code on stderr).
 */
import { type Command, InvalidArgumentError } from 'commander';
import type { Artifact } from '../engine/types.js';
import { toVouchError, VouchError } from '../errors.js';
import { createLogger } from '../observability/logger.js';
import {
  formatReference,
  isLayoutReference,
  manifestReference,
  parseAnyReference,
} from '../reference/parse.js';
import type { ImageReference, LayoutReference } from '../reference/types.js';
import { DEFAULT_DISCOVERY_DEPTH, discoverArtifacts } from '../referrers/discover.js';
import { DockerConfigCredentialStore } from '../registry/auth/docker-config.js';
import { createRegistryClient } from '../registry/client.js';
import type { Descriptor, Repository } from '../registry/types.js';
import { collect } from './io.js';

/** Options every command that reads an image from a registry or layout takes. */
export interface TargetOptions {
  insecureRegistry: string[];
  timeout: number;
}

/** An image reference resolved to its manifest descriptor, with the repository it lives in. */
export interface ResolvedTarget {
  readonly ref: ImageReference | LayoutReference;
  readonly repository: Repository;
  readonly subject: Descriptor;
  /** `registry/repository@digest` or `oci:<dir>@digest`. */
  readonly pinned: string;
  readonly signal: AbortSignal;
}

/** Adds `--insecure-registry` and `--timeout` to a command. */
export function addTargetOptions(command: Command): Command {
  return command
    .option(
      '--insecure-registry <host>',
      'reach this registry host[:port] over plain HTTP (repeatable)',
      collect,
      [],
    )
    .option('--timeout <seconds>', 'deadline for the whole command', positiveNumber, 60);
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`"${value}" is not a positive number`);
  return n;
}

function depthNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 16)
    throw new InvalidArgumentError(`"${value}" is not a depth from 0 to 16`);
  return n;
}

/**
 * Parses `reference`, opens its repository (registry credentials from docker config.json) and
 * resolves it, then runs `use`; the registry client is closed afterwards. Resolution errors are
 * restated with the reference so each failure names what could not be found or reached.
 */
export async function withResolvedTarget<T>(
  reference: string,
  opts: TargetOptions,
  use: (target: ResolvedTarget) => Promise<T>,
): Promise<T> {
  const ref = parseAnyReference(reference);
  const logger = createLogger({ level: process.env.VOUCH_LOG_LEVEL ?? 'warn' });
  const client = createRegistryClient({
    insecureHosts: opts.insecureRegistry,
    credentials: new DockerConfigCredentialStore(),
    logger,
  });
  try {
    const signal = AbortSignal.timeout(opts.timeout * 1000);
    const repository = client.repository(ref);
    const wanted = manifestReference(ref);
    let subject: Descriptor;
    try {
      subject = await repository.resolve(wanted, { signal });
    } catch (err) {
      throw restate(err, ref, wanted);
    }
    const base = isLayoutReference(ref) ? `oci:${ref.dir}` : `${ref.registry}/${ref.repository}`;
    return await use({ ref, repository, subject, pinned: `${base}@${subject.digest}`, signal });
  } finally {
    await client.close();
  }
}

function restate(err: unknown, ref: ImageReference | LayoutReference, wanted: string): VouchError {
  const e = toVouchError(err);
  const what = formatReference(ref);
  if (e.code === 'REGISTRY_NOT_FOUND') {
    const kind = wanted.includes(':') ? 'digest' : 'tag';
    const message = e.message.includes(wanted) ? e.message : `no such ${kind} "${wanted}" (${e.message})`;
    return new VouchError('REGISTRY_NOT_FOUND', `${what}: ${message}`, { cause: e });
  }
  return new VouchError(e.code, `${what}: ${e.message}`, { cause: e, details: { ...e.details } });
}

/** The label an artifact is grouped under: its artifactType, else its cosign kind. */
function typeLabel(a: Artifact): string {
  return a.descriptor.artifactType ?? (a.kind === 'referrer' ? a.descriptor.mediaType : a.kind);
}

/** The `oras discover` tree: subject, then artifacts grouped by type, digests under each, nested. */
export function renderTree(subjectRef: string, artifacts: readonly Artifact[]): string {
  const lines = [subjectRef];
  const walk = (items: readonly Artifact[], prefix: string) => {
    const groups = new Map<string, Artifact[]>();
    for (const a of items) groups.set(typeLabel(a), [...(groups.get(typeLabel(a)) ?? []), a]);
    const entries = [...groups];
    entries.forEach(([label, members], gi) => {
      const lastGroup = gi === entries.length - 1;
      lines.push(`${prefix}${lastGroup ? '└── ' : '├── '}${label}`);
      const inner = prefix + (lastGroup ? '    ' : '│   ');
      members.forEach((a, mi) => {
        const lastMember = mi === members.length - 1;
        lines.push(`${inner}${lastMember ? '└── ' : '├── '}${a.descriptor.digest}`);
        walk(a.referrers, inner + (lastMember ? '    ' : '│   '));
      });
    });
  };
  walk(artifacts, '');
  return `${lines.join('\n')}\n`;
}

interface ReferrerJson {
  reference: string;
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Readonly<Record<string, string>>;
  kind: string;
  source: string;
  referrers: ReferrerJson[];
}

/** The JSON form: the subject descriptor with a `referrers` array, each nested the same way. */
export function renderJson(base: string, subject: Descriptor, artifacts: readonly Artifact[]): unknown {
  const toJson = (a: Artifact): ReferrerJson => ({
    reference: `${base}@${a.descriptor.digest}`,
    mediaType: a.descriptor.mediaType,
    digest: a.descriptor.digest,
    size: a.descriptor.size,
    ...(a.descriptor.artifactType === undefined ? {} : { artifactType: a.descriptor.artifactType }),
    ...(a.descriptor.annotations === undefined ? {} : { annotations: a.descriptor.annotations }),
    kind: a.kind,
    source: a.source,
    referrers: a.referrers.map(toJson),
  });
  return {
    reference: `${base}@${subject.digest}`,
    mediaType: subject.mediaType,
    digest: subject.digest,
    size: subject.size,
    referrers: artifacts.map(toJson),
  };
}

interface DiscoverCliOptions extends TargetOptions {
  artifactType?: string;
  output: string;
  depth: number;
  cosignTags: boolean;
}

export function register(program: Command): void {
  addTargetOptions(
    program
      .command('discover')
      .argument('<reference>', 'image reference (registry/repo:tag, …@sha256:…, or oci:<dir>[:tag|@digest])')
      .description(
        'list the artifacts attached to an image (OCI referrers and cosign tags), nested\n' +
          'exit codes: 0 listed, 2 bad reference or option, 3 not found / unreachable / auth refused',
      )
      .option('--artifact-type <type>', 'only artifacts of this type directly under the image')
      .option('-o, --output <format>', 'tree or json', 'tree')
      .option('--depth <n>', 'levels of nested artifacts to follow', depthNumber, DEFAULT_DISCOVERY_DEPTH)
      .option('--no-cosign-tags', "do not probe cosign's .sig/.att/.sbom tags"),
  ).action(async (reference: string, opts: DiscoverCliOptions) => {
    if (opts.output !== 'tree' && opts.output !== 'json') {
      throw new VouchError('USAGE', `unknown output format "${opts.output}" (tree or json)`);
    }
    await withResolvedTarget(reference, opts, async ({ repository, subject, pinned, signal }) => {
      const artifacts = await discoverArtifacts(repository, subject, {
        depth: opts.depth,
        signal,
        cosignTags: opts.cosignTags,
        ...(opts.artifactType ? { artifactType: opts.artifactType } : {}),
      });
      const base = pinned.slice(0, pinned.lastIndexOf('@'));
      process.stdout.write(
        opts.output === 'json'
          ? `${JSON.stringify(renderJson(base, subject, artifacts), null, 2)}\n`
          : renderTree(pinned, artifacts),
      );
    });
  });
}
