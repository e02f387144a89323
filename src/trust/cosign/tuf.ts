/**
 * Opt-in TUF refresh of the sigstore trusted root (`verifiers.cosign.tuf: { mirror, cacheDir }`).
 * vouch never contacts a mirror at start: loading reads `<cacheDir>/trusted_root.json` (load.ts),
 * and only this refresh, when asked for (`vouch trust refresh`, or a caller's schedule), talks to
 * the mirror. Air-gapped installs copy a refreshed cacheDir in.
 *
 * The TUF client is `@sigstore/tuf` (tuf-js; TUF specification v1.0 §5 client workflow: root
 * rotation, timestamp, snapshot, targets, each signature- and version-checked, with tuf-js's
 * per-role size limits), whose metadata cache lives in `<cacheDir>/<mirror host+path>/`. The
 * `trusted_root.json` target it returns (hash- and length-checked against targets metadata) is
 * validated by vouch's own trusted-root rules before it replaces the cached copy, atomically; a
 * failed refresh leaves the previous copy in place.
 *
 * A mirror other than the public sigstore ones (whose initial root.json ships with @sigstore/tuf)
 * needs its initial `root.json` (`tuf.initialRoot`), the trust anchor TUF starts from.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { initTUF, TUFError } from '@sigstore/tuf';
import { VouchError } from '../../errors.js';
import { parseTrustedRoot } from './trusted-root.js';

/** The TUF target sigstore publishes its trusted root as. */
export const TRUSTED_ROOT_TARGET = 'trusted_root.json';
/** Deadline of each mirror request. */
export const TUF_FETCH_TIMEOUT_MS = 10_000;

export interface TufRefreshOptions {
  /** Mirror base URL (metadata at `<mirror>/N.root.json`, `timestamp.json`…, targets under `/targets`). */
  readonly mirror: string;
  /** Where the TUF metadata and the refreshed `trusted_root.json` are kept. */
  readonly cacheDir: string;
  /** The mirror's initial root.json (not needed for the public sigstore mirrors). */
  readonly initialRoot?: string;
  readonly timeoutMs?: number;
}

export interface TufRefreshResult {
  /** `<cacheDir>/trusted_root.json`. */
  readonly path: string;
  /** False when the mirror's trusted root equals the cached copy. */
  readonly updated: boolean;
}

/** The cached trusted root path for a cacheDir (what load.ts reads). */
export function cachedTrustedRootPath(cacheDir: string): string {
  return path.join(cacheDir, TRUSTED_ROOT_TARGET);
}

/** Refreshes the trusted root from the mirror into `cacheDir`; throws VouchError, keeping the old copy. */
export async function refreshTrustedRoot(options: TufRefreshOptions): Promise<TufRefreshResult> {
  let mirror: URL;
  try {
    mirror = new URL(options.mirror);
  } catch {
    throw new VouchError('CONFIG_INVALID', `tuf.mirror ${options.mirror} is not a URL`);
  }
  const loopback = ['127.0.0.1', '[::1]', 'localhost'].includes(mirror.hostname);
  if (mirror.protocol !== 'https:' && !(mirror.protocol === 'http:' && loopback)) {
    throw new VouchError(
      'CONFIG_INVALID',
      `tuf.mirror must be https (http only on loopback): ${options.mirror}`,
    );
  }
  await mkdir(options.cacheDir, { recursive: true });
  let text: string;
  try {
    const tuf = await initTUF({
      mirrorURL: mirror.href.replace(/\/$/, ''),
      cachePath: options.cacheDir,
      ...(options.initialRoot ? { rootPath: options.initialRoot } : {}),
      timeout: options.timeoutMs ?? TUF_FETCH_TIMEOUT_MS,
      retry: { retries: 1 },
    });
    text = await tuf.getTarget(TRUSTED_ROOT_TARGET);
  } catch (err) {
    const code = err instanceof TUFError ? err.code : 'TUF_ERROR';
    const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
    const message = err instanceof Error ? err.message : String(err);
    throw new VouchError(
      'TRUST_MATERIAL_INVALID',
      `TUF refresh from ${options.mirror} failed (${code}): ${message}${cause}`.slice(0, 500),
      { cause: err },
    );
  }
  const target = cachedTrustedRootPath(options.cacheDir);
  parseTrustedRoot(text, `${options.mirror} ${TRUSTED_ROOT_TARGET}`);
  const previous = await readFile(target, 'utf8').catch(() => undefined);
  if (previous === text) return { path: target, updated: false };
  const temporary = `${target}.${process.pid}.tmp`;
  await writeFile(temporary, text, { mode: 0o644 });
  await rename(temporary, target);
  return { path: target, updated: true };
}
