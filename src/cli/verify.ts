/** `vouch verify <ref>`: decide whether one image may run, and say why. */
import type { Command } from 'commander';
import { composeConfig } from '../config/compose.js';
import { buildRuntime } from '../config/runtime.js';
import {
  createDetachedRepository,
  createOfflineRepository,
  type DetachedRepository,
  offlineSubjectDescriptor,
  readDetachedSignatures,
} from '../detached/index.js';
import { type Engine, subjectName } from '../engine/engine.js';
import { CONTAINER_VERIFIER } from '../engine/reports.js';
import type { Decision, Subject } from '../engine/types.js';
import { VouchError } from '../errors.js';
import { createLogger } from '../observability/logger.js';
import { isLayoutReference, parseAnyReference } from '../reference/parse.js';
import { decisionJson, decisionText } from './decision-output.js';
import { collect, ExitCode } from './io.js';
import { addTrustOptions, trustFlagsFrom } from './trust-options.js';
import { isApplicationsUrl, verifyRemote } from './verify-remote.js';

/** Denied because nothing could be checked (deadline, unreachable servers) is "could not complete". */
function exitForDenial(d: Decision): ExitCode {
  const failing = d.reports.filter((r) => r.outcome !== 'verified' && r.verifier !== CONTAINER_VERIFIER);
  const onlyInconclusive = failing.length > 0 && failing.every((r) => r.outcome === 'inconclusive');
  return onlyInconclusive && !d.reports.some((r) => r.outcome === 'verified')
    ? ExitCode.Incomplete
    : ExitCode.Denied;
}

interface DetachedOptions {
  readonly paths: readonly string[];
  readonly alsoRegistry: boolean;
  readonly offline: boolean;
}

function detachedOptions(opts: Record<string, unknown>): DetachedOptions | undefined {
  const paths = Array.isArray(opts.signaturePath) ? (opts.signaturePath as string[]) : [];
  const alsoRegistry = opts.alsoRegistry === true;
  const offline = opts.offline === true;
  if (paths.length === 0) {
    if (alsoRegistry || offline)
      throw new VouchError('USAGE', `--${alsoRegistry ? 'also-registry' : 'offline'} needs --signature-path`);
    return undefined;
  }
  if (alsoRegistry && offline)
    throw new VouchError('USAGE', '--also-registry and --offline exclude each other');
  return { paths, alsoRegistry, offline };
}

export function register(program: Command): void {
  addTrustOptions(
    program
      .command('verify')
      .argument(
        '<reference>',
        'image reference (registry/repo:tag, …@sha256:…, oci:<dir>[:tag|@digest]) or a published list https://HOST/v1/applications/NS',
      )
      .description('verify the artifacts attached to an image against the trust policy')
      .option('-o, --output <format>', 'text or json', 'text')
      .option(
        '--ratify-config <file>',
        'Ratify config.json or v1beta1 CR YAML, instead of --config (repeatable)',
        collect,
        [],
      )
      .option('--timeout <ms>', 'deadline of the whole decision in milliseconds', (v) => Number(v))
      .option(
        '--signature-path <path>',
        "verify against these signature files (a file or a directory; repeatable) instead of the registry's",
        collect,
        [],
      )
      .option('--also-registry', "with --signature-path: the registry's signatures count too")
      .option(
        '--offline',
        'with --signature-path and IMAGE@sha256:…: contact no registry (the digest is taken as given)',
      )
      .option(
        '--public-key <file>',
        "with a published list's URL: vouch's public key (PEM) the list must be signed by (repeatable)",
        collect,
        [],
      )
      .option(
        '--max-age <duration>',
        "with a published list's URL: refuse a list issued longer ago (e.g. 10m, 1h)",
      ),
  ).action(async (reference: string, opts: Record<string, unknown>) => {
    const output = String(opts.output);
    if (output !== 'text' && output !== 'json')
      throw new VouchError('USAGE', `unknown output format "${output}" (text or json)`);
    if (isApplicationsUrl(reference)) {
      if (detachedOptions(opts))
        throw new VouchError('USAGE', '--signature-path goes with an image, not a published list URL');
      return verifyRemote(reference, opts);
    }
    if ((opts.publicKey as string[] | undefined)?.length)
      throw new VouchError(
        'USAGE',
        '--public-key goes with a published list URL (https://HOST/v1/applications/NS)',
      );
    const detached = detachedOptions(opts);
    // bad signature files are a usage error before anything is contacted
    const signatures = detached ? await readDetachedSignatures(detached.paths) : [];
    opts.config = await (await import('../import/runtime.js')).configFromRatify(opts, reference);
    const loaded = await composeConfig({
      ...(typeof opts.config === 'string' ? { configFile: opts.config } : {}),
      flags: trustFlagsFrom(opts),
    });
    const logger = createLogger({ level: process.env.VOUCH_LOG_LEVEL ?? 'warn' });
    const runtime = await buildRuntime(loaded.config, { baseDir: loaded.baseDir, logger });
    try {
      const timeoutMs =
        typeof opts.timeout === 'number' && opts.timeout > 0 ? opts.timeout : loaded.config.engine.timeoutMs;
      const signal = AbortSignal.timeout(timeoutMs);
      let decision: Decision;
      let files: DetachedRepository['files'] = [];
      if (detached) {
        const subject = await detachedSubject(runtime.engine, reference, detached, signatures, signal);
        const repository = createDetachedRepository({
          base: subject.repository,
          signatures,
          subjectDigest: subject.descriptor.digest,
          alsoRegistry: detached.alsoRegistry,
        });
        files = repository.files;
        decision = await runtime.engine.decideSubject(reference, { ...subject, repository }, { signal });
      } else {
        decision = await runtime.engine.decide(reference, { signal });
      }
      process.stdout.write(
        output === 'json'
          ? `${JSON.stringify({ ...decisionJson(decision), ...(detached ? { signatureFiles: files } : {}) }, null, 2)}\n`
          : decisionText(decision) + filesText(files),
      );
      process.exitCode = decision.allowed ? ExitCode.Allowed : exitForDenial(decision);
    } finally {
      await runtime.close();
    }
  });
}

/**
 * The image the signature files are checked against: resolved from its registry or layout, or,
 * `--offline`, taken from the digest the reference names (a layout is read, being local).
 */
async function detachedSubject(
  engine: Engine,
  reference: string,
  detached: DetachedOptions,
  signatures: Parameters<typeof offlineSubjectDescriptor>[1],
  signal: AbortSignal,
): Promise<Subject> {
  const ref = parseAnyReference(reference);
  if (!detached.offline || isLayoutReference(ref)) return engine.subject(reference, signal);
  if (!ref.digest) throw new VouchError('USAGE', `--offline needs the image's digest: ${reference}@sha256:…`);
  const name = subjectName(ref);
  return {
    name,
    reference: ref,
    descriptor: offlineSubjectDescriptor(ref.digest, signatures),
    repository: createOfflineRepository(name),
  };
}

function filesText(files: DetachedRepository['files']): string {
  if (files.length === 0) return '';
  return `signature files:\n${files.map((f) => `  ${f.digest}  ${f.path}\n`).join('')}`;
}
