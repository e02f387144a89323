/**
 * `vouch trust-refresh`: the opt-in TUF refresh of the cosign trusted root. vouch never contacts a
 * TUF mirror at start; run this (by hand, from a CronJob, or before copying the cache into an
 * air-gapped site) to update `<cacheDir>/trusted_root.json`, which `verifiers.cosign.tuf` loads.
 *   vouch trust-refresh --config vouch.yaml          (uses verifiers.cosign.tuf)
 *   vouch trust-refresh --mirror URL --cache-dir DIR [--initial-root root.json]
 */
import path from 'node:path';
import type { Command } from 'commander';
import { loadConfigFile } from '../config/load.js';
import { VouchError } from '../errors.js';
import { refreshTrustedRoot } from '../trust/cosign/tuf.js';

interface TrustRefreshOptions {
  config?: string;
  mirror?: string;
  cacheDir?: string;
  initialRoot?: string;
}

export function register(program: Command): void {
  program
    .command('trust-refresh')
    .description('refresh the cosign trusted_root.json from a TUF mirror into its cache directory')
    .option('--config <file>', 'vouch.yaml whose verifiers.cosign.tuf names the mirror and cache')
    .option('--mirror <url>', 'TUF mirror (e.g. https://tuf-repo-cdn.sigstore.dev)')
    .option('--cache-dir <dir>', 'where the TUF metadata and trusted_root.json are kept')
    .option('--initial-root <file>', "the mirror's initial root.json (not needed for sigstore's mirrors)")
    .action(async (opts: TrustRefreshOptions) => {
      let mirror = opts.mirror;
      let cacheDir = opts.cacheDir;
      let initialRoot = opts.initialRoot;
      if (opts.config) {
        const { config, baseDir } = await loadConfigFile(opts.config);
        const tuf = config.verifiers?.cosign?.tuf;
        if (!tuf) throw new VouchError('CONFIG_INVALID', `${opts.config}: verifiers.cosign.tuf is not set`);
        mirror ??= tuf.mirror;
        cacheDir ??= path.resolve(baseDir, tuf.cacheDir);
        initialRoot ??= tuf.initialRoot ? path.resolve(baseDir, tuf.initialRoot) : undefined;
      }
      if (!mirror || !cacheDir) throw new VouchError('USAGE', 'give --config, or --mirror and --cache-dir');
      const result = await refreshTrustedRoot({ mirror, cacheDir, ...(initialRoot ? { initialRoot } : {}) });
      process.stdout.write(`${result.updated ? 'updated' : 'unchanged'} ${result.path}\n`);
    });
}
