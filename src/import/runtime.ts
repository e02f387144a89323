/**
 * `vouch verify --ratify-config FILE…` and `vouch serve --ratify-config FILE…`: Ratify's
 * config.json or v1beta1 resources read as they are. They are imported (ratify.ts) into a private
 * temporary folder — a vouch.yaml and the inline certificates and keys it names — which the one
 * config loader then reads like any other; anything vouch cannot express is an error naming it.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { VouchError } from '../errors.js';
import { parseAnyReference } from '../reference/parse.js';
import { importRatify } from './ratify.js';
import { readRatifyFiles } from './ratify-read.js';
import { writeImport } from './render.js';
import { unsupportedError } from './result.js';

interface RatifyOptions {
  ratifyConfig?: unknown;
  config?: unknown;
}

/** The sigstore TUF cache a Ratify config's keyless or Rekor checks use (`vouch trust-refresh` fills it). */
export function defaultTufCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache');
  return path.join(base, 'vouch', 'sigstore-tuf');
}

/**
 * The vouch.yaml to load: `opts.config` as given, or, with `--ratify-config`, the imported Ratify
 * configuration. `reference` (verify's image) names the host Ratify's `useHttp` reaches over HTTP.
 */
export async function configFromRatify(
  opts: RatifyOptions,
  reference?: string,
  tufCacheDir = defaultTufCacheDir(),
): Promise<string | undefined> {
  const files = Array.isArray(opts.ratifyConfig) ? (opts.ratifyConfig as string[]) : [];
  if (files.length === 0) return typeof opts.config === 'string' ? opts.config : undefined;
  if (typeof opts.config === 'string')
    throw new VouchError('USAGE', '--config and --ratify-config exclude each other');
  let host: string | undefined;
  try {
    const ref = reference === undefined ? undefined : parseAnyReference(reference);
    host = ref && 'registry' in ref ? String(ref.registry) : undefined;
  } catch {
    host = undefined; // verify reports the bad reference itself
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'vouch-ratify-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const result = importRatify(
    await readRatifyFiles(files),
    { outDir: dir, tufCacheDir, ...(host ? { insecureHosts: [host] } : {}) },
    files.join(', '),
  );
  if (result.unsupported.length > 0) throw unsupportedError(files.join(', '), result.unsupported);
  const tuf = (
    result.config.verifiers as { cosign?: { tuf?: { mirror: string; cacheDir: string } } } | undefined
  )?.cosign?.tuf;
  if (tuf && !existsSync(path.join(tuf.cacheDir, 'trusted_root.json')))
    throw new VouchError(
      'CONFIG_INVALID',
      `${files.join(', ')}: keyless and Rekor checks need the sigstore trusted root: run \`vouch trust-refresh --mirror ${tuf.mirror} --cache-dir ${tuf.cacheDir}\` once`,
    );
  for (const w of result.warnings) process.stderr.write(`vouch: warning: ${w}\n`);
  const file = path.join(dir, 'vouch.yaml');
  await writeImport(result, file);
  return file;
}
