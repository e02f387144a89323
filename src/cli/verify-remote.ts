/**
 * `vouch verify https://HOST/v1/applications/NS`: remote application verification
 * (docs/remote-verification.md). Fetches the namespace's published list (size-limited, under the
 * deadline, no redirects), checks its DSSE envelope with the reader's copy of vouch's public key
 * (`--public-key`; without it, the key the same server publishes at /v1/keys, which only proves
 * the list came from that server), and then re-verifies every listed image from its registry under
 * the caller's own trust policy. The server's word is never taken for a result: the list supplies
 * image references only.
 *
 * Exit codes as `vouch verify`: 0 every image verified, 1 any image denied or the list refused,
 * 3 nothing denied but something could not be decided (or the list could not be fetched).
 */
import { readFile } from 'node:fs/promises';
import { request } from 'undici';
import { composeConfig } from '../config/compose.js';
import { parseDuration } from '../config/duration.js';
import { buildRuntime } from '../config/runtime.js';
import type { Decision } from '../engine/types.js';
import { VouchError } from '../errors.js';
import { createLogger } from '../observability/logger.js';
import { parseReference } from '../reference/parse.js';
import {
  type ApplicationsPayload,
  DSSE_ENVELOPE_MEDIA_TYPE,
  type PublishedImage,
  verifyApplications,
} from '../server/public/envelope.js';
import { type CosignPublicKey, parsePublicKey, pemBlocks } from '../verifiers/cosign/public-key.js';
import { decisionJson } from './decision-output.js';
import { ExitCode } from './io.js';
import { trustFlagsFrom } from './trust-options.js';

/** Largest list read (4 MiB: 10,000 images with their facts fit). */
const MAX_LIST_BYTES = 4 * 1024 * 1024;
/** Largest /v1/keys answer read. */
const MAX_KEYS_BYTES = 64 * 1024;
/** Clock difference tolerated between the server and the reader. */
const CLOCK_SKEW_MS = 5 * 60_000;
/** Images re-verified at once. */
const CONCURRENCY = 4;

const APPLICATIONS_PATH = /^\/v1\/applications\/([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)\/?$/;

/** True when `arg` names a published list rather than an image. */
export function isApplicationsUrl(arg: string): boolean {
  return /^https?:\/\//i.test(arg);
}

function parseListUrl(arg: string): { url: URL; namespace: string } {
  let url: URL;
  try {
    url = new URL(arg);
  } catch {
    throw new VouchError('USAGE', `not a URL: ${arg}`);
  }
  const m = APPLICATIONS_PATH.exec(url.pathname);
  if (!m || url.search || url.hash || url.username || url.password)
    throw new VouchError('USAGE', `expected https://HOST/v1/applications/<namespace>, got ${arg}`);
  return { url, namespace: m[1] as string };
}

/** GET with a deadline and a byte limit, following no redirect. */
async function fetchBounded(
  url: URL,
  accept: string,
  maxBytes: number,
  signal: AbortSignal,
): Promise<Buffer> {
  let res: Awaited<ReturnType<typeof request>>;
  try {
    // undici's request follows no redirect (that takes its redirect interceptor): a 3xx is an error here
    res = await request(url, { method: 'GET', headers: { accept }, signal });
  } catch (err) {
    if (signal.aborted)
      throw new VouchError('DEADLINE_EXCEEDED', `${url.href}: the deadline passed`, { cause: err });
    throw new VouchError('REGISTRY_UNREACHABLE', `${url.href}: ${(err as Error).message}`, { cause: err });
  }
  const declared = Number(res.headers['content-length'] ?? 0);
  if (res.statusCode !== 200 || declared > maxBytes) {
    await res.body.dump().catch(() => {});
    if (declared > maxBytes)
      throw new VouchError('CONTENT_TOO_LARGE', `${url.href}: ${declared} bytes is more than ${maxBytes}`);
    if (res.statusCode === 404)
      throw new VouchError('REGISTRY_NOT_FOUND', `${url.href}: nothing is published there (404)`);
    const transient = res.statusCode === 429 || res.statusCode >= 500;
    throw new VouchError(
      transient ? 'REGISTRY_ERROR' : 'REGISTRY_FORBIDDEN',
      `${url.href}: HTTP ${res.statusCode}`,
    );
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      res.body.destroy();
      throw new VouchError('CONTENT_TOO_LARGE', `${url.href}: more than ${maxBytes} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The keys the list must be signed by: `--public-key` files, or the server's own /v1/keys. */
async function listKeys(
  files: readonly string[],
  url: URL,
  signal: AbortSignal,
): Promise<{ keys: CosignPublicKey[]; pinned: boolean }> {
  if (files.length > 0) {
    const keys: CosignPublicKey[] = [];
    for (const file of files) {
      const text = await readFile(file, 'utf8').catch((err) => {
        throw new VouchError('USAGE', `--public-key ${file}: ${(err as Error).message}`);
      });
      for (const block of pemBlocks(text, 'PUBLIC KEY')) keys.push(parsePublicKey(block, file));
      if (keys.length === 0) throw new VouchError('USAGE', `--public-key ${file}: no PEM public key in it`);
    }
    return { keys, pinned: true };
  }
  const bytes = await fetchBounded(new URL('/v1/keys', url), 'application/json', MAX_KEYS_BYTES, signal);
  let doc: { keys?: Array<{ publicKey?: unknown }> };
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new VouchError('MANIFEST_INVALID', `${url.origin}/v1/keys is not JSON`);
  }
  const keys = (doc.keys ?? [])
    .slice(0, 16)
    .filter((k) => typeof k.publicKey === 'string')
    .map((k) => parsePublicKey(k.publicKey as string, `${url.origin}/v1/keys`));
  return { keys, pinned: false };
}

/** A listed image as a reference to re-verify: `name@digest`, refused unless it parses so. */
function referenceOf(image: PublishedImage): string | undefined {
  try {
    const ref = parseReference(`${image.name}@${image.digest}`);
    return ref.digest === image.digest ? `${image.name}@${image.digest}` : undefined;
  } catch {
    return undefined;
  }
}

interface ImageResult {
  readonly image: PublishedImage;
  readonly verdict: 'verified' | 'denied' | 'inconclusive';
  readonly decision?: Decision;
  readonly message: string;
}

function verdictOf(d: Decision): ImageResult['verdict'] {
  if (d.allowed && d.verified) return 'verified';
  const failing = d.reports.filter((r) => r.outcome !== 'verified' && r.verifier !== 'none');
  const onlyInconclusive = failing.length > 0 && failing.every((r) => r.outcome === 'inconclusive');
  return onlyInconclusive && !d.reports.some((r) => r.outcome === 'verified') ? 'inconclusive' : 'denied';
}

export interface VerifyRemoteOptions extends Record<string, unknown> {
  readonly publicKey?: string[];
  readonly output?: string;
  readonly timeout?: number;
  readonly config?: string;
  readonly maxAge?: string;
}

/** Runs the remote verification; sets process.exitCode. */
export async function verifyRemote(arg: string, opts: VerifyRemoteOptions): Promise<void> {
  const { url, namespace } = parseListUrl(arg);
  const output = String(opts.output ?? 'text');
  let maxAgeMs: number | undefined;
  try {
    maxAgeMs = opts.maxAge === undefined ? undefined : parseDuration(String(opts.maxAge), '--max-age');
  } catch (err) {
    throw new VouchError('USAGE', (err as Error).message);
  }
  if (url.protocol === 'http:')
    process.stderr.write(
      `vouch: WARNING: ${url.origin} is plain HTTP; only the list's signature protects it\n`,
    );
  const loaded = await composeConfig({
    ...(typeof opts.config === 'string' ? { configFile: opts.config } : {}),
    flags: trustFlagsFrom(opts as Parameters<typeof trustFlagsFrom>[0]),
  });
  const timeoutMs =
    typeof opts.timeout === 'number' && opts.timeout > 0 ? opts.timeout : loaded.config.engine.timeoutMs;
  const signal = AbortSignal.timeout(timeoutMs);
  const { keys, pinned } = await listKeys(opts.publicKey ?? [], url, signal);
  if (!pinned)
    process.stderr.write(
      `vouch: WARNING: no --public-key: the list is checked with the key ${url.origin} itself serves, which proves only that it came from that server\n`,
    );
  const bytes = await fetchBounded(
    url,
    `${DSSE_ENVELOPE_MEDIA_TYPE}, application/json`,
    MAX_LIST_BYTES,
    signal,
  );
  const checked = verifyApplications(bytes, keys);
  if (!checked.ok) return refuse(output, arg, checked.reason, checked.message);
  const payload = checked.payload;
  if (payload.namespace !== namespace)
    return refuse(
      output,
      arg,
      'namespace-mismatch',
      `the list is for namespace ${payload.namespace}, not ${namespace}`,
    );
  const issued = Date.parse(payload.issuedAt);
  if (!Number.isFinite(issued) || issued > Date.now() + CLOCK_SKEW_MS)
    return refuse(
      output,
      arg,
      'issued-in-future',
      `the list was issued at ${payload.issuedAt}, in the future`,
    );
  if (maxAgeMs !== undefined && Date.now() - issued > maxAgeMs) {
    const why = `the list was issued at ${payload.issuedAt}, longer ago than --max-age ${String(opts.maxAge)}`;
    return refuse(output, arg, 'list-too-old', why);
  }

  const logger = createLogger({ level: process.env.VOUCH_LOG_LEVEL ?? 'warn' });
  const runtime = await buildRuntime(loaded.config, { baseDir: loaded.baseDir, logger });
  let results: ImageResult[];
  try {
    results = await reverify(payload, runtime.engine, signal);
  } finally {
    await runtime.close();
  }
  print(output, arg, payload, checked.keyId, pinned, results);
  process.exitCode =
    results.length === 0
      ? ExitCode.Denied
      : results.some((r) => r.verdict === 'denied')
        ? ExitCode.Denied
        : results.some((r) => r.verdict === 'inconclusive')
          ? ExitCode.Incomplete
          : ExitCode.Allowed;
}

async function reverify(
  payload: ApplicationsPayload,
  engine: { decide(reference: string, options: { signal: AbortSignal }): Promise<Decision> },
  signal: AbortSignal,
): Promise<ImageResult[]> {
  const results: ImageResult[] = new Array(payload.images.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < payload.images.length; i = next++) {
      const image = payload.images[i] as PublishedImage;
      const reference = referenceOf(image);
      if (!reference) {
        results[i] = {
          image,
          verdict: 'denied',
          message: `not a digest reference: ${image.name}@${image.digest}`,
        };
        continue;
      }
      try {
        const decision = await engine.decide(reference, { signal });
        const verdict = decision.subject.digest !== image.digest ? 'denied' : verdictOf(decision);
        results[i] = { image, verdict, decision, message: decision.why[0] ?? '' };
      } catch (err) {
        const e = err instanceof VouchError ? err : new VouchError('INTERNAL', String(err));
        results[i] = { image, verdict: 'inconclusive', message: `${e.code}: ${e.message}` };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, payload.images.length) }, worker));
  return results;
}

function refuse(output: string, source: string, reason: string, message: string): void {
  if (output === 'json')
    process.stdout.write(`${JSON.stringify({ source, accepted: false, reason, message }, null, 2)}\n`);
  else process.stdout.write(`REFUSED  ${source}\n  ${reason}: ${message}\n`);
  process.exitCode = ExitCode.Denied;
}

const MARK = { verified: 'VERIFIED', denied: 'DENIED', inconclusive: 'INCONCLUSIVE' } as const;

function print(
  output: string,
  source: string,
  payload: ApplicationsPayload,
  keyId: string,
  pinned: boolean,
  results: readonly ImageResult[],
): void {
  if (output === 'json') {
    const doc = {
      source,
      accepted: true,
      namespace: payload.namespace,
      issuedAt: payload.issuedAt,
      signedBy: { keyId, pinned },
      verified: results.length > 0 && results.every((r) => r.verdict === 'verified'),
      images: results.map((r) => ({
        container: r.image.container,
        reference: `${r.image.name}@${r.image.digest}`,
        result: r.verdict,
        message: r.message,
        ...(r.decision ? { decision: decisionJson(r.decision) } : {}),
      })),
    };
    process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
    return;
  }
  const lines = [
    `list     ${source}`,
    `signed   ${keyId}${pinned ? '' : ' (key served by the same server: not independently trusted)'}`,
    `issued   ${payload.issuedAt}, ${payload.images.length} image(s); each re-verified under your policy:`,
  ];
  for (const r of results) {
    lines.push(
      `${MARK[r.verdict].padEnd(12)} ${r.image.container || '-'}  ${r.image.name}@${r.image.digest}`,
    );
    if (r.verdict !== 'verified' && r.message) lines.push(`             ${r.message}`);
  }
  const verified = results.filter((r) => r.verdict === 'verified').length;
  lines.push(`${verified} of ${results.length} image(s) verified`);
  process.stdout.write(`${lines.join('\n')}\n`);
}
